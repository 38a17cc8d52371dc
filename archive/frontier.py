"""The crawl frontier: article URLs discovered but not yet archived, kept across crashes.

A feed's new entries are written here before any of them is fetched, so a crawl killed at
any moment leaves them pending for the next run instead of losing them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Iterator

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.db import Database
from archive.models import FrontierURL

MAX_ATTEMPTS = 3


def enqueue(db: Database, urls: Iterable[tuple[str, datetime | None]], source_id: int | None) -> None:
    """Add URLs as pending; URLs already in the frontier are left as they are."""
    rows = [{"url": url, "feed_date": date, "source_id": source_id, "state": "pending", "attempts": 0}
            for url, date in dict(urls).items()]
    if not rows:
        return
    insert = sqlite_insert if db.is_sqlite else pg_insert
    with db.transaction() as session:
        session.execute(insert(FrontierURL).values(rows).on_conflict_do_nothing(index_elements=["url"]))


def pending(session: Session, *, source_id: int | None = None, after_id: int = 0,
            limit: int = 1000) -> list[FrontierURL]:
    """Up to ``limit`` pending URLs in discovery order, after the entry ``after_id`` (page on with
    the last id returned until the list is empty: that drains the frontier, whatever its size)."""
    query = select(FrontierURL).where(FrontierURL.state == "pending", FrontierURL.id > after_id)
    if source_id is not None:
        query = query.where(FrontierURL.source_id == source_id)
    return list(session.scalars(query.order_by(FrontierURL.id).limit(limit)))


def iter_pending(db: Database, *, source_id: int | None = None, batch: int = 1000) -> Iterator[FrontierURL]:
    """Every URL pending now, read in batches of ``batch`` (one short read each)."""
    after = 0
    while True:
        with db.session() as session:
            entries = pending(session, source_id=source_id, after_id=after, limit=batch)
        if not entries:
            return
        after = entries[-1].id
        yield from entries


def mark_done(db: Database, url: str) -> None:
    with db.transaction() as session:
        session.execute(update(FrontierURL).where(FrontierURL.url == url).values(state="done", last_error=None))


def mark_failed(db: Database, url: str, error: str) -> None:
    """Count a failed fetch; after MAX_ATTEMPTS the URL stops being retried."""
    with db.transaction() as session:
        entry = session.scalars(select(FrontierURL).where(FrontierURL.url == url)).first()
        if entry is None:
            return
        entry.attempts += 1
        entry.last_error = error[:500]
        if entry.attempts >= MAX_ATTEMPTS:
            entry.state = "failed"
