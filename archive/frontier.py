"""The crawl frontier: article URLs discovered but not yet archived, kept across crashes.

A feed's new entries are written here before any of them is fetched, so a crawl killed at
any moment leaves them pending for the next run instead of losing them.

Claims. A URL being fetched is claimed: ``claimed_by`` a holder (archive.lease.new_holder(),
host:pid:random) ``claimed_until`` a time. Another crawl of the same archive skips a URL while
its claim is valid and may take it once the claim expired (its holder died or hung), so two
crawls never fetch one URL at once and a killed crawl's URLs are fetched again after the TTL,
or at once when its holder was a process of this host that is gone (``release_dead``).
Archiving a URL or recording its failure clears the claim. Taking claims is one UPDATE in a
write transaction: on PostgreSQL its rows are picked ``FOR UPDATE SKIP LOCKED`` (concurrent
claimers take different rows without waiting for each other); SQLite runs it under the write
lock, one claimer at a time.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from typing import Callable, Iterable, Iterator, Mapping

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.db import Database
from archive.lookup import archived_urls
from archive.models import FrontierURL, utcnow

MAX_ATTEMPTS = 3
DEFAULT_TTL = 300.0  # seconds: a fetch (robots.txt, retries, extraction) takes less; extend() for more
CHUNK = 500  # URLs per IN (...) list


def queue_found(db: Database, holder: str, found: Mapping[str, datetime | None], source_id: int | None, *,
                ttl: float = DEFAULT_TTL) -> tuple[int, list[str], int]:
    """The article links a poll found: those not archived yet are enqueued and claimed for
    ``holder``. Returns (how many were neither archived nor in the frontier before, the links
    ``holder`` now claims, how many were archived already)."""
    with db.session() as session:
        known = archived_urls(session, found)
        fresh = {url: date for url, date in found.items() if url not in known}
        queued = set(session.scalars(select(FrontierURL.url).where(FrontierURL.url.in_(list(fresh))))) \
            if fresh else set()
    enqueue(db, fresh.items(), source_id)
    claimed = claim_urls(db, holder, list(fresh), ttl=ttl) if fresh else []
    return len(set(fresh) - queued), claimed, len(known)


def enqueue(db: Database, urls: Iterable[tuple[str, datetime | None]], source_id: int | None) -> None:
    """Add URLs as pending; URLs already in the frontier are left as they are."""
    rows = [{"url": url, "feed_date": date, "source_id": source_id, "state": "pending", "attempts": 0}
            for url, date in dict(urls).items()]
    if not rows:
        return
    insert = sqlite_insert if db.is_sqlite else pg_insert
    with db.transaction() as session:
        session.execute(insert(FrontierURL).values(rows).on_conflict_do_nothing(index_elements=["url"]))


def _claimable(now: datetime, holder: str | None = None):
    """Not validly claimed by anyone else."""
    free = or_(FrontierURL.claimed_until.is_(None), FrontierURL.claimed_until <= now)
    return or_(free, FrontierURL.claimed_by == holder) if holder is not None else free


def pending(session: Session, *, source_id: int | None = None, after_id: int = 0, limit: int = 1000,
            holder: str | None = None, now: datetime | None = None) -> list[FrontierURL]:
    """Up to ``limit`` pending URLs in discovery order, after the entry ``after_id`` (page on with
    the last id returned until the list is empty: that drains the frontier, whatever its size).
    URLs validly claimed by another holder than ``holder`` are left out."""
    query = select(FrontierURL).where(FrontierURL.state == "pending", FrontierURL.id > after_id,
                                      _claimable(now or utcnow(), holder))
    if source_id is not None:
        query = query.where(FrontierURL.source_id == source_id)
    return list(session.scalars(query.order_by(FrontierURL.id).limit(limit)))


def iter_pending(db: Database, *, source_id: int | None = None, batch: int = 1000,
                 holder: str | None = None) -> Iterator[FrontierURL]:
    """Every URL pending now and not claimed by others, read in batches of ``batch`` (one short read each)."""
    after = 0
    while True:
        with db.session() as session:
            entries = pending(session, source_id=source_id, after_id=after, limit=batch, holder=holder)
        if not entries:
            return
        after = entries[-1].id
        yield from entries


def _take(session: Session, holder: str, picked, until: datetime) -> list[FrontierURL]:
    """Claim the rows ``picked`` (a select of ids) selects; the claimed rows, in id order."""
    claimed = session.scalars(
        update(FrontierURL).where(FrontierURL.id.in_(picked.with_for_update(skip_locked=True).scalar_subquery()))
        .values(claimed_by=holder, claimed_until=until).returning(FrontierURL)
        .execution_options(synchronize_session=False)).all()
    return sorted(claimed, key=lambda entry: entry.id)


def claim(db: Database, holder: str, *, source_id: int | None = None, limit: int = 100,
          ttl: float = DEFAULT_TTL, after_id: int = 0, now: datetime | None = None) -> list[FrontierURL]:
    """Claim up to ``limit`` pending URLs (of one source, or any) that nobody holds (this
    holder's own claims are not taken again), oldest first, for ``ttl`` seconds. Two claimers at
    once never get the same URL. ``after_id``: only entries after that one (a crawl draining the
    frontier pages on with the last id it got, so a URL it failed meanwhile waits for the next run)."""
    now = now or utcnow()
    picked = select(FrontierURL.id).where(FrontierURL.state == "pending", FrontierURL.id > after_id, _claimable(now))
    if source_id is not None:
        picked = picked.where(FrontierURL.source_id == source_id)
    with db.transaction() as session:
        return _take(session, holder, picked.order_by(FrontierURL.id).limit(limit), now + timedelta(seconds=ttl))


def claim_urls(db: Database, holder: str, urls: Iterable[str], *, ttl: float = DEFAULT_TTL,
               now: datetime | None = None) -> list[str]:
    """Claim these URLs (freshly discovered: enqueue them first) where they are pending and free;
    returns the ones this holder now holds, in the order given."""
    wanted = list(dict.fromkeys(urls))
    now = now or utcnow()
    got: set[str] = set()
    with db.transaction() as session:
        for start in range(0, len(wanted), CHUNK):
            picked = select(FrontierURL.id).where(FrontierURL.url.in_(wanted[start:start + CHUNK]),
                                                  FrontierURL.state == "pending", _claimable(now, holder))
            got.update(entry.url for entry in _take(session, holder, picked, now + timedelta(seconds=ttl)))
    return [url for url in wanted if url in got]


def extend(db: Database, holder: str, urls: Iterable[str] | None, *, ttl: float = DEFAULT_TTL,
           now: datetime | None = None) -> int:
    """Push this holder's claims on ``urls`` (None: all of them, a crawl's heartbeat) to now +
    ``ttl``; how many it still held."""
    until = (now or utcnow()) + timedelta(seconds=ttl)
    return _update_claims(db, holder, urls, claimed_until=until)


def release(db: Database, holder: str, urls: Iterable[str] | None = None) -> int:
    """Give up this holder's claims (on ``urls``, or all of them: a crawl closing); how many."""
    return _update_claims(db, holder, urls, claimed_by=None, claimed_until=None)


