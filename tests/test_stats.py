"""`newsarchive stats`: sources' health, recent runs (abandoned ones too), blocked fetches, counts."""

from __future__ import annotations

import json
import os
from datetime import timedelta

from sqlalchemy import select

from archive import lease, runs
from archive.models import BlockedFetch, CrawlRun, Source, utcnow
from archive.sources import add_source
from archive.store import ArticleFields, Page, save_article
from crawler.processes import pid_alive
from newsarchive.cli import main

TEXT = ("Le conseil municipal a voté mardi soir le budget de la ville pour l’année prochaine, "
        "après un long débat sur les transports et les écoles. ") * 4


def populate(db) -> None:
    now = utcnow()
    with db.transaction() as session:
        ok, _ = add_source(session, "https://ok.example/feed", every=1800)
        ok.poll_seconds, ok.last_success_at, ok.next_poll_at = 2700, now, now + timedelta(seconds=2700)
        failing, _ = add_source(session, "https://failing.example/feed")
        failing.failure_score, failing.consecutive_failures = 1.5, 3
        failing.last_error, failing.last_error_at = "HTTP 503", now
        dead, _ = add_source(session, "https://dead.example/feed")
        dead.enabled, dead.disabled_reason = False, "disabled after 20 failed polls over 3.2 days; last error: HTTP 410"
        ok_id = ok.id
    for i in range(3):
        page = Page(url=f"https://ok.example/a{i}", status=200, headers=[], body=b"<html></html>")
        save_article(db, page, ArticleFields(text=f"{TEXT} Article {i}: {'x' * i}", title=f"A{i}"), source_id=ok_id)
    with db.transaction() as session:
        session.add(CrawlRun(source_id=ok_id, status="ok", pid=1, finished_at=now, requests=8, new_articles=3,
                             dropped=json.dumps({"EmptyBody": 1})))
        session.add(CrawlRun(source_id=ok_id, status="running", pid=2 ** 22 + 12345))  # no such process
        session.add(CrawlRun(source_id=ok_id, status="running", pid=os.getpid()))  # alive: still running
        for url, site, reason in [("https://ok.example/x", "ok.example", "consent"),
                                  ("https://ok.example/y", "ok.example", "consent"),
                                  ("https://paywall.example/z", "paywall.example", "login")]:
            session.add(BlockedFetch(url=url, site=site, reason=reason, status=200))
    lease.acquire(db, "host:1:abc", ttl=60)


def test_stats_json(db, db_url, capsys):
    populate(db)
    assert main(["--db", db_url, "stats", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    sources = {s["url"]: s for s in report["sources"]}
    ok = sources["https://ok.example/feed"]
    assert ok["state"] == "ok" and ok["articles_7d"] == 3 and ok["articles_per_day"] == 0.4
    assert ok["poll_every"] == "45m" and ok["next_poll"] and ok["last_success"]
    failing = sources["https://failing.example/feed"]
    assert failing["state"] == "failing" and failing["failure_score"] == 1.5 and failing["last_error"] == "HTTP 503"
    dead = sources["https://dead.example/feed"]
    assert dead["state"] == "disabled" and "HTTP 410" in dead["disabled_reason"]
    assert [r["status"] for r in report["runs"]] == ["running", "abandoned", "ok"]
    assert report["runs"][2]["dropped"] == {"EmptyBody": 1}
    assert report["blocked"][0] == {**report["blocked"][0], "site": "ok.example", "reason": "consent", "count": 2}
    assert report["archive"]["articles"] == 3 and report["archive"]["revisions"] == 3
    assert report["scheduler"]["holder"] == "host:1:abc" and report["scheduler"]["alive"]


def test_stats_table(db, db_url, capsys):
    populate(db)
    assert main(["--db", db_url, "stats"]) == 0
    out = capsys.readouterr().out
    for heading in ("sources (3)", "recent runs (3)", "blocked fetches (3)", "archive", "scheduler: host:1:abc"):
        assert heading in out
    assert "abandoned" in out and "disabled after 20 failed polls" in out
    assert "sources enable https://dead.example/feed" in out


def test_abandoned_runs_are_closed(db):
    populate(db)
    closed = runs.abandon_dead_runs(db, alive=pid_alive)
    assert len(closed) == 1
    with db.session() as session:
        run = session.get(CrawlRun, closed[0])
        assert run.status == "abandoned" and run.finished_at is not None


def test_stats_on_an_empty_archive(sqlite_url, capsys):
    assert main(["--db", sqlite_url, "stats"]) == 0
    out = capsys.readouterr().out
    assert "sources (0)" in out and "scheduler: none running" in out


def test_stats_shows_how_late_polls_start_and_flags_overdue_sources(db, db_url, capsys):
    populate(db)
    assert main(["--db", db_url, "stats"]) == 0
    assert " late " not in capsys.readouterr().out  # no scheduler has recorded lateness yet
    now = utcnow()
    with db.transaction() as session:
        ok, failing, _ = session.scalars(select(Source).order_by(Source.id)).all()
        ok.last_poll_late_seconds = 4.2
        failing.last_poll_late_seconds, failing.next_poll_at = 95.0, now - timedelta(seconds=1801 * 2)
    assert main(["--db", db_url, "stats", "--json"]) == 0
    sources = {s["url"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    assert sources["https://ok.example/feed"]["late_seconds"] == 4.2
    assert not sources["https://ok.example/feed"]["overdue"]
    assert sources["https://failing.example/feed"]["overdue"]  # due for two intervals
    assert not sources["https://dead.example/feed"]["overdue"]  # disabled: not due at all
    assert main(["--db", db_url, "stats"]) == 0
    rows = {line.split()[-1]: line for line in capsys.readouterr().out.splitlines() if "example/feed" in line}
    assert "OVERDUE" in rows["https://failing.example/feed"] and "95s" in rows["https://failing.example/feed"]
    assert "OVERDUE" not in rows["https://ok.example/feed"]


def test_a_run_closed_with_its_figures_says_what_failed_even_when_no_heartbeat_went_through(db):
    """The engine's last heartbeat can fail (a full disk) while the close goes through: the close
    then records the figures from memory, and a crawl whose writes failed is never 'ok'."""
    run_id = runs.start_run(db)
    figures = {"downloader/request_count": 12, "newsarchive/articles/new": 4, "newsarchive/errors": 3,
               "newsarchive/archive_failures": 3, "finish_reason": "finished"}
    runs.close_run(db, run_id, status="ok", stats=figures)
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
        assert (run.status, run.requests, run.new_articles, run.errors) == ("partial", 12, 4, 3)
        assert run.error == "3 write(s) to the archive failed"
    nothing_archived = runs.start_run(db)
    runs.close_run(db, nothing_archived, status="ok", stats={"newsarchive/errors": 2,
                                                              "newsarchive/archive_failures": 2})
    with db.session() as session:
        assert session.get(CrawlRun, nothing_archived).status == "failed"
