"""Re-running an extractor over stored raw pages, recording a revision where the text changed.

One loop serves `newsarchive reextract` (every article, or one site's: ``reextract``) and the
re-clean of a site's articles after new furniture was learned or pinned (archive/furniture.py):
the caller says which articles to look at, in batches by article id.

The archive does not know the extractor: the caller passes ``reextract_text(raw_body, url, headers,
fetched_at) -> str | None`` (None: nothing usable in that page, leave the article alone). Pages are
read and extracted outside any write transaction, then each batch's changes are written in one
short transaction; an article that got a new revision meanwhile is left for the next run.
The new revision points at the same raw page as the one it was extracted from.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db import Database
from archive.models import Article, RawPage, Revision, utcnow
from archive.rawpages import decompress
from archive.store import add_revision
from archive.text import text_hash
from archive.urls import normalize_site

# (raw body, URL, stored headers, when the page was fetched) -> clean text, or None to skip
ReextractText = Callable[[bytes, str, list[tuple[str, str]], datetime], "str | None"]
BATCH = 100


@dataclass
class Summary:
    checked: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0  # no stored raw page, not concerned, extractor found nothing, revised meanwhile
    errors: int = 0  # the extractor raised on that page
    truncated: bool = False  # stopped at the limit: more articles may need it

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Candidate:
    article_id: int
    revision_count: int  # when read: an article revised since is left alone
    raw_page_id: int | None  # the page to re-extract; None: nothing to do here (skipped)
    title: str | None


# (session, the last article id done, how many at most) -> the next candidates, by article id
NextBatch = Callable[[Session, int, int], list[Candidate]]
OnError = Callable[[int, Exception], None]


def rewrite(db: Database, next_batch: NextBatch, reextract_text: ReextractText, *, batch: int = BATCH,
            limit: int | None = None, on_error: OnError | None = None,
            on_batch: Callable[[Summary], None] | None = None) -> Summary:
    """Re-extract the candidates ``next_batch`` gives, batch after batch, until it gives none (or
    ``limit`` articles were checked: ``truncated``). ``on_batch(summary)`` after each batch is
    written (the figures so far), for progress."""
    summary = Summary()
    last_id = 0
    while True:
        size = batch if limit is None else min(batch, limit - summary.checked)
        if size <= 0:
            summary.truncated = True
            return summary
        with db.session() as session:
            candidates = next_batch(session, last_id, size)
            if not candidates:
                return summary
            last_id = candidates[-1].article_id
            results = []
            for candidate in candidates:
                summary.checked += 1
                text = _extracted(session, candidate, reextract_text, summary, on_error)
                if text:
                    results.append((candidate, text))
        _write(db, results, summary)
        if on_batch is not None:
            on_batch(summary)


def articles_to_check(db: Database, *, site: str | None = None) -> int:
    """How many articles a run over this site (or the whole archive) checks."""
    query = select(func.count(Article.id))
    if site:
        query = query.where(Article.site == normalize_site(site))
    with db.session() as session:
        return session.scalar(query) or 0


def reextract(db: Database, reextract_text: ReextractText, *, site: str | None = None, batch: int = BATCH,
              on_error: OnError | None = None, on_batch: Callable[[Summary], None] | None = None) -> Summary:
    """Every article (of ``site``), from its latest revision that has a raw page."""
    return rewrite(db, partial(_latest_pages, site=site), reextract_text, batch=batch, on_error=on_error,
                   on_batch=on_batch)


def _extracted(session: Session, candidate: Candidate, reextract_text: ReextractText, summary: Summary,
               on_error: OnError | None) -> str | None:
    raw = session.get(RawPage, candidate.raw_page_id) if candidate.raw_page_id is not None else None
    if raw is None:
        summary.skipped += 1
        return None
    try:
        headers = [(str(k), str(v)) for k, v in json.loads(raw.headers or "[]")]
        text = reextract_text(decompress(raw), raw.url, headers, raw.fetched_at)
    except Exception as exc:  # noqa: BLE001 - one bad page must not stop a run over the whole archive
        summary.errors += 1
        if on_error:
            on_error(candidate.article_id, exc)
        return None
    if not text or not text.strip():
        summary.skipped += 1
        return None
    return text


def _latest_pages(session: Session, last_id: int, size: int, *, site: str | None) -> list[Candidate]:
    query = select(Article.id, Article.revision_count).where(Article.id > last_id).order_by(Article.id).limit(size)
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
    pages = dict(session.execute(
        select(Revision.article_id, Revision.raw_page_id)
        .join(newest, (newest.c.article_id == Revision.article_id) & (newest.c.number == Revision.number))).all())
    titles = dict(session.execute(
        select(Revision.article_id, Revision.title).join(Article, Article.id == Revision.article_id)
        .where(Revision.article_id.in_(ids), Revision.number == Article.revision_count)).all())
    return [Candidate(a.id, a.revision_count, pages.get(a.id), titles.get(a.id)) for a in articles]


def _write(db: Database, results: list[tuple[Candidate, str]], summary: Summary) -> None:
    if not results:
        return
    with db.transaction() as session:
        for candidate, text in results:
            article = session.get(Article, candidate.article_id)
            if article is None or article.revision_count != candidate.revision_count:
                summary.skipped += 1  # deleted or revised since it was read: next run
                continue
            if text_hash(text) == article.text_hash:
                summary.unchanged += 1
                continue
            add_revision(session, article, text=text, title=candidate.title, raw_page_id=candidate.raw_page_id,
                         fetched_at=utcnow())
            summary.changed += 1
