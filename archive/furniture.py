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

The archive never computes fingerprints (that is `crawler.extract.line_fingerprint`); it only
stores and counts the integers it is given. The number of pages learned for a site is kept in
the reserved row ``fingerprint = PAGE_TALLY`` of ``site_lines`` (pinned False, never furniture).

Re-cleaning: when a site's furniture grows, `reclean` (archive/reclean.py) re-extracts the
site's articles holding the new lines.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.db import Database
from archive.models import SiteLine
from archive.reclean import reclean  # noqa: F401 (callers find it here)
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
CHUNK = 500  # fingerprints per IN (...) list


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
    with db.transaction() as session:
        count_pages(session, site, [lines])
        fingerprints = [fp for fp in list(dict(lines))[:MAX_LINES_PER_PAGE] if fp != PAGE_TALLY]
        if not fingerprints:
            return frozenset()
        pages = learned_pages(session, site)
        return frozenset(session.scalars(select(SiteLine.fingerprint).where(
            SiteLine.site == site, SiteLine.fingerprint.in_(fingerprints), _furniture_clause(pages))))


def page_lines(lines: Mapping[int, str]) -> dict[int, str]:
    """The lines of a page that are learned: its first MAX_LINES_PER_PAGE, never the tally's key."""
    return {fp: text for fp, text in list(dict(lines).items())[:MAX_LINES_PER_PAGE] if fp != PAGE_TALLY}


def count_pages(session: Session, site: str, pages: list[Mapping[int, str]]) -> None:
    """Count pages of one site (each: fingerprint -> text) in the caller's transaction: one upsert
    for all of them, in fingerprint order (one lock order for concurrent PostgreSQL writers)."""
    if not pages:
        return
    site = normalize_site(site)
    counts: Counter[int] = Counter()
    samples: dict[int, str] = {}
    for lines in pages:
        for fp, text in page_lines(lines).items():
            counts[fp] += 1
            samples.setdefault(fp, text[:SAMPLE_CHARS])
    counts[PAGE_TALLY] = len(pages)
    samples[PAGE_TALLY] = "(pages learned)"
    before = learned_pages(session, site)
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    rows = [{"site": site, "fingerprint": fp, "sample": samples[fp], "pages": counts[fp],
             "pinned": False if fp == PAGE_TALLY else None} for fp in sorted(counts)]
    statement = insert(SiteLine)  # executemany: one statement compiled once, sent in a few round trips
    session.execute(statement.on_conflict_do_update(
        index_elements=["site", "fingerprint"], set_={"pages": SiteLine.pages + statement.excluded.pages}), rows)
    if before // PRUNE_EVERY != (before + len(pages)) // PRUNE_EVERY:
        prune(session, site)


def known_counts(session: Session, site: str, fingerprints: Iterable[int]) -> dict[int, tuple[int, bool | None]]:
    """fingerprint -> (pages seen on, pinned) of those of these lines the site has counted."""
    wanted = sorted(set(fingerprints) - {PAGE_TALLY})
    found: dict[int, tuple[int, bool | None]] = {}
    for start in range(0, len(wanted), CHUNK):
        found.update((fp, (pages, pinned)) for fp, pages, pinned in session.execute(
            select(SiteLine.fingerprint, SiteLine.pages, SiteLine.pinned).where(
                SiteLine.site == normalize_site(site), SiteLine.fingerprint.in_(wanted[start:start + CHUNK]))))
    return found


def prune(session: Session, site: str) -> int:
    """Forget the site's unpinned lines seen on a single page; returns how many."""
    result = session.execute(delete(SiteLine).where(
        SiteLine.site == normalize_site(site), SiteLine.fingerprint != PAGE_TALLY,
        SiteLine.pinned.is_(None), SiteLine.pages <= 1))
    return getattr(result, "rowcount", 0) or 0


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
