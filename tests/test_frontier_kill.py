"""SIGKILL a crawl after its feed was parsed: the next run archives every article exactly once."""

from __future__ import annotations

import json
import os
import re
import signal

from sqlalchemy import func, select

from archive import runs
from archive.db import Database
from archive.models import Alias, Article, CrawlRun, FrontierURL
from archive.sources import add_source
from crawler.processes import pid_alive
from newsarchive.cli import main
from scheduling_helpers import FAST_CRAWL, ITEMS, counts, feed_with, wait_for
from tests.clirun import start_crawl

RSS = "application/rss+xml; charset=utf-8"
ARTICLE_PATHS = [re.search(r"<link>\{\{base\}\}([^?<]+)", item).group(1) for item in ITEMS]


ONE_AT_A_TIME = {**FAST_CRAWL, "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}


def frontier_states(db) -> dict[str, int]:
    with db.session() as session:
        return dict(session.execute(select(FrontierURL.state, func.count()).group_by(FrontierURL.state)).all())


def test_sigkill_mid_crawl_then_restart_archives_every_article_once(site, sqlite_url, tmp_path, capsys):
    db = Database(sqlite_url)
    log = tmp_path / "crawl.log"
    site.set_page("/feed.xml", feed_with(6), content_type=RSS)
    for path in ARTICLE_PATHS[2:]:
        site.set_delay(path, 30)  # the crawl stalls after two articles
    with db.transaction() as session:
        sid = add_source(session, site.url("/feed.xml"))[0].id
    proc = start_crawl(sqlite_url, str(sid), log=log, settings=ONE_AT_A_TIME)
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
        site.set_delay(path, 0)
    site.clear_requests()
    second = start_crawl(sqlite_url, str(sid), log=log, settings=ONE_AT_A_TIME)
    assert second.wait(timeout=60) == 0, log.read_text()
    feed_statuses = [r.status for r in site.requests if r.path.startswith("/feed.xml")]
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
