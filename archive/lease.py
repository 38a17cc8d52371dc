"""One scheduler per archive: a lease row with a holder, a heartbeat and an expiry.

Not a pid file: the lease lives in the database every scheduler of the archive shares, so it
works across hosts, and a holder that died without releasing it loses it when it expires.
Taking it is one conditional UPDATE (free, expired, or already ours) or, when there is no row
yet, one INSERT that does nothing on conflict; both in a write transaction, so of two
schedulers racing for it exactly one wins on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from archive.db import Database, first_line
from archive.models import SchedulerLease, utcnow

logger = logging.getLogger("newsarchive.scheduler")

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


class LeaseHeld(RuntimeError):
    """Another holder has the lease."""


class Keeper:
    """Holding a lease for as long as a process runs: take it (or wait for it), renew it, give it up."""

    def __init__(self, db: Database, *, ttl: float = DEFAULT_TTL, name: str = SCHEDULER):
        self.db, self.ttl, self.name = db, ttl, name
        self.holder = new_holder()
        self._renewed = 0.0

    def acquire(self) -> None:
        """Take the lease, or raise LeaseHeld saying who has it."""
        if acquire(self.db, self.holder, ttl=self.ttl, name=self.name):
            self._renewed = time.monotonic()
            logger.info("holding the scheduler lease of %s as %s", self.db.safe_url, self.holder)
            return
        held = current(self.db, name=self.name)
        raise LeaseHeld(f"another scheduler runs this archive: {held.describe() if held else 'unknown'}; "
                        f"it is taken over automatically once its lease expires (--standby waits for that)")

    def wait(self, stopping: threading.Event) -> bool:
        """Retry until the lease is ours (True) or ``stopping`` is set (False)."""
        announced = False
        while not stopping.is_set():
            try:
                self.acquire()
                return True
            except LeaseHeld as exc:
                if not announced:
                    logger.info("standing by: %s", exc)
                    announced = True
            stopping.wait(max(0.2, self.ttl / 3))
        return False

    def renew(self) -> bool:
        """Heartbeat; False when the lease was lost (taken over, or unreachable for a whole ttl)."""
        try:
            if renew(self.db, self.holder, ttl=self.ttl, name=self.name):
                self._renewed = time.monotonic()
                return True
            logger.error("the scheduler lease was taken over by %s: stopping",
                         getattr(current(self.db, name=self.name), "holder", "?"))
            return False
        except SQLAlchemyError as exc:
            if time.monotonic() - self._renewed < self.ttl:
                logger.warning("could not renew the scheduler lease (will retry): %s", first_line(exc))
                return True
            logger.error("could not renew the scheduler lease for %.0f s: stopping", self.ttl)
            return False

    def release(self) -> None:
        try:
            if release(self.db, self.holder, name=self.name):
                logger.info("released the scheduler lease")
        except SQLAlchemyError as exc:
            logger.warning("could not release the lease (it expires by itself): %s", first_line(exc))
