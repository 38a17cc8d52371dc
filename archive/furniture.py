"""Page furniture learned per site: paragraphs that recur on many distinct pages of one site.

Each article page is learned once, when it is first archived: every distinct paragraph
fingerprint of its text (before learned furniture is removed, so counts keep growing) adds one
to that line's ``pages`` in ``site_lines``. A line is furniture when an operator pinned it, or
when it is not pinned either way and it was seen on at least ``MIN_PAGES`` distinct pages AND
on at least ``MIN_SHARE`` of the pages learned for the site:

* ``MIN_PAGES = 5``: a quote, a standard lead or a correction note shared by two or three
  articles about the same story is text, not furniture; a site's comment prompt, newsletter
  box or ad label is on every page, so it reaches five pages within the first crawl.
* ``MIN_SHARE = 0.3``: on a site with thousands of pages, a sentence repeated across a short
  series (five episodes of a column) stays text; furniture sits on nearly every page, and 30 %
  still catches boxes that only some sections of a site carry (operators pin the rest).
* Small sites: while a site has fewer than ``MIN_PAGES`` learned pages, a line on EVERY one of
  them, once there are at least ``ALL_PAGES_MIN = 3``, is furniture (a new site's first crawl of
  four articles with the same sign-off). A quote two articles share is on two pages of three or
  more, so it stays text. `lines_on_every_page` applies the same rule to pages not learned yet
  (the other pages of one crawl batch).

Lines are keyed by ``archive.text.line_fingerprint``, which the crawler computes as it extracts;
this module stores and counts the integers it is given. The number of pages learned for a site
is kept in the reserved row ``fingerprint = PAGE_TALLY`` of ``site_lines`` (pinned False, never
furniture).

Re-cleaning: when a site's furniture grows, `reclean` re-extracts only the articles of that
site whose current text contains one of the new lines (a LIKE prefilter, then the caller's
exact check), from each article's latest raw page, and records a revision where the clean
text changed (pointing at the same raw page): the loop of archive/reextract.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.db import Database
from archive.models import Article, Revision, SiteLine
from archive.reextract import Candidate, ReextractText, Summary, rewrite
from archive.urls import normalize_site

MIN_PAGES = 5
MIN_SHARE = 0.3
ALL_PAGES_MIN = 3
PAGE_TALLY = -(2**63)  # reserved fingerprint: the row that counts a site's learned pages
SAMPLE_CHARS = 500
MAX_LINES_PER_PAGE = 400  # a page with more paragraphs is learned from its first ones
# Every PRUNE_EVERY pages learned for a site, lines seen on one page only are forgotten: nearly
# every paragraph of an article is its own, and furniture recurs, so it is never a singleton for long.
PRUNE_EVERY = 500
RECLEAN_BATCH = 100
# Articles checked per furniture change at most: the crawl waits for a re-clean (about 50 ms an
# article), and a change is rare (a new box on the site, or the first pages of a new site).
RECLEAN_LIMIT = 500

@dataclass(frozen=True)
class Line:
    fingerprint: int
    sample: str
    pages: int
    pinned: bool | None
    furniture: bool

    @property
    def status(self) -> str:
        if self.pinned is True:
            return "pinned"
        if self.pinned is False:
            return "kept"
        return "learned" if self.furniture else "counting"


def threshold(site_pages: int) -> int:
    """How many distinct pages a line must be seen on to be learned as furniture: every page of
    a small site (ALL_PAGES_MIN to MIN_PAGES - 1 pages), else MIN_PAGES and MIN_SHARE of them."""
    if ALL_PAGES_MIN <= site_pages < MIN_PAGES:
        return site_pages
    return max(MIN_PAGES, math.ceil(MIN_SHARE * site_pages))


def lines_on_every_page(pages: Iterable[Iterable[int]]) -> frozenset[int]:
    """The line fingerprints found on every one of ``pages`` (each an iterable of one page's
    fingerprints), when there are at least ALL_PAGES_MIN pages; else none.

    A pure helper for a writer that holds several pages of one site before archiving them (a
    crawl batch): it can drop these lines at once, before the pages are learned one by one.
    """
    sets = [frozenset(page) for page in pages]
    if len(sets) < ALL_PAGES_MIN:
        return frozenset()
    return frozenset.intersection(*sets)


def is_furniture(pages: int, pinned: bool | None, site_pages: int) -> bool:
    if pinned is not None:
        return pinned
    return pages >= threshold(site_pages)


def learned_pages(session: Session, site: str) -> int:
    return session.scalar(select(SiteLine.pages).where(
        SiteLine.site == normalize_site(site), SiteLine.fingerprint == PAGE_TALLY)) or 0


def _furniture_clause(site_pages: int):
    return or_(SiteLine.pinned.is_(True), (SiteLine.pinned.is_(None) & (SiteLine.pages >= threshold(site_pages))))


def furniture_fingerprints(session: Session, site: str) -> frozenset[int]:
    """The fingerprints of every line that is furniture on this site now."""
    site = normalize_site(site)
    pages = learned_pages(session, site)
    return frozenset(session.scalars(select(SiteLine.fingerprint).where(
        SiteLine.site == site, SiteLine.fingerprint != PAGE_TALLY, _furniture_clause(pages))))


def learn_page(db: Database, site: str, lines: Mapping[int, str]) -> frozenset[int]:
    """Count one page's distinct lines (fingerprint -> text) for its site, once each.

    Returns which of this page's lines are furniture after counting it.
    """
    site = normalize_site(site)
    rows: list[dict[str, Any]] = [
        {"site": site, "fingerprint": fp, "sample": text[:SAMPLE_CHARS], "pages": 1, "pinned": None}
        for fp, text in list(dict(lines).items())[:MAX_LINES_PER_PAGE] if fp != PAGE_TALLY]
    rows.append({"site": site, "fingerprint": PAGE_TALLY, "sample": "(pages learned)", "pages": 1, "pinned": False})
    rows.sort(key=lambda row: row["fingerprint"])  # one lock order for concurrent PostgreSQL writers
    insert = sqlite_insert if db.is_sqlite else pg_insert
    with db.transaction() as session:
        statement = insert(SiteLine).values(rows)
        session.execute(statement.on_conflict_do_update(
            index_elements=["site", "fingerprint"], set_={"pages": SiteLine.pages + 1}))
        pages = learned_pages(session, site)
        if pages % PRUNE_EVERY == 0:
            prune(session, site)
        fingerprints = [row["fingerprint"] for row in rows if row["fingerprint"] != PAGE_TALLY]
        if not fingerprints:
            return frozenset()
        return frozenset(session.scalars(select(SiteLine.fingerprint).where(
            SiteLine.site == site, SiteLine.fingerprint.in_(fingerprints), _furniture_clause(pages))))


def prune(session: Session, site: str) -> int:
    """Forget the site's unpinned lines seen on a single page; returns how many."""
    result = session.connection().execute(delete(SiteLine).where(  # Core: its rowcount is the rows deleted
        SiteLine.site == normalize_site(site), SiteLine.fingerprint != PAGE_TALLY,
        SiteLine.pinned.is_(None), SiteLine.pages <= 1))
    return result.rowcount or 0


