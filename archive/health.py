"""Is the archive healthy? Sources' state, articles per day, recent crawl runs, blocked fetches, counts.

The queries behind `newsarchive stats`, `newsarchive demo` and the web app's sources page. Rows
are plain dicts (datetimes left as datetimes) so each caller formats them its own way. Every
query here is one aggregate or one short listing: none reads article texts.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import Session

from archive import fleet, lease, runs
from archive.models import Alias, Article, BlockedFetch, CrawlRun, FrontierURL, Revision, Source, utcnow
from archive.request_options import describe, options_of
from archive.sources import format_interval, list_sources

WINDOW_DAYS = 7


def source_health(session: Session, now: datetime) -> list[dict]:
    """One row per source: state, poll interval, last success and error, failure score, next poll,
    articles first seen over the last WINDOW_DAYS days."""
    since = now - timedelta(days=WINDOW_DAYS)
    recent = dict(session.execute(
        select(Article.source_id, func.count(Article.id)).where(Article.first_seen >= since)
        .group_by(Article.source_id)).all())
    rows = []
    for s in list_sources(session):
        rows.append({
            "id": s.id, "url": s.url, "kind": s.kind, "enabled": s.enabled,
            "state": "ok" if s.enabled and not s.consecutive_failures else
                     "failing" if s.enabled else "disabled",
            "disabled_reason": s.disabled_reason,
            "every": format_interval(s.every_seconds), "cron": s.cron,
            "poll_every": format_interval(s.poll_seconds) if s.poll_seconds else None,
            "last_success": s.last_success_at, "last_error_at": s.last_error_at, "last_error": s.last_error,
            "failure_score": s.failure_score, "consecutive_failures": s.consecutive_failures,
            "next_poll": s.next_poll_at,
            # how late its last poll started; overdue: due for more than one interval, not polled
            "late_seconds": round(s.last_poll_late_seconds, 1) if s.last_poll_late_seconds is not None else None,
            "overdue": overdue(s, now),
            "articles_7d": recent.get(s.id, 0),
            "articles_per_day": round(recent.get(s.id, 0) / WINDOW_DAYS, 1),
            "options": describe(options_of(s)),  # header names, "auth: set", the proxy masked
        })
    return rows


def overdue(source: Source, now: datetime) -> bool:
    """Whether an enabled source's poll has been due for longer than its interval: the scheduler
    is falling behind (or not running)."""
    if not source.enabled or source.next_poll_at is None:
        return False
    interval = source.poll_seconds or source.every_seconds
    return (now - source.next_poll_at).total_seconds() > interval


def articles_per_day(session: Session, now: datetime, days: int = 14) -> dict[int | None, list[tuple[date, int]]]:
    """Articles first seen per UTC day over the last `days` days (today included), per source id.

    Every source that archived something in the window gets `days` (day, count) pairs, oldest
    first, zeros included; articles without a source are under None. One grouped query.
    """
    span = recent_days(now, days)
    since = datetime.combine(span[0], datetime.min.time(), tzinfo=timezone.utc)
    dialect = session.get_bind().dialect.name
    # SQLite keeps UTC timestamps as text ("YYYY-MM-DD HH:MM:SS..."); PostgreSQL as timestamptz.
    day = func.substr(Article.first_seen, 1, 10) if dialect == "sqlite" else \
        cast(func.timezone("UTC", Article.first_seen), Date)
    counts: dict[int | None, dict[date, int]] = {}
    for source_id, when, count in session.execute(
            select(Article.source_id, day, func.count(Article.id)).where(Article.first_seen >= since)
            .group_by(Article.source_id, day)):
        when = date.fromisoformat(when) if isinstance(when, str) else when
        counts.setdefault(source_id, {})[when] = count
    return {source_id: [(d, by_day.get(d, 0)) for d in span] for source_id, by_day in counts.items()}


def recent_days(now: datetime, days: int) -> list[date]:
    """The last `days` UTC days, today included, oldest first."""
    today = now.astimezone(timezone.utc).date()
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def recent_runs(session: Session, limit: int, *, alive: runs.Alive) -> list[dict]:
    """The last `limit` crawl runs, newest first; a 'running' run whose process is gone (``alive``
    says so) is 'abandoned'."""
    return [run_record(run, alive=alive) for run in runs.recent_runs(session, limit=limit)]


def run_record(run: CrawlRun, *, alive: runs.Alive) -> dict:
    """One crawl run's figures, as `stats --json` and `crawl --json` print them."""
    end = run.finished_at
    return {
        "id": run.id, "source_id": run.source_id, "status": runs.shown_status(run, alive=alive), "pid": run.pid,
        "role": run.role,  # crawl, revisit, schedule, worker, or scrapy (a plain `scrapy crawl`)
        "started": run.started_at, "finished": end,
        "seconds": round((end - run.started_at).total_seconds(), 1) if end else None,
        "requests": run.requests, "not_modified": run.not_modified, "new_articles": run.new_articles,
        "new_revisions": run.new_revisions, "duplicates": run.duplicates, "errors": run.errors,
        "dropped": json.loads(run.dropped) if run.dropped else {}, "error": run.error,
    }


