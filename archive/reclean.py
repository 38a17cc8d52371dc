"""Re-cleaning a site's articles when its furniture grew (archive/furniture.py learns it).

`reclean` re-extracts only the articles of that site whose current text contains one of the
new lines (a LIKE prefilter, then the caller's exact check), from each article's latest raw
page, and records a revision where the clean text changed (pointing at the same raw page).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from sqlalchemy import func, or_, select

from archive import dedup
from archive.db import Database
from archive.models import Article, RawPage, Revision, utcnow
from archive.store import add_revision, decompress
from archive.urls import normalize_site

RECLEAN_BATCH = 100
# Articles checked per furniture change at most: the crawl waits for a re-clean (about 50 ms an
# article), and a change is rare (a new box on the site, or the first pages of a new site).
RECLEAN_LIMIT = 500

# (raw body, URL, headers, fetched_at) -> clean text, or None when the page gives nothing usable
Reextract = Callable[[bytes, str, list[tuple[str, str]], datetime], "str | None"]


@dataclass
class RecleanSummary:
    checked: int = 0
    changed: int = 0
    skipped: int = 0
    truncated: bool = False  # stopped at the limit: more articles may hold the lines


def _like_pattern(sample: str) -> str | None:
    core = sample.strip()
    start, end = 0, len(core)
    while start < end and not core[start].isalnum():
        start += 1
    while end > start and not core[end - 1].isalnum():
        end -= 1
    core = core[start:end]
    if not core:
        return None
    escaped = core.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    # any one character for a non-ASCII one: SQLite's lower() folds ASCII only ("É" vs "é")
    return "%" + "".join(c if c.isascii() else "_" for c in escaped) + "%"


def reclean(db: Database, site: str, samples: Iterable[str], reextract: Reextract, *,
            affected: Callable[[str], bool], limit: int = RECLEAN_LIMIT) -> RecleanSummary:
    """Re-extract the site's articles whose current text contains one of ``samples`` (new furniture).

    ``affected(text)`` is the exact test on an article's current text (the caller compares
    fingerprints); ``reextract`` gives the clean text of a stored raw page. Pages are read and
    extracted outside write transactions; each batch is written in one short transaction, and an
    article revised meanwhile is left alone.
    """
    site = normalize_site(site)
    patterns = [p for p in map(_like_pattern, samples) if p]
    summary = RecleanSummary()
    if not patterns:
        return summary
    last_id = 0
    while True:
        if summary.checked >= limit:
            summary.truncated = True
            return summary
        with db.session() as session:
            query = (select(Article.id, Article.revision_count, Revision.text, Revision.title, Revision.raw_page_id)
                     .join(Revision, (Revision.article_id == Article.id) & (Revision.number == Article.revision_count))
                     .where(Article.site == site, Article.id > last_id,
                            or_(*(func.lower(Revision.text).like(func.lower(p), escape="\\") for p in patterns)))
                     .order_by(Article.id).limit(min(RECLEAN_BATCH, limit - summary.checked)))
            candidates = session.execute(query).all()
            if not candidates:
                return summary
            last_id = candidates[-1].id
            results = []
            for row in candidates:
                summary.checked += 1
                if row.raw_page_id is None or not affected(row.text):
                    summary.skipped += 1
                    continue
                raw = session.get(RawPage, row.raw_page_id)
                headers = [(str(k), str(v)) for k, v in json.loads(raw.headers or "[]")]
                text = reextract(decompress(raw), raw.url, headers, raw.fetched_at)
                if not text or not text.strip():
                    summary.skipped += 1
                    continue
                results.append((row, text))
        _write(db, results, summary)


def _write(db: Database, results, summary: RecleanSummary) -> None:
    if not results:
        return
    with db.transaction() as session:
        for row, text in results:
            article = session.get(Article, row.id)
            if article is None or article.revision_count != row.revision_count or \
                    dedup.text_hash(text) == article.text_hash:
                summary.skipped += 1
                continue
            add_revision(session, article, text=text, title=row.title, raw_page_id=row.raw_page_id,
                         fetched_at=utcnow())
            summary.changed += 1