def site_lines(session: Session, site: str, *, limit: int | None = 100, min_pages: int = 1) -> list[Line]:
    """The lines learned for a site, most frequent first (pinned lines always included)."""
    site = normalize_site(site)
    pages = learned_pages(session, site)
    query = (select(SiteLine).where(SiteLine.site == site, SiteLine.fingerprint != PAGE_TALLY,
                                    or_(SiteLine.pages >= min_pages, SiteLine.pinned.is_not(None)))
             .order_by(SiteLine.pinned.is_(None), SiteLine.pages.desc(), SiteLine.sample).limit(limit))
    return [Line(row.fingerprint, row.sample, row.pages, row.pinned, is_furniture(row.pages, row.pinned, pages))
            for row in session.scalars(query)]


def set_pinned(session: Session, site: str, fingerprint: int, sample: str, pinned: bool | None) -> Line:
    """Pin a line as furniture (True), keep it as text (False) or let the counts decide (None).

    A line never seen yet is added (with 0 pages) when pinned either way.
    """
    site = normalize_site(site)
    if fingerprint == PAGE_TALLY:
        raise ValueError("reserved fingerprint")
    row = session.get(SiteLine, (site, fingerprint))
    if row is None:
        if pinned is None:
            raise KeyError(sample)
        row = SiteLine(site=site, fingerprint=fingerprint, sample=sample[:SAMPLE_CHARS], pages=0)
        session.add(row)
    row.pinned = pinned
    session.flush()
    return Line(row.fingerprint, row.sample, row.pages, row.pinned,
                is_furniture(row.pages, row.pinned, learned_pages(session, site)))


def learned_sites(session: Session) -> list[tuple[str, int]]:
    """(site, pages learned) of every site with learned lines."""
    rows = session.execute(select(SiteLine.site, SiteLine.pages).where(SiteLine.fingerprint == PAGE_TALLY)
                           .order_by(SiteLine.site))
    return [(site, pages) for site, pages in rows]


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
