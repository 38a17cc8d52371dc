"""Which polls are due (archive/due.py), the scheduler's dispatch question, against a real archive."""

from __future__ import annotations

from datetime import timedelta

import pytest

from archive.db import Database
from archive.due import due_at, take_due
from archive.models import Source, utcnow
from archive.sources import add_source, remove_source, set_enabled


@pytest.fixture
def db(sqlite_url):
    database = Database(sqlite_url)
    yield database
    database.dispose()


def add(db, url, *, next_in: float | None = None, **kwargs) -> int:
    with db.transaction() as session:
        source, _ = add_source(session, url, **kwargs)
        source.next_poll_at = None if next_in is None else utcnow() + timedelta(seconds=next_in)
        return source.id


def get(db, source_id) -> Source:
    with db.session() as session:
        return session.get(Source, source_id)


def taken(db, **kwargs) -> list[int]:
    return [poll.source.id for poll in take_due(db, limit=kwargs.pop("limit", 100), **kwargs)]


def test_new_sources_are_due_at_once_disabled_removed_and_future_ones_are_not(db):
    new = add(db, "https://a.example/feed")
    later = add(db, "https://b.example/feed", next_in=600)
    off = add(db, "https://c.example/feed")
    gone = add(db, "https://d.example/feed")
    with db.transaction() as session:
        set_enabled(session, str(off), False)
        remove_source(session, str(gone))
    assert taken(db) == [new]
    assert taken(db) == []  # taken: its next poll is one interval on, not every second
    assert get(db, new).next_poll_at - utcnow() > timedelta(seconds=1790)
    assert later not in taken(db, now=utcnow() + timedelta(seconds=599))
    assert taken(db, now=utcnow() + timedelta(seconds=601)) == [later]


def test_a_missed_poll_is_taken_once_however_late_and_its_lateness_recorded(db):
    sid = add(db, "https://a.example/feed", next_in=-5 * 1800)  # five slots missed (scheduler down)
    polls = take_due(db, limit=10)
    assert [p.source.id for p in polls] == [sid] and polls[0].late_seconds == pytest.approx(9000, abs=5)
    assert get(db, sid).last_poll_late_seconds == pytest.approx(9000, abs=5)
    assert taken(db) == []  # coalesced: one poll, not five


def test_capacity_most_overdue_first_and_polls_in_flight_skipped(db):
    ids = [add(db, f"https://s{i}.example/feed", next_in=-100 * (i + 1)) for i in range(6)]
    assert taken(db, limit=2) == [ids[5], ids[4]]
    assert taken(db, limit=2, skip={ids[3]}) == [ids[2], ids[1]]
    assert taken(db, limit=0) == []
    assert taken(db, limit=5) == [ids[3], ids[0]]


def test_jitter_spreads_sources_within_a_tenth_of_their_interval_and_never_earlier(db):
    ids = [add(db, f"https://j{i}.example/feed", next_in=0, every=600) for i in range(40)]
    sources = [get(db, i) for i in ids]
    offsets = [(due_at(s, max_jitter=30) - s.next_poll_at).total_seconds() for s in sources]
    assert all(0 <= o <= 30 for o in offsets) and len({round(o) for o in offsets}) > 10
    short = get(db, add(db, "https://short.example/feed", next_in=0, every=60))
    assert (due_at(short, max_jitter=30) - short.next_poll_at).total_seconds() <= 6  # 10% of 60 s


def test_cron_sources_follow_their_crontab_and_back_off_while_failing(db):
    sid = add(db, "https://cron.example/feed", cron="*/5 * * * *")
    with db.transaction() as session:
        session.get(Source, sid).last_polled_at = utcnow() - timedelta(minutes=6)
    assert taken(db) == [sid]  # a slot passed since its last poll
    assert taken(db) == []  # the next slot is up to five minutes away
    assert taken(db, now=utcnow() + timedelta(minutes=5, seconds=1)) == [sid]
    with db.transaction() as session:
        source = session.get(Source, sid)
        source.consecutive_failures, source.next_poll_at = 2, utcnow() + timedelta(hours=1)
    assert taken(db, now=utcnow() + timedelta(minutes=30)) == []  # backing off
    with db.transaction() as session:
        session.get(Source, sid).cron = "not a crontab"
    assert taken(db, now=utcnow() + timedelta(hours=2)) == []  # skipped, not fatal
