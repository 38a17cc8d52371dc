"""One scheduler per archive: the lease row, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

from archive import lease
from archive.db import Database
from archive.models import utcnow


def test_second_holder_is_refused_while_the_first_renews(db):
    assert lease.acquire(db, "a", ttl=60)
    assert not lease.acquire(db, "b", ttl=60)
    assert lease.renew(db, "a", ttl=60)
    assert lease.acquire(db, "a", ttl=60)  # re-acquiring our own lease is fine
    held = lease.current(db)
    assert held.holder == "a" and not held.expired()
    assert "a (last heartbeat" in held.describe()


def test_expired_lease_is_taken_over_and_the_old_holder_notices(db):
    now = utcnow()
    assert lease.acquire(db, "dead", ttl=5, now=now - timedelta(seconds=10))
    assert lease.current(db).expired(now)
    assert lease.acquire(db, "successor", ttl=5, now=now)
    assert lease.current(db).holder == "successor"
    assert not lease.renew(db, "dead", ttl=5)  # the old holder learns it lost the lease
    assert not lease.release(db, "dead")  # and cannot release someone else's


def test_release_lets_a_successor_start_at_once(db):
    assert lease.acquire(db, "a", ttl=600)
    assert lease.release(db, "a")
    assert lease.current(db) is None
    assert lease.acquire(db, "b", ttl=600)


def race_for_the_lease(db_url, contenders: int = 6) -> list[int]:
    """Which of several schedulers, each with its own connection, took the lease at the same instant."""
    databases = [Database(db_url, migrate=False) for _ in range(contenders)]
    barrier = threading.Barrier(len(databases))
    wins = []

    def contend(i, database):
        barrier.wait(timeout=10)
        if lease.acquire(database, f"holder-{i}", ttl=60):
            wins.append(i)

    threads = [threading.Thread(target=contend, args=(i, d)) for i, d in enumerate(databases)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for d in databases:
        d.dispose()
    return wins


def test_racing_schedulers_exactly_one_wins(db_url):
    wins = race_for_the_lease(db_url)
    assert len(wins) == 1


def test_racing_takeover_of_an_expired_lease_has_one_winner(db_url):
    first = Database(db_url, migrate=False)
    assert lease.acquire(first, "dead", ttl=1, now=utcnow() - timedelta(seconds=30))
    first.dispose()
    wins = race_for_the_lease(db_url)
    assert len(wins) == 1
