"""SIGKILL a crawl after its feed was parsed: the next run archives every article exactly once."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

from sqlalchemy import func, select

from archive import runs
from archive.db import Database
from archive.models import Alias, Article, CrawlRun, FrontierURL
from archive.sources import add_source
from crawler.processes import pid_alive
from newsarchive.cli import main
from newsarchive.demo.server import DemoServer
from scheduling_helpers import FAST_CRAWL, ITEMS, ROOT, counts, feed_with, wait_for

RSS = "application/rss+xml; charset=utf-8"
ARTICLE_PATHS = [re.search(r"<link>\{\{base\}\}([^?<]+)", item).group(1) for item in ITEMS]


def crawl(db_url: str, source_id: int, log) -> subprocess.Popen:
    argv = [sys.executable, "-m", "newsarchive", "--db", db_url, "crawl", str(source_id),
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    for name, value in FAST_CRAWL.items():
        argv += ["-s", f"{name}={value}"]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("ab"),
                            env=dict(os.environ, NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS="1"), start_new_session=True)


def frontier_states(db) -> dict[str, int]:
    with db.session() as session:
        return dict(session.execute(select(FrontierURL.state, func.count()).group_by(FrontierURL.state)).all())


def test_sigkill_mid_crawl_then_restart_archives_every_article_once(sqlite_url, tmp_path, capsys):
    db = Database(sqlite_url)
    log = tmp_path / "crawl.log"
    with DemoServer() as server:
        server.set_page("/feed.xml", feed_with(6), content_type=RSS)
        for path in ARTICLE_PATHS[2:]:
            server.set_delay(path, 30)  # the crawl stalls after two articles
        with db.transaction() as session:
            sid = add_source(session, server.url("/feed.xml"))[0].id
        proc = crawl(sqlite_url, sid, log)
        try:
            wait_for(lambda: frontier_states(db).get("done", 0) == 2 and counts(db)[0] == 2, 30,
                     what="two articles archived")
            assert frontier_states(db) == {"done": 2, "pending": 4}
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        with db.session() as session:
            killed = session.scalars(select(CrawlRun)).one()
            assert killed.status == "running" and runs.shown_status(killed, alive=pid_alive) == "abandoned"
        assert main(["--db", sqlite_url, "stats", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["runs"][0]["status"] == "abandoned" and report["archive"]["frontier_pending"] == 4

        for path in ARTICLE_PATHS:
            server.set_delay(path, 0)
        server.clear_requests()
        second = crawl(sqlite_url, sid, log)
        assert second.wait(timeout=60) == 0, log.read_text()
        feed_statuses = [r.status for r in server.requests if r.path.startswith("/feed.xml")]
    assert feed_statuses == [304]  # the feed had been recorded: the 4 came from the frontier
    assert counts(db) == (6, 6)
    assert frontier_states(db) == {"done": 6}
    with db.session() as session:
        urls = list(session.scalars(select(Article.canonical_url)))
        assert len(urls) == len(set(urls)) == 6
        assert session.scalar(select(func.count(Alias.id))) == 6
        last = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert last.status == "ok" and last.new_articles == 4
    assert runs.abandon_dead_runs(db, alive=pid_alive) == [killed.id]  # what a starting scheduler does
    db.dispose()