def blocked_fetches(session: Session) -> list[dict]:
    """Blocked fetches (consent walls, challenges, logins) counted by site and reason, most first."""
    query = (select(BlockedFetch.site, BlockedFetch.reason, func.count(BlockedFetch.id),
                    func.max(BlockedFetch.fetched_at))
             .group_by(BlockedFetch.site, BlockedFetch.reason)
             .order_by(func.count(BlockedFetch.id).desc(), BlockedFetch.site))
    return [{"site": site, "reason": reason, "count": count, "last": _aware(last)}
            for site, reason, count, last in session.execute(query)]


def archive_counts(session: Session) -> dict:
    """Articles, revisions, duplicates, aliases, frontier pending and failed, crawl runs."""
    count = lambda query: session.scalar(query) or 0  # noqa: E731
    return {
        "articles": count(select(func.count(Article.id))),
        "revisions": count(select(func.count(Revision.id))),
        "duplicates": count(select(func.count(Article.id)).where(Article.duplicate_of_id.is_not(None))),
        "aliases": count(select(func.count(Alias.id))),
        "frontier_pending": count(select(func.count(FrontierURL.id)).where(FrontierURL.state == "pending")),
        "frontier_failed": count(select(func.count(FrontierURL.id)).where(FrontierURL.state == "failed")),
        "runs": count(select(func.count(CrawlRun.id))),
    }


def source_count(session: Session) -> int:
    return session.scalar(select(func.count(Source.id))) or 0


def scheduler_state(db, now: datetime) -> dict | None:
    """Who holds the scheduler lease, its last heartbeat and whether it is still alive."""
    held = lease.current(db)
    return None if held is None else {
        "holder": held.holder, "heartbeat": held.heartbeat_at, "expires": held.expires_at,
        "alive": not held.expired(now)}


def report(db, *, alive: runs.Alive, limit: int = 10, now: datetime | None = None) -> dict:
    """Everything above in one dict: what `stats --json` prints. ``alive(pid)`` tells whether a
    run's process still runs (the caller knows how to ask)."""
    now = now or utcnow()
    with db.session() as session:
        gathered = {
            "generated_at": now,
            "sources": source_health(session, now),
            "runs": recent_runs(session, limit, alive=alive),
            "blocked": blocked_fetches(session),
            "archive": archive_counts(session),
            "workers": fleet.workers(session, alive=alive, now=now),
            "claims": fleet.claims(session, now),
        }
    gathered["scheduler"] = scheduler_state(db, now)
    return gathered


def _aware(value):
    if isinstance(value, str):  # SQLite aggregates come back as text
        value = datetime.fromisoformat(value)
    return value
