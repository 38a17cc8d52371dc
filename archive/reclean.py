"""Re-cleaning a site's articles when its furniture grew (archive/furniture.py learns it).

`reclean` re-extracts only the articles of that site whose current text contains one of the
new lines (a LIKE prefilter, then the caller's exact check), from each article's latest raw
page, and records a revision where the clean text changed (pointing at the same raw page): the
one rewrite loop of archive/reextract.py.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive.db import Database
from archive.models import Article, Revision
from archive.reextract import Candidate, ReextractText, Summary, rewrite
from archive.urls import normalize_site

RECLEAN_BATCH = 100
# Articles checked per furniture change at most: the crawl waits for a re-clean (about 50 ms an
# article), and a change is rare (a new box on the site, or the first pages of a new site).
RECLEAN_LIMIT = 500


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


def reclean(db: Database, site: str, samples: Iterable[str], reextract_text: ReextractText, *,
            affected: Callable[[str], bool], limit: int = RECLEAN_LIMIT) -> Summary:
    """Re-extract the site's articles whose current text contains one of ``samples`` (new furniture).

    ``affected(text)`` is the exact test on an article's current text (the caller compares
    fingerprints); ``reextract_text`` gives the clean text of a stored raw page (archive/reextract.py).
    """
    patterns = [p for p in map(_like_pattern, samples) if p]
    if not patterns:
        return Summary()
    return rewrite(db, partial(_holding, site=normalize_site(site), patterns=patterns, affected=affected),
                   reextract_text, batch=RECLEAN_BATCH, limit=limit)


def _holding(session: Session, last_id: int, size: int, *, site: str, patterns: list[str],
             affected: Callable[[str], bool]) -> list[Candidate]:
    """The next articles of the site whose current text matches a pattern (LIKE), then ``affected``."""
    query = (select(Article.id, Article.revision_count, Revision.text, Revision.title, Revision.raw_page_id)
             .join(Revision, (Revision.article_id == Article.id) & (Revision.number == Article.revision_count))
             .where(Article.site == site, Article.id > last_id,
                    or_(*(func.lower(Revision.text).like(func.lower(p), escape="\\") for p in patterns)))
             .order_by(Article.id).limit(size))
    return [Candidate(row.id, row.revision_count, row.raw_page_id if affected(row.text) else None, row.title)
            for row in session.execute(query)]
