"""The workers of an archive and the frontier's claims, for `stats`: which workers run (on any
host: their heartbeat says so), what each archived and how fast, and the claims they hold (the
oldest one is the first to go back on the queue if its worker died)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import runs
from archive.models import CrawlRun, FrontierURL, utcnow


def workers(session: Session, *, alive: runs.Alive, now: datetime | None = None) -> list[dict]:
    """Each running worker (role 'worker'): host, pid, started, last heartbeat, pages archived
    (new articles, revisions and duplicates), pages/s over its life so far, and whether it is alive."""
    now = now or utcnow()
    query = select(CrawlRun).where(CrawlRun.role == "worker", CrawlRun.status == "running").order_by(CrawlRun.id)
    shown = []
    for run in session.scalars(query):
        pages = run.new_articles + run.new_revisions + run.duplicates
        until = run.heartbeat_at or now
        seconds = (until - run.started_at).total_seconds()
        shown.append({"run": run.id, "host": run.host, "pid": run.pid, "started": run.started_at,
                      "heartbeat": run.heartbeat_at, "pages_archived": pages,
                      "pages_per_second": round(pages / seconds, 2) if seconds > 0 else 0.0,
                      "errors": run.errors, "alive": runs.is_alive(run, alive, now)})
    return shown


def claims(session: Session, now: datetime | None = None) -> dict:
    """Pending URLs claimed (held now, expired), and the oldest claim: the earliest to expire."""
    now = now or utcnow()
    held = (FrontierURL.state == "pending") & FrontierURL.claimed_by.is_not(None)
    count = lambda query: int(session.scalar(query) or 0)  # noqa: E731
    oldest = session.execute(select(FrontierURL.url, FrontierURL.claimed_by, FrontierURL.claimed_until)
                             .where(held).order_by(FrontierURL.claimed_until, FrontierURL.id).limit(1)).first()
    return {
        "held": count(select(func.count(FrontierURL.id)).where(held, FrontierURL.claimed_until > now)),
        "expired": count(select(func.count(FrontierURL.id)).where(held, FrontierURL.claimed_until <= now)),
        "oldest": None if oldest is None else {"url": oldest.url, "holder": oldest.claimed_by,
                                                "until": oldest.claimed_until},
    }