def release_dead(db: Database, alive: Callable[[int], bool], host: str | None = None) -> int:
    """Give up the valid claims of holders that ran on this host and whose process is gone (a
    crawl killed with SIGKILL): its URLs are fetched by the next crawl at once, not after the
    TTL. Holders on other hosts are left to their TTL. How many claims were released."""
    host = host or socket.gethostname()
    with db.session() as session:
        holders = {h for h in session.scalars(select(FrontierURL.claimed_by).distinct().where(
            FrontierURL.claimed_by.is_not(None), FrontierURL.claimed_until > utcnow())) if h}
    released = 0
    for holder in holders:
        name, _, rest = holder.partition(":")
        pid = rest.partition(":")[0]
        if name == host and pid.isdigit() and not alive(int(pid)):
            released += release(db, holder)
    return released


def renew(db: Database, holder: str, *, ttl: float = DEFAULT_TTL, now: datetime | None = None) -> int:
    """Push every claim this holder has on pending URLs to now + ``ttl``: a live worker keeps what
    it queued or is fetching; a dead one's claims expire. How many it holds."""
    until = (now or utcnow()) + timedelta(seconds=ttl)
    with db.transaction() as session:
        mine = (FrontierURL.claimed_by == holder) & (FrontierURL.state == "pending")
        return session.connection().execute(update(FrontierURL).where(mine).values(claimed_until=until)).rowcount


