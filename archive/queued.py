"""Polls handed to the shared queue, as `crawl --queue --wait` follows them: whether everything
they caused is archived or failed, and what they did, read from the archive (the workers that
did the work may be on other machines; what they wrote is all there is to go by).

A queued poll is over when its source records a poll after the time it was queued; the article
fetches it caused are over when none of its source's frontier URLs is pending any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from archive.db import Database
from archive.models import Article, FrontierURL, Revision, Source


@dataclass(frozen=True)
class Progress:
    polls_left: int
    pages_left: int

    @property
    def done(self) -> bool:
        return not (self.polls_left or self.pages_left)


def progress(db: Database, source_ids: list[int], since: datetime) -> Progress:
    with db.session() as session:
        unpolled = select(func.count()).select_from(Source).where(
            Source.id.in_(source_ids), Source.enabled,
            Source.last_polled_at.is_(None) | (Source.last_polled_at < since))
        pending = select(func.count()).select_from(FrontierURL).where(
            FrontierURL.source_id.in_(source_ids), FrontierURL.state == "pending")
        return Progress(int(session.scalar(unpolled) or 0), int(session.scalar(pending) or 0))


def figures(db: Database, source_ids: list[int], since: datetime) -> dict[str, int]:
    """What the polls did since ``since``, as Scrapy stats keys (archive/runs.py STAT_COLUMNS)."""
    with db.session() as session:
        mine = Article.source_id.in_(source_ids)
        new = select(func.count()).select_from(Article).where(mine, Article.first_seen >= since)
        revised = (select(func.count()).select_from(Revision).join(Article, Revision.article_id == Article.id)
                   .where(mine, Revision.fetched_at >= since, Revision.number > 1))
        failed_polls = select(func.count()).select_from(Source).where(
            Source.id.in_(source_ids), Source.last_error_at >= since)
        failed_pages = select(func.count()).select_from(FrontierURL).where(
            FrontierURL.source_id.in_(source_ids), FrontierURL.state == "failed", FrontierURL.discovered_at >= since)
        duplicates = new.where(Article.duplicate_of_id.is_not(None))
        count = lambda query: int(session.scalar(query) or 0)  # noqa: E731
        dup = count(duplicates)
        return {"newsarchive/articles/new": count(new) - dup, "newsarchive/articles/duplicate": dup,
                "newsarchive/articles/revision": count(revised),
                "newsarchive/errors": count(failed_polls) + count(failed_pages)}
