"""One scheduler per archive: a lease row with a holder, a heartbeat and an expiry.

Not a pid file: the lease lives in the database every scheduler of the archive shares, so it
works across hosts, and a holder that died without releasing it loses it when it expires.
Taking it is one conditional UPDATE (free, expired, or already ours) or, when there is no row
yet, one INSERT that does nothing on conflict; both in a write transaction, so of two
schedulers racing for it exactly one wins on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from archive.db import Database
from archive.models import SchedulerLease, utcnow

SCHEDULER = "scheduler"
DEFAULT_TTL = 60.0  # seconds; the holder renews it every TTL/3


@dataclass(frozen=True)
class LeaseInfo:
    name: str
    holder: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or utcnow())

    def describe(self, now: datetime | None = None) -> str:
        now = now or utcnow()
        age = (now - self.heartbeat_at).total_seconds()
        left = (self.expires_at - now).total_seconds()
        state = f"expires in {left:.0f} s" if left > 0 else f"expired {-left:.0f} s ago"
        return f"{self.holder} (last heartbeat {age:.0f} s ago, {state})"


def new_holder() -> str:
    """A name for this process that is unique even when a pid is reused: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(db: Database, holder: str, *, ttl: float = DEFAULT_TTL, name: str = SCHEDULER,
            now: datetime | None = None) -> bool:
    """Take the lease if it is free, expired or already ours. True when we hold it afterwards."""
    now = now or utcnow()
    expires = now + timedelta(seconds=ttl)
    with db.transaction() as session:
        conn = session.connection()  # Core statements: their rowcount is the number of rows matched
        taken = conn.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == name)
            .where((SchedulerLease.holder == holder) | (SchedulerLease.expires_at <= now))
            .values(holder=holder, acquired_at=now, heartbeat_at=now, expires_at=expires)
        ).rowcount
        if taken:
            return True
        insert = sqlite_insert if db.is_sqlite else pg_insert
        inserted = conn.execute(
            insert(SchedulerLease)
            .values(name=name, holder=holder, acquired_at=now, heartbeat_at=now, expires_at=expires)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(SchedulerLease.name)  # rowcount is not reliable here on psycopg
        ).first()
        return inserted is not None


def renew(db: Database, holder: str, *, ttl: float = DEFAULT_TTL, name: str = SCHEDULER,
          now: datetime | None = None) -> bool:
    """Heartbeat: push the expiry forward. False when someone else took the lease over."""
    now = now or utcnow()
    with db.transaction() as session:
        return session.connection().execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
            .values(heartbeat_at=now, expires_at=now + timedelta(seconds=ttl))
        ).rowcount == 1


def release(db: Database, holder: str, *, name: str = SCHEDULER) -> bool:
    """Give the lease up (only if we still hold it), so a successor starts at once."""
    with db.transaction() as session:
        return session.connection().execute(
            delete(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        ).rowcount == 1


def current(db: Database, *, name: str = SCHEDULER) -> LeaseInfo | None:
    with db.session() as session:
        row = session.scalars(select(SchedulerLease).where(SchedulerLease.name == name)).first()
        if row is None:
            return None
        return LeaseInfo(row.name, row.holder, row.acquired_at, row.heartbeat_at, row.expires_at)
