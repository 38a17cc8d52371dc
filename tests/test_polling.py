"""Adaptive polling, server hints, failure scores, backoff and disabling (archive/polling.py, crawler/polls.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from twisted.internet.error import DNSLookupError

from archive import polling
from archive.models import Source, utcnow
from archive.polling import Severity
from archive.sources import add_source, set_enabled
from crawler import headers, polls

DEMO_FEED = Path(__file__).resolve().parents[1] / "newsarchive" / "demo" / "site" / "feed.xml"
FAST = polling.PollPolicy(min_seconds=60, max_seconds=3600, disable_score=3, disable_after=timedelta(hours=1))


@pytest.fixture
def source(db):
    with db.transaction() as session:
        source, _ = add_source(session, "https://news.example/feed.xml", every=600)
        return source.id


def apply(db, source_id, record, **kwargs) -> Source:
    with db.transaction() as session:
        source = session.get(Source, source_id)
        record(session, source, **kwargs)
    with db.session() as session:
        return session.get(Source, source_id)


def test_quiet_feed_slows_down_busy_feed_speeds_up_within_bounds(db, source):
    now = utcnow()
    s = apply(db, source, polling.record_success, new_items=0, now=now)
    assert s.poll_seconds == 900 and s.next_poll_at == now + timedelta(seconds=900)
    s = apply(db, source, polling.record_success, new_items=1)
    assert s.poll_seconds == 900  # one new item per poll: about right
    for _ in range(30):
        s = apply(db, source, polling.record_success, new_items=0)
    assert s.poll_seconds == polling.MAX_POLL_SECONDS
    for _ in range(30):
        s = apply(db, source, polling.record_success, new_items=5)
    assert s.poll_seconds == polling.MIN_POLL_SECONDS
    s = apply(db, source, polling.record_success, new_items=5, policy=FAST)
    assert s.poll_seconds == 150  # shorter bounds for tests


def test_operator_interval_shorter_than_the_floor_is_honoured(db):
    with db.transaction() as session:
        source, _ = add_source(session, "https://busy.example/feed", every=60)
        sid = source.id
    s = apply(db, sid, polling.record_success, new_items=9)
    assert s.poll_seconds == 60


def test_server_hints_are_floors(db, source):
    parsed = feedparser.parse(DEMO_FEED.read_bytes())
    hints = polls.feed_hints(parsed.feed, cache_control="public, max-age=120")
    assert hints.ttl == 3600 and hints.update_period == 3600 and hints.max_age == 120
    s = apply(db, source, polling.record_success, new_items=5, hints=hints)
    assert s.poll_seconds == 3600
    daily = polls.feed_hints({"sy_updateperiod": "daily", "sy_updatefrequency": "4"})
    assert daily.update_period == 6 * 3600
    huge = polling.PollHints(max_age=10 * 86400)
    s = apply(db, source, polling.record_success, new_items=5, hints=huge)
    assert s.poll_seconds == polling.MAX_POLL_SECONDS  # capped at the upper bound
    assert headers.max_age("no-cache, max-age=60") is None
    assert headers.max_age("s-maxage=30") == 30


def test_retry_after_seconds_or_date():
    now = utcnow()
    assert headers.retry_after("120") == 120
    date = (now + timedelta(seconds=300)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 298 <= headers.retry_after(date, now) <= 300
    assert headers.retry_after("soon") is None


@pytest.mark.parametrize("kwargs, expected", [
    ({"status": 404}, Severity.HARD), ({"status": 410}, Severity.HARD),
    ({"exception": DNSLookupError("no such host")}, Severity.HARD),
    ({"status": 500}, Severity.SOFT), ({"status": 503}, Severity.SOFT),
    ({"exception": TimeoutError("took too long")}, Severity.SOFT),
    ({"status": 429}, Severity.TEMPORARY), ({"status": 503, "retry_after": 60}, Severity.TEMPORARY),
])
def test_severity(kwargs, expected):
    assert polls.severity(**kwargs) == expected


def test_a_response_that_is_no_feed_is_a_hard_failure():
    assert polls.not_a_feed("no entries").severity == Severity.HARD


def test_backoff_is_exponential_jittered_and_capped(db, source):
    now = utcnow()
    delays = []
    for _ in range(12):
        s = apply(db, source, polling.record_failure, error="HTTP 500", severity=Severity.SOFT, now=now,
                  rand=lambda: 0.5)
        delays.append((s.next_poll_at - now).total_seconds())
    assert delays[:4] == [600, 1200, 2400, 4800]
    assert delays[-1] == polling.MAX_POLL_SECONDS  # still tried daily
    assert s.failure_score == 6.0 and s.consecutive_failures == 12 and s.enabled
    low = apply(db, source, polling.record_failure, error="x", now=now, rand=lambda: 0.0)
    assert (low.next_poll_at - now).total_seconds() == pytest.approx(polling.MAX_POLL_SECONDS * 0.8)


def test_retry_after_replaces_backoff(db, source):
    now = utcnow()
    s = apply(db, source, polling.record_failure, error="HTTP 429", severity=Severity.TEMPORARY, retry_after=90,
              now=now)
    assert s.next_poll_at == now + timedelta(seconds=90) and s.failure_score == 0.25


def test_disabled_only_after_a_long_run_of_failures_and_enable_brings_it_back(db, source):
    start = utcnow()
    with db.transaction() as session:
        session.get(Source, source).added_at = start
    s = None
    for minute in range(0, 50, 10):  # score 5 within 40 minutes: not failing long enough
        s = apply(db, source, polling.record_failure, error="HTTP 404", severity=Severity.HARD, policy=FAST,
                  now=start + timedelta(minutes=minute))
    assert s.enabled and s.failure_score == 5
    s = apply(db, source, polling.record_failure, error="HTTP 404", severity=Severity.HARD, policy=FAST,
              now=start + timedelta(minutes=61))
    assert not s.enabled
    assert "6 failed polls" in s.disabled_reason and "HTTP 404" in s.disabled_reason
    with db.transaction() as session:
        set_enabled(session, str(source), True)
    with db.session() as session:
        s = session.get(Source, source)
    assert s.enabled and s.disabled_reason is None and s.failure_score == 0 and s.next_poll_at is None


def test_success_after_days_of_errors_resets_health(db, source):
    start = utcnow() - timedelta(days=2)
    for hour in range(0, 48, 6):
        apply(db, source, polling.record_failure, error="HTTP 503", now=start + timedelta(hours=hour))
    s = apply(db, source, polling.record_success, new_items=3, etag='"v2"')
    assert s.enabled and s.failure_score == 0 and s.consecutive_failures == 0 and s.last_error == "HTTP 503"


def test_same_etag_for_changed_body_is_forgotten(db, source):
    s = apply(db, source, polling.record_success, etag='"same"', body_hash="a" * 64, new_items=1)
    assert s.etag == '"same"'
    s = apply(db, source, polling.record_success, etag='"same"', body_hash="b" * 64, new_items=1)
    assert s.etag == polling.UNTRUSTED_VALIDATORS and s.body_hash == "b" * 64
    s = apply(db, source, polling.record_success, etag='"same"', body_hash="b" * 64)
    assert s.etag == polling.UNTRUSTED_VALIDATORS and s.last_modified is None  # for good


def test_a_new_operator_interval_replaces_the_learnt_one(db, source):
    for _ in range(10):
        apply(db, source, polling.record_success, new_items=0)
    with db.transaction() as session:
        add_source(session, "https://news.example/feed.xml", every=300)
    with db.session() as session:
        s = session.get(Source, source)
    assert s.every_seconds == 300 and s.poll_seconds is None
    assert s.next_poll_at <= utcnow() + timedelta(seconds=300)
