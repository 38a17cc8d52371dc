"""Which polls are due: the scheduler's question, asked every second, answered from the sources table.

* An interval source is due at its ``next_poll_at`` (set by each recorded poll: adaptive
  interval, backoff, Retry-After; archive/polling.py), or at once when it was never polled.
* A cron source is due at its crontab's first slot after its last poll; while it is failing, not
  before the backoff its last failure set.
* Each source's due time is shifted by a fixed share of ``max_jitter`` (at most 10% of its
  interval), so sources registered together do not all poll in the same second.

A due poll is never dropped: one that could not start on time (no capacity, the scheduler was
down) starts as soon as it can, once, however many slots it missed, and ``take_due`` records
how late it started. Taking a poll also pushes its source's next poll one interval on, so a poll
that ends without recording anything (a crash) waits an interval instead of running every second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from archive.db import Database
from archive.models import Source, utcnow
from archive.sources import cron_trigger


@dataclass(frozen=True)
class DuePoll:
    source: Source
    late_seconds: float  # how long after its due time it is taken


def _spread(source_id: int) -> float:
    """A fixed fraction in [0, 1) per source (Knuth's multiplicative hash)."""
    return ((source_id * 2654435761) % 2**32) / 2**32


def due_at(source: Source, *, max_jitter: float = 0.0) -> datetime | None:
    """When the source's next poll is due, jitter included; None: a crontab that is none."""
    if source.cron:
        try:
            trigger = cron_trigger(source.cron)
        except ValueError:
            return None
        if source.consecutive_failures and source.next_poll_at is not None:
            return source.next_poll_at  # backing off
        after = (source.last_polled_at or source.added_at) + timedelta(microseconds=1)
        slot = trigger.get_next_fire_time(None, after)
        return slot + timedelta(seconds=_spread(source.id) * max_jitter) if slot else None
    base = source.next_poll_at or source.added_at
    seconds = float(source.poll_seconds or source.every_seconds)
    return base + timedelta(seconds=_spread(source.id) * min(max_jitter, 0.1 * seconds))


def next_slot(source: Source, now: datetime) -> datetime:
    """One interval (or the next cron slot) from now: the due time of a poll just taken."""
    if source.cron:
        try:
            slot = cron_trigger(source.cron).get_next_fire_time(None, now + timedelta(microseconds=1))
        except ValueError:
            slot = None
        return slot or now + timedelta(seconds=source.every_seconds)
    return now + timedelta(seconds=source.poll_seconds or source.every_seconds)


def take_due(db: Database, *, limit: int, skip: set[int] = frozenset(),  # type: ignore[assignment]
             max_jitter: float = 0.0, now: datetime | None = None) -> list[DuePoll]:
    """Up to ``limit`` enabled sources due now (most overdue first), not in ``skip`` (polls in
    flight). Each gets its lateness recorded and its next poll pushed one interval on."""
    if limit <= 0:
        return []
    now = now or utcnow()
    with db.transaction() as session:
        interval = (select(Source).where(Source.enabled, Source.cron.is_(None),
                                         (Source.next_poll_at.is_(None)) | (Source.next_poll_at <= now))
                    .order_by(Source.next_poll_at.is_not(None), Source.next_poll_at, Source.id))
        if skip:
            interval = interval.where(Source.id.not_in(skip))
        # jitter only ever delays, so every due source is among those whose next_poll_at passed
        candidates = list(session.scalars(interval.limit(limit + len(skip) + 1000)))
        candidates += session.scalars(select(Source).where(Source.enabled, Source.cron.is_not(None)))
        due = []
        for source in candidates:
            when = due_at(source, max_jitter=max_jitter)
            if source.id in skip or when is None or when > now:
                continue
            base = when if source.cron else (source.next_poll_at or source.added_at)
            due.append((base, source))
        due.sort(key=lambda pair: (pair[0], pair[1].id))
        taken = []
        for base, source in due[:limit]:
            late = max(0.0, (now - base).total_seconds())
            source.last_poll_late_seconds = late
            if source.cron:
                source.last_polled_at = now  # its slot is taken, even if the poll records nothing
            source.next_poll_at = next_slot(source, now)
            taken.append(DuePoll(source, late))
        session.flush()
        for poll in taken:
            session.expunge(poll.source)
        return taken
