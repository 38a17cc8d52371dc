"""Re-running an extractor over the stored raw pages, recording a revision where the text changed.

The archive does not know the extractor: the caller passes ``reextract_text(raw_body, url, headers,
fetched_at) -> str | None`` (None: nothing usable in that page, leave the article alone). Pages are
read and extracted outside any write transaction, then each batch's changes are written in one
short transaction; an article that got a new revision meanwhile is left for the next run.
The new revision points at the same raw page as the one it was extracted from.
"""

from __future__ import annotations

import json
from datetime import datetime
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import func, select

from archive import dedup
from archive.db import Database
from archive.models import Article, RawPage, Revision, utcnow
from archive.store import add_revision, decompress
from archive.urls import normalize_site

# (raw body, URL, stored headers, when the page was fetched) -> clean text, or None to skip
ReextractText = Callable[[bytes, str, list[tuple[str, str]], datetime], "str | None"]
BATCH = 100


@dataclass
class Summary:
    checked: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0  # no stored raw page, extractor found nothing, or a failure on that page
    errors: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Work:
    article_id: int
    revision_count: int
    raw_page_id: int | None  # None: no stored raw page to re-extract
    title: str | None


def articles_to_check(db: Database, *, site: str | None = None) -> int:
    """How many articles a run over this site (or the whole archive) checks."""
    query = select(func.count(Article.id))
    if site:
        query = query.where(Article.site == normalize_site(site))
    with db.session() as session:
        return session.scalar(query) or 0


def reextract(db: Database, reextract_text: ReextractText, *, site: str | None = None, batch: int = BATCH,
              on_error: Callable[[int, Exception], None] | None = None,
              on_batch: Callable[[Summary], None] | None = None) -> Summary:
    """``on_batch(summary)`` after each batch is written (the figures so far), for progress."""
    summary = Summary()
    last_id = 0
    while True:
        with db.session() as session:
            work = _next_batch(session, last_id, site, batch)
            if not work:
                return summary
            last_id = work[-1].article_id
            results = []
            for item in work:
                summary.checked += 1
                if item.raw_page_id is None:
                    summary.skipped += 1
                    continue
                raw = session.get(RawPage, item.raw_page_id)
                try:
                    headers = [(str(k), str(v)) for k, v in json.loads(raw.headers or "[]")]
                    text = reextract_text(decompress(raw), raw.url, headers, raw.fetched_at)
                except Exception as exc:  # one bad page must not stop a run over the whole archive
                    summary.errors += 1
                    if on_error:
                        on_error(item.article_id, exc)
                    continue
                if not text or not text.strip():
                    summary.skipped += 1
                    continue
                results.append((item, text))
        _write(db, results, summary)
        if on_batch is not None:
            on_batch(summary)


def _next_batch(session, last_id: int, site: str | None, batch: int) -> list[_Work]:
    query = select(Article.id, Article.revision_count).where(Article.id > last_id).order_by(Article.id).limit(batch)
    if site:
        query = query.where(Article.site == normalize_site(site))
    articles = session.execute(query).all()
    if not articles:
        return []
    ids = [a.id for a in articles]
    # the latest revision that has a raw page, per article
    newest = (select(Revision.article_id, func.max(Revision.number).label("number"))
              .where(Revision.article_id.in_(ids), Revision.raw_page_id.is_not(None))
              .group_by(Revision.article_id).subquery())
    pages = {row.article_id: row for row in session.execute(
        select(Revision.article_id, Revision.raw_page_id)
        .join(newest, (newest.c.article_id == Revision.article_id) & (newest.c.number == Revision.number)))}
    titles = dict(session.execute(
        select(Revision.article_id, Revision.title).join(Article, Article.id == Revision.article_id)
        .where(Revision.article_id.in_(ids), Revision.number == Article.revision_count)).all())
    return [_Work(a.id, a.revision_count, pages[a.id].raw_page_id if a.id in pages else None, titles.get(a.id))
            for a in articles]


def _write(db: Database, results: list[tuple[_Work, str]], summary: Summary) -> None:
    if not results:
        return
    with db.transaction() as session:
        for item, text in results:
            article = session.get(Article, item.article_id)
            if article is None or article.revision_count != item.revision_count:
                summary.skipped += 1  # deleted or revised since it was read: next run
                continue
            if dedup.text_hash(text) == article.text_hash:
                summary.unchanged += 1
                continue
            add_revision(session, article, text=text, title=item.title, raw_page_id=item.raw_page_id,
                         fetched_at=utcnow())
            summary.changed += 1