def take_queued(db: Database, holder: str, url: str, queued_by: str | None, *, ttl: float = DEFAULT_TTL,
                now: datetime | None = None) -> bool:
    """A worker took ``url``'s request off the shared queue, put there by ``queued_by``: take the
    claim over, if the URL is pending and the claim is still that of who queued this copy (or
    free). False: archived since, or another copy of the request is being fetched (the claim moved
    on), so this one must not be fetched. A URL not in the frontier is fetched (True)."""
    now = now or utcnow()
    with db.transaction() as session:
        free = or_(FrontierURL.claimed_by.is_(None), FrontierURL.claimed_until <= now,
                   FrontierURL.claimed_by == holder)
        if queued_by is not None:
            free = or_(free, FrontierURL.claimed_by == queued_by)
        taken = session.connection().execute(
            update(FrontierURL).where(FrontierURL.url == url, FrontierURL.state == "pending", free)
            .values(claimed_by=holder, claimed_until=now + timedelta(seconds=ttl))).rowcount
        if taken:
            return True
        return session.scalars(select(FrontierURL.id).where(FrontierURL.url == url)).first() is None


def release_pending(db: Database) -> int:
    """Give up every claim on pending URLs, whoever holds them: the shared queue that held their
    requests was emptied (Redis flushed or restarted), so they must be queued again; how many."""
    with db.transaction() as session:
        held = (FrontierURL.state == "pending") & FrontierURL.claimed_by.is_not(None)
        return session.connection().execute(
            update(FrontierURL).where(held).values(claimed_by=None, claimed_until=None)).rowcount


def _update_claims(db: Database, holder: str, urls: Iterable[str] | None, **values) -> int:
    mine = FrontierURL.claimed_by == holder
    with db.transaction() as session:
        conn = session.connection()  # Core statements: their rowcount is the number of rows matched
        if urls is None:
            return conn.execute(update(FrontierURL).where(mine).values(**values)).rowcount
        wanted = list(dict.fromkeys(urls))
        return sum(conn.execute(update(FrontierURL).where(mine, FrontierURL.url.in_(wanted[i:i + CHUNK]))
                                .values(**values)).rowcount for i in range(0, len(wanted), CHUNK))


def done_in(session: Session, urls: Iterable[str]) -> None:
    """Mark URLs archived (and unclaimed) in the caller's transaction."""
    wanted = list(dict.fromkeys(urls))
    for start in range(0, len(wanted), CHUNK):
        session.execute(update(FrontierURL).where(FrontierURL.url.in_(wanted[start:start + CHUNK]))
                        .values(state="done", last_error=None, claimed_by=None, claimed_until=None))


def failed_in(session: Session, url: str, error: str) -> None:
    """Count a failed fetch in the caller's transaction; after MAX_ATTEMPTS the URL stops being
    retried. The claim is cleared either way: a retry may be taken by any crawl."""
    entry = session.scalars(select(FrontierURL).where(FrontierURL.url == url)).first()
    if entry is None:
        return
    entry.attempts += 1
    entry.last_error = error[:500]
    entry.claimed_by = entry.claimed_until = None
    if entry.attempts >= MAX_ATTEMPTS:
        entry.state = "failed"


def mark_done(db: Database, url: str) -> None:
    with db.transaction() as session:
        done_in(session, [url])


def mark_failed(db: Database, url: str, error: str) -> None:
    """Count a failed fetch; after MAX_ATTEMPTS the URL stops being retried."""
    with db.transaction() as session:
        failed_in(session, url, error)
