"""The scheduler's one long-running engine, as a real process against loopback feeds: many
sources registered at once are all polled (none dropped), a poll over its time limit is
cancelled and recorded, SIGTERM with a poll in flight ends in bounded time, and the memory
limit ends the process with the status a service manager restarts on."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from archive import lease
from archive.db import Database
from archive.models import CrawlRun, Source
from archive.sources import add_sources
from scheduling_helpers import feed_with, start_scheduler, stop, wait_for

RSS = "application/rss+xml; charset=utf-8"


def register(db, urls: list[str], every: int = 1800) -> None:
    with db.transaction() as session:
        add_sources(session, urls, every=every)


def polled(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(Source.id)).where(Source.last_polled_at.is_not(None)))


def runs(db) -> list[tuple[str, str, str | None]]:
    with db.session() as session:
        return [(r.role, r.status, r.error) for r in session.scalars(select(CrawlRun))]


def test_two_hundred_sources_registered_at_once_are_all_polled_none_dropped(site, sqlite_url, tmp_path):
    db = Database(sqlite_url)
    log = tmp_path / "scheduler.log"
    urls = []
    for i in range(200):
        site.set_page(f"/feeds/{i}.xml", feed_with(0), content_type=RSS)
        urls.append(site.url(f"/feeds/{i}.xml"))
    register(db, urls)
    proc = start_scheduler(sqlite_url, log, "--workers", "8")
    try:
        wait_for(lambda: polled(db) == 200, 90, interval=0.5, what="every source polled once")
    finally:
        status = stop(proc)
    assert status == 0, log.read_text()[-3000:]
    with db.session() as session:
        sources = list(session.scalars(select(Source)))
    assert all(s.last_success_at is not None and s.last_poll_late_seconds is not None for s in sources)
    assert all(s.next_poll_at > s.last_polled_at for s in sources)  # each waits its interval now
    feed_hits = [r for r in site.requests if r.path.startswith("/feeds/")]
    assert len(feed_hits) == 200  # each polled exactly once: none twice, none dropped
    assert sum(1 for r in site.requests if r.path == "/robots.txt") == 1  # cached by the one crawler
    db.dispose()


def test_a_poll_over_its_time_limit_is_cancelled_and_recorded_the_others_go_on(site, sqlite_url, tmp_path):
    db = Database(sqlite_url)
    log = tmp_path / "scheduler.log"
    site.set_page("/slow.xml", feed_with(1), content_type=RSS)
    site.set_delay("/slow.xml", 20)
    site.set_page("/quick.xml", feed_with(1), content_type=RSS)
    register(db, [site.url("/slow.xml"), site.url("/quick.xml")], every=60)
    proc = start_scheduler(sqlite_url, log, "--timeout", "2s")
    started = time.monotonic()
    try:
        wait_for(lambda: _source(db, "/slow.xml").last_error, 15, what="the slow poll recorded as failed")
        elapsed = time.monotonic() - started
        slow, quick = _source(db, "/slow.xml"), _source(db, "/quick.xml")
    finally:
        status = stop(proc)
    assert status == 0, log.read_text()[-3000:]
    assert elapsed < 12  # the time limit, not the 20 s the server takes
    assert slow.last_error == "poll timed out after 2 s" and slow.consecutive_failures == 1
    assert quick.last_success_at is not None and quick.last_error is None
    assert "poll of " in log.read_text() and "cancelled" in log.read_text()
    db.dispose()


def test_sigterm_with_a_poll_in_flight_ends_in_bounded_time_and_releases_everything(site, sqlite_url, tmp_path):
    db = Database(sqlite_url)
    log = tmp_path / "scheduler.log"
    site.set_page("/hang.xml", feed_with(1), content_type=RSS)
    site.set_delay("/hang.xml", 60)
    register(db, [site.url("/hang.xml")])
    proc = start_scheduler(sqlite_url, log, "--stop-grace", "3s")
    try:
        wait_for(lambda: _source(db, "/hang.xml").last_poll_late_seconds is not None, 20, what="the poll taken")
        time.sleep(1)  # its request is in the downloader, its answer 60 s away
    finally:
        started = time.monotonic()
        status = stop(proc, timeout=20)
    assert time.monotonic() - started < 10
    assert status == 0, log.read_text()[-3000:]
    assert lease.current(db) is None
    assert [(role, state) for role, state, _ in runs(db)] == [("schedule", "ok")]
    db.dispose()


def test_the_memory_limit_ends_the_scheduler_with_status_3(site, sqlite_url, tmp_path):
    db = Database(sqlite_url)
    log = tmp_path / "scheduler.log"
    site.set_page("/feed.xml", feed_with(1), content_type=RSS)
    register(db, [site.url("/feed.xml")])
    proc = start_scheduler(sqlite_url, log, settings={"MEMUSAGE_LIMIT_MB": "1",
                                                      "MEMUSAGE_CHECK_INTERVAL_SECONDS": "0.5"})
    try:
        status = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            stop(proc)
    text = log.read_text()
    assert status == 3, text[-3000:]
    assert "memory limit reached" in text and "Traceback" not in text
    assert lease.current(db) is None
    [(role, state, error)] = runs(db)
    assert role == "schedule" and state == "failed" and "memusage_exceeded" in error
    db.dispose()


def _source(db, path: str) -> Source:
    with db.session() as session:
        return session.scalars(select(Source).where(Source.url.endswith(path))).one()
