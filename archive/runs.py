"""Crawl runs and blocked fetches: what each `newsarchive crawl` did, for operators.

Whether a run's process is still alive is not the archive's to judge (the runs of one archive may
come from several hosts): the caller says, with an ``alive(pid)`` function.
"""

from __future__ import annotations

import json
import os
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


def start_run(db: Database, source_id: int | None = None) -> int:
    with db.transaction() as session:
        run = CrawlRun(source_id=source_id, pid=os.getpid(), status="running")
        session.add(run)
        session.flush()
        return run.id


def add_stats(db: Database, run_id: int, stats: dict) -> None:
    """Add one spider's Scrapy stats to its run (a run may hold several spiders)."""
    with db.transaction() as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            return
        for key, column in STAT_COLUMNS.items():
            setattr(run, column, getattr(run, column) + int(stats.get(key, 0) or 0))
        failures = int(stats.get("newsarchive/archive_failures", 0) or 0)
        if failures:
            run.error = f"{failures} write(s) to the archive failed"
            if not (run.new_articles + run.new_revisions + run.duplicates):
                run.status = "failed"  # nothing could be archived at all
        dropped = json.loads(run.dropped) if run.dropped else {}
        for key, count in stats.items():
            if key.startswith(DROP_PREFIX):
                reason = key[len(DROP_PREFIX):]
                dropped[reason] = dropped.get(reason, 0) + count
        run.dropped = json.dumps(dropped, sort_keys=True) if dropped else None
        if stats.get("finish_reason") not in (None, "finished"):
            run.error = f"spider closed: {stats.get('finish_reason')}"


def close_run(db: Database, run_id: int, *, status: str, error: str | None = None) -> None:
    """Mark the run finished. A run whose spiders counted errors is 'partial'; 'failed' when it
    could archive nothing at all (add_stats said so)."""
    with db.transaction() as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            return
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


def shown_status(run: CrawlRun, *, alive: Alive) -> str:
    """The run's status, with 'running' runs whose process is gone shown as 'abandoned'."""
    if run.status == "running" and not alive(run.pid):
        return "abandoned"
    return run.status


def abandon_dead_runs(db: Database, *, alive: Alive) -> list[int]:
    """Close the 'running' runs whose process is gone (killed, crashed) as 'abandoned'."""
    return _abandon(db, select(CrawlRun).where(CrawlRun.status == "running"), alive)


def abandon_runs_of(db: Database, pids: set[int]) -> list[int]:
    """Close the 'running' runs of these processes as 'abandoned' (a supervisor killed them)."""
    return _abandon(db, select(CrawlRun).where(CrawlRun.status == "running", CrawlRun.pid.in_(pids)),
                    alive=lambda pid: False)


def _abandon(db: Database, query, alive: Alive) -> list[int]:
    with db.transaction() as session:
        closed = []
        for run in session.scalars(query):
            if not alive(run.pid):
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
