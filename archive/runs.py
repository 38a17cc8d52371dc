"""Crawl runs and blocked fetches: what each `newsarchive crawl` did, for operators."""

from __future__ import annotations

import json
import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import Database
from archive.models import BlockedFetch, CrawlRun, utcnow

# Scrapy stats keys -> CrawlRun columns
STAT_COLUMNS = {
    "downloader/request_count": "requests",
    "newsarchive/not_modified": "not_modified",
    "newsarchive/articles/new": "new_articles",
    "newsarchive/articles/revision": "new_revisions",
    "newsarchive/articles/duplicate": "duplicates",
    "newsarchive/errors": "errors",
}
DROP_PREFIX = "item_dropped_reasons_count/"


def start_run(db: Database, source_id: int | None = None) -> int:
    with db.transaction() as session:
        run = CrawlRun(source_id=source_id, pid=os.getpid(), status="running")
        session.add(run)
        session.flush()
        return run.id


def finish_run(db: Database, run_id: int, stats: dict, *, status: str, error: str | None = None) -> None:
    with db.transaction() as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            return
        for key, column in STAT_COLUMNS.items():
            setattr(run, column, int(stats.get(key, 0) or 0))
        dropped = {k[len(DROP_PREFIX):]: v for k, v in stats.items() if k.startswith(DROP_PREFIX)}
        run.dropped = json.dumps(dropped, sort_keys=True) if dropped else None
        run.status = status
        run.error = error
        run.finished_at = utcnow()


def record_blocked(db: Database, *, url: str, site: str, reason: str, status: int | None,
                   run_id: int | None) -> None:
    with db.transaction() as session:
        session.add(BlockedFetch(url=url, site=site, reason=reason, status=status, run_id=run_id))


def recent_runs(session: Session, limit: int = 10) -> list[CrawlRun]:
    return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)))
