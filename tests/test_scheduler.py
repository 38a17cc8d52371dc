"""A real scheduler process on second-scale intervals against the loopback demo site."""

from __future__ import annotations

import time

from sqlalchemy import select

from archive import lease
from archive.db import Database
from archive.models import CrawlRun, FrontierURL, Source
from archive.sources import add_source, set_enabled
from scheduling_helpers import counts, feed_with, start_scheduler, stop, wait_for

RSS = "application/rss+xml; charset=utf-8"


def add_feed(db, url, every=1) -> int:
    with db.transaction() as session:
        return add_source(session, url, every=every)[0].id


def source(db, source_id) -> Source:
    with db.session() as session:
        return session.get(Source, source_id)


def feed_requests(server):
    return [r for r in server.requests if r.path.startswith("/feed.xml")]


def serve_feed(site, db, body: str, **page) -> int:
    """The site's feed answers ``body`` (and ``page``: status, content_type); registered, polled every second."""
    site.set_page("/feed.xml", body, **page)
    return add_feed(db, site.url("/feed.xml"))


def test_new_items_archived_on_next_poll_unchanged_feed_answered_304(site, sqlite_url, tmp_path):
    db = Database(sqlite_url)
    log = tmp_path / "scheduler.log"
    serve_feed(site, db, feed_with(3), content_type=RSS)
    proc = start_scheduler(sqlite_url, log)
    try:
        wait_for(lambda: counts(db) == (3, 3), 30, what="the first 3 articles")
        wait_for(lambda: any(r.status == 304 for r in feed_requests(site)), 20, what="a 304")
        site.set_page("/feed.xml", feed_with(4), content_type=RSS)
        wait_for(lambda: counts(db) == (4, 4), 30, what="the new article")
    finally:
        status = stop(proc)
    text = log.read_text()
    assert status == 0, text
    assert counts(db) == (4, 4)  # each article once, one revision each
    with db.session() as session:
        states = set(session.scalars(select(FrontierURL.state)))
        assert states == {"done"}
        assert not list(session.scalars(select(CrawlRun).where(CrawlRun.status == "running")))
    assert lease.current(db) is None  # released on SIGTERM
    assert "[scheduler] INFO: source 1: ok, 3 new, next poll" in text and "source 1: ok, not modified" in text
    assert "SIGTERM received" in text
    with db.session() as session:  # one engine took every poll: one run, the scheduler's, closed ok
        assert [(r.role, r.status) for r in session.scalars(select(CrawlRun))] == [("schedule", "ok")]
    db.dispose()


def test_failing_source_backs_off_and_recovers(site, sqlite_url, tmp_path):
    db = Database(sqlite_url)
    log = tmp_path / "scheduler.log"
    sid = serve_feed(site, db, "upstream broke", status=500)
    proc = start_scheduler(sqlite_url, log)
    try:
        wait_for(lambda: source(db, sid).consecutive_failures >= 3, 40, what="3 failed polls")
        failing = source(db, sid)
        times = [r.time for r in feed_requests(site)]
        site.set_page("/feed.xml", feed_with(2), content_type=RSS)
        wait_for(lambda: counts(db) == (2, 2), 30, what="recovery")
        recovered = source(db, sid)
    finally:
        status = stop(proc)
    assert status == 0, log.read_text()
    assert failing.failure_score >= 1.5 and failing.last_error == "HTTP 500" and failing.enabled
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[1] > gaps[0]  # 1 s, then 2 s (+-20%) of backoff between polls
    assert recovered.failure_score == 0 and recovered.consecutive_failures == 0 and recovered.enabled
    db.dispose()


def test_source_disabled_after_failures_and_enabled_again_while_running(site, sqlite_url, tmp_path):
    db = Database(sqlite_url)
    log = tmp_path / "scheduler.log"
    sid = serve_feed(site, db, "gone", status=404)
    proc = start_scheduler(sqlite_url, log, settings={"NEWSARCHIVE_DISABLE_SCORE": "2",
                                                      "NEWSARCHIVE_DISABLE_AFTER_SECONDS": "0"})
    try:
        wait_for(lambda: not source(db, sid).enabled, 30, what="the source to be disabled")
        wait_for(lambda: f"disabled {source(db, sid).disabled_reason[9:30]}" in log.read_text(), 10,
                 what="the disable logged")
        time.sleep(2)  # polls every second were it still scheduled
        polls = len(feed_requests(site))
        site.set_page("/feed.xml", feed_with(1), content_type=RSS)
        with db.transaction() as session:
            set_enabled(session, str(sid), True)
        wait_for(lambda: counts(db) == (1, 1), 30, what="the re-enabled source's article")
    finally:
        status = stop(proc)
    assert status == 0, log.read_text()
    assert polls == 2  # disabled after 2 hard failures, then left alone until enabled
    assert source(db, sid).disabled_reason is None
    db.dispose()
