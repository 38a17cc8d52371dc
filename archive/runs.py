"""Crawl runs and blocked fetches: what each crawl engine did, for operators.

A run is one engine's life: a one-shot `crawl` or `revisit`, or a `schedule` or `worker` process
that may run for months. A running engine writes its figures with a heartbeat (``heartbeat``)
every HEARTBEAT_SECONDS; a 'running' run whose heartbeat is older than STALE_SECONDS is shown
'abandoned' (killed, crashed, its host gone), which any host of the archive can tell. For old
runs without a heartbeat, the caller's ``alive(pid)`` says whether their process still exists.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import Database
from archive.models import BlockedFetch, CrawlRun, utcnow

Alive = Callable[[int | None], bool]  # whether the process with this id is still running

# Scrapy stats keys -> CrawlRun columns
STAT_COLUMNS = {
    "downloader/request_count": "requests",
    "newsarchive/not_modified": "not_modified",
    "newsarchive/articles/new": "new_articles",
    "newsarchive/articles/revision": "new_revisions",
    "newsarchive/articles/duplicate": "duplicates",
    "newsarchive/errors": "errors",
    "spider_exceptions/count": "errors",  # a callback that raised (Scrapy logged it)
}
DROP_PREFIX = "item_dropped_reasons_count/"
HEARTBEAT_SECONDS = 30.0
STALE_SECONDS = 4 * HEARTBEAT_SECONDS


def start_run(db: Database, source_id: int | None = None, *, role: str = "crawl") -> int:
    now = utcnow()
    with db.transaction() as session:
        run = CrawlRun(source_id=source_id, pid=os.getpid(), host=socket.gethostname()[:255], role=role,
                       status="running", started_at=now, heartbeat_at=now)
        session.add(run)
        session.flush()
        return run.id


def heartbeat(db: Database, run_id: int, stats: dict, *, final: bool = False) -> None:
    """A running engine's figures so far (Scrapy's stats, absolute), and the sign it is alive.
    ``final``: its last figures; a run that could archive nothing because every write failed is
    then marked to close as 'failed', and a crawl that did not finish says why."""
    with db.transaction() as session:
        run = session.get(CrawlRun, run_id)
        if run is not None:
            _record_figures(run, stats, final=final)


def _record_figures(run: CrawlRun, stats: dict, *, final: bool) -> None:
    for column in set(STAT_COLUMNS.values()):
        setattr(run, column, sum(int(stats.get(k, 0) or 0) for k, c in STAT_COLUMNS.items() if c == column))
    dropped = {k[len(DROP_PREFIX):]: v for k, v in stats.items() if k.startswith(DROP_PREFIX)}
    run.dropped = json.dumps(dropped, sort_keys=True) if dropped else None
    failures = int(stats.get("newsarchive/archive_failures", 0) or 0)
    if failures:
        run.error = f"{failures} write(s) to the archive failed"
    if final and failures and not (run.new_articles + run.new_revisions + run.duplicates):
        run.status = "failed"  # nothing could be archived at all: close_run keeps it
    # a long-running engine's life ends with "shutdown" (SIGTERM): no error; a one-shot crawl's
    # ends with "finished" unless it was cut short
    ends = ("finished", "shutdown") if run.role in LONG_RUNNING else ("finished",)
    if final and stats.get("finish_reason") not in (None, *ends):
        run.error = run.error or f"crawl closed: {stats.get('finish_reason')}"
    run.heartbeat_at = utcnow()


LONG_RUNNING = ("schedule", "worker")


def close_run(db: Database, run_id: int, *, status: str, error: str | None = None,
              stats: dict | None = None) -> None:
    """Mark the run finished. A run that counted errors is 'partial'; 'failed' when it could
    archive nothing at all (its final heartbeat said so). ``stats``: the engine's final figures,
    recorded in the same write (its final heartbeat may not have gone through)."""
    with db.transaction() as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            return
        if stats is not None:
            _record_figures(run, stats, final=True)
        if status == "ok" and (run.errors or run.error):
            status = "failed" if run.status == "failed" else "partial"
        run.status = status
        run.error = error or run.error
        run.finished_at = utcnow()


def record_blocked(db: Database, *, url: str, site: str, reason: str, status: int | None,
                   run_id: int | None) -> None:
    with db.transaction() as session:
        session.add(BlockedFetch(url=url, site=site, reason=reason, status=status, run_id=run_id))


def recent_runs(session: Session, limit: int = 10) -> list[CrawlRun]:
    return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)))


def is_alive(run: CrawlRun, alive: Alive, now: datetime | None = None) -> bool:
    """Whether a 'running' run's engine still runs. On this host its process tells at once (a
    killed crawl is known the moment it died); elsewhere its heartbeat does; old runs (no
    host) by ``alive``."""
    if run.host == socket.gethostname()[:255] or run.host is None:
        return alive(run.pid)
    if run.heartbeat_at is not None:
        return run.heartbeat_at > (now or utcnow()) - timedelta(seconds=STALE_SECONDS)
    return alive(run.pid)


def shown_status(run: CrawlRun, *, alive: Alive) -> str:
    """The run's status, with 'running' runs whose engine is gone shown as 'abandoned'."""
    if run.status == "running" and not is_alive(run, alive):
        return "abandoned"
    return run.status


def abandon_dead_runs(db: Database, *, alive: Alive) -> list[int]:
    """Close the 'running' runs whose process is gone (killed, crashed) as 'abandoned'."""
    return _abandon(db, select(CrawlRun).where(CrawlRun.status == "running"), alive)


def abandon_runs_of(db: Database, pids: set[int]) -> list[int]:
    """Close the 'running' runs of these processes as 'abandoned' (a supervisor killed them)."""
    with db.transaction() as session:
        query = select(CrawlRun).where(CrawlRun.status == "running", CrawlRun.pid.in_(pids))
        closed = [run for run in session.scalars(query)]
        for run in closed:
            run.status, run.finished_at = "abandoned", utcnow()
            run.error = run.error or "process ended without closing the run (killed?)"
        return [run.id for run in closed]


def _abandon(db: Database, query, alive: Alive) -> list[int]:
    with db.transaction() as session:
        closed = []
        for run in session.scalars(query):
            if not is_alive(run, alive):
                run.status = "abandoned"
                run.finished_at = utcnow()
                run.error = run.error or "process ended without closing the run (killed?)"
                closed.append(run.id)
        return closed


def last_run_of(db: Database, pid: int) -> CrawlRun | None:
    """The latest run a process recorded."""
    with db.session() as session:
        latest = select(CrawlRun).where(CrawlRun.pid == pid).order_by(CrawlRun.id.desc()).limit(1)
        return session.scalars(latest).first()


def summary_line(run: CrawlRun) -> str:
    """What a run did, on one line for an operator's log."""
    return (f"run {run.id}: {run.status}: {run.requests} requests, {run.not_modified} not modified, "
            f"{run.new_articles} new articles, {run.new_revisions} new revisions, {run.duplicates} duplicates, "
            f"{run.errors} errors" + (f" ({run.error})" if run.error else ""))
