"""What a feed poll tells the scheduler: Retry-After, server hints, lying ETags, malformed feeds."""

from __future__ import annotations

from datetime import timedelta

from archive import polling
from archive.db import Database
from archive.models import Source, utcnow
from archive.sources import add_source
from scheduling_helpers import FAST_CRAWL, counts, feed_with
from tests.clirun import crawl

RSS = "application/rss+xml; charset=utf-8"


def poll(db_url: str, source_id: int) -> int:
    """One `newsarchive crawl SOURCE_ID`: its exit status."""
    return crawl(db_url, str(source_id), settings={**FAST_CRAWL, "NEWSARCHIVE_POLL_MAX_SECONDS": "86400"}).returncode


def setup(db, server, every=600) -> int:
    with db.transaction() as session:
        return add_source(session, server.url("/feed.xml"), every=every)[0].id


def get(db, sid) -> Source:
    with db.session() as session:
        return session.get(Source, sid)


def test_429_with_retry_after_is_a_temporary_failure_polled_again_when_the_server_said(site, sqlite_url):
    db = Database(sqlite_url)
    site.set_page("/feed.xml", "slow down", status=429)
    site.set_headers("/feed.xml", {"Retry-After": "120"})
    sid = setup(db, site)
    before = utcnow()
    assert poll(sqlite_url, sid) == 1
    feed_polls = [r for r in site.requests if r.path == "/feed.xml"]
    s = get(db, sid)
    assert len(feed_polls) == 1  # not retried at once
    assert s.failure_score == polling.Severity.TEMPORARY and "HTTP 429" in s.last_error
    assert before + timedelta(seconds=115) <= s.next_poll_at <= utcnow() + timedelta(seconds=121)
    db.dispose()


def test_feed_hints_and_malformed_feed(site, sqlite_url):
    db = Database(sqlite_url)
    sid = setup(db, site)  # the bundled feed: <ttl>60</ttl>, sy:updatePeriod hourly
    site.set_headers("/feed.xml", {"Cache-Control": "max-age=7200"})
    assert poll(sqlite_url, sid) == 0
    assert get(db, sid).poll_seconds == 7200
    site.set_page("/feed.xml", "<html><body>Maintenance</body></html>", content_type="text/html")
    assert poll(sqlite_url, sid) == 1
    s = get(db, sid)
    assert s.failure_score == polling.Severity.HARD and s.last_error.startswith("MalformedFeed")
    db.dispose()


def test_same_etag_for_changed_content_is_caught_by_the_body_hash(site, sqlite_url):
    db = Database(sqlite_url)
    site.set_headers("/feed.xml", {"ETag": '"always-the-same"'})
    site.set_page("/feed.xml", feed_with(1), content_type=RSS)
    sid = setup(db, site)
    assert poll(sqlite_url, sid) == 0
    site.set_page("/feed.xml", feed_with(2), content_type=RSS)
    assert poll(sqlite_url, sid) == 0
    assert counts(db) == (2, 2)
    assert get(db, sid).etag == polling.UNTRUSTED_VALIDATORS
    site.clear_requests()
    assert poll(sqlite_url, sid) == 0  # unchanged body: nothing new, slower polling
    feed_request = [r for r in site.requests if r.path == "/feed.xml"][0]
    assert "If-None-Match" not in feed_request.headers and "If-Modified-Since" not in feed_request.headers
    assert counts(db) == (2, 2)
    db.dispose()


def test_a_feed_served_unchanged_in_full_is_recorded_without_parsing_it(site, sqlite_url):
    db = Database(sqlite_url)
    site.set_headers("/feed.xml", {"ETag": '"always-the-same"'})  # caught lying below: then fetched in full
    site.set_page("/feed.xml", feed_with(1), content_type=RSS)
    sid = setup(db, site)
    assert poll(sqlite_url, sid) == 0
    site.set_page("/feed.xml", feed_with(2), content_type=RSS)
    assert poll(sqlite_url, sid) == 0
    first = get(db, sid)
    again = crawl(sqlite_url, str(sid), settings={**FAST_CRAWL, "NEWSARCHIVE_POLL_MAX_SECONDS": "86400",
                                                   "LOG_LEVEL": "INFO"})
    assert again.returncode == 0, again.stderr
    assert "'downloader/response_status_count/200': 2" in again.stderr  # robots.txt and the whole feed
    assert f"source {site.url('/feed.xml')}: unchanged" in again.stderr  # not "2 entries, 0 new": not parsed
    s = get(db, sid)
    assert s.last_success_at > first.last_success_at and s.consecutive_failures == 0
    assert s.poll_seconds > first.poll_seconds  # nothing new: polled less often
    assert counts(db) == (2, 2)
    db.dispose()
