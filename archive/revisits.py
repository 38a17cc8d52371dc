"""Revisits: archived articles are re-fetched on a backoff after they appear, to catch silent edits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import Database
from archive.models import Article, utcnow

# Newly published articles are re-fetched on this backoff to catch silent edits, then left alone.
REVISIT_AFTER = (timedelta(hours=1), timedelta(hours=6), timedelta(days=1), timedelta(days=3), timedelta(days=7))


def schedule_next_revisit(article: Article, now: datetime, *, first: bool = False) -> None:
    """Advance the article along REVISIT_AFTER; past its end the article is no longer revisited."""
    step = 0 if first else article.revisit_step + 1
    article.revisit_step = step
    article.next_revisit_at = now + REVISIT_AFTER[step] if step < len(REVISIT_AFTER) else None


def mark_not_modified(db: Database, article_id: int, when: datetime | None = None) -> None:
    """A revisit answered 304: the article was checked and did not change."""
    with db.transaction() as session:
        article = session.get(Article, article_id)
        if article is not None:
            article.last_seen = when or utcnow()
            schedule_next_revisit(article, article.last_seen)


def due_for_revisit(session: Session, *, everything: bool = False, now: datetime | None = None):
    """(id, canonical URL, ETag, Last-Modified, source id) of the articles to re-fetch, streamed."""
    query = select(Article.id, Article.canonical_url, Article.etag, Article.last_modified,
                   Article.source_id).order_by(Article.id)
    if not everything:
        query = query.where(Article.next_revisit_at <= (now or utcnow()))
    yield from session.execute(query.execution_options(yield_per=1000))
