"""How a search's matches split by site, language, month, edited or not, copy or not.

The counts beside each filter of the web app's search page: choosing a value gives that many
results. Each facet is counted under every other active filter but not its own, so a page
narrowed to one site still shows how many matches the other sites have; the date range is the
exception (counted inside it), so the month counts describe the range chosen.

Cost. Counting cannot stop early the way ranking does (archive/search.py): it walks every match.
One grouped query serves all facets (site, language, edited, copy, month per group; a few
hundred groups), and the walk is bounded to the newest FACET_CAP matches: on a query matching
more, every count is a lower bound and `capped` says so. The walk costs about 15 ms per 10,000
matches on SQLite, so a common word's counts stay near 30 ms whatever the archive's size, where
counting 50,000 matches would take four times the ranked search itself (bench/web.py). Without
a query the walk is over the newest archived articles.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from archive.models import Article, Revision
from archive.search import Filters, Query, _id_bounds, _is_sqlite, _statement
from archive.urls import normalize_site

FACET_CAP = 20_000


@dataclass(frozen=True)
class Group:
    site: str
    language: str | None
    revised: bool
    copy: bool
    month: str | None  # "YYYY-MM" (UTC) of publication, None when undated
    count: int


@dataclass
class Facets:
    total: int  # matches passing every filter
    capped: bool  # more matches than FACET_CAP: counts are lower bounds
    sites: list[tuple[str, int]] = field(default_factory=list)  # most first
    languages: list[tuple[str | None, int]] = field(default_factory=list)
    months: list[tuple[str | None, int]] = field(default_factory=list)  # oldest first, undated last
    revised: int = 0
    never_revised: int = 0
    copies: int = 0
    originals: int = 0


def _passes(group: Group, filters: Filters, skip: str) -> bool:
    if skip != "site" and filters.site and group.site != normalize_site(filters.site):
        return False
    if skip != "language" and filters.language and group.language != filters.language.lower():
        return False
    if skip != "revised" and filters.has_revisions is not None and group.revised != filters.has_revisions:
        return False
    if skip != "copy" and not filters.include_duplicates and group.copy:
        return False
    return True


class GroupCache:
    """The grouped walks of recent (query, date range) pairs, for one process.

    Paging through results or switching a site, language, edited or copy filter reuses the walk
    (those filters are applied to its groups). An entry is only used while the archive's newest
    article id and newest revision id are those it was computed at: any article or revision
    archived since (all that can change a count) makes it stale, so cached counts are exact.
    """

    def __init__(self, size: int = 64):
        self.size = size
        self.entries: OrderedDict[tuple, tuple[list[Group], int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple, compute):
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        value = compute()
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return value


def archive_version(session: Session) -> tuple[int, int]:
    """(newest article id, newest revision id): two primary-key lookups."""
    return (session.scalar(select(func.max(Article.id))) or 0, session.scalar(select(func.max(Revision.id))) or 0)


def facet_counts(session: Session, query: Query | None, filters: Filters | None = None, *,
                 cap: int = FACET_CAP, cache: GroupCache | None = None) -> Facets:
    """The facets of the matches of `query` (None: every article) under `filters` (see module doc)."""
    filters = filters or Filters()
    if cache is None:
        groups, walked = _groups(session, query, filters, cap)
    else:
        key = (query, filters.since, filters.until, cap, archive_version(session))
        groups, walked = cache.get(key, lambda: _groups(session, query, filters, cap))
    facets = Facets(total=sum(g.count for g in groups if _passes(g, filters, "")), capped=walked >= cap)
    tallies: dict[str, Counter] = {name: Counter() for name in ("site", "language", "revised", "copy", "month")}
    for g in groups:
        for name in ("site", "language", "revised", "copy"):
            if _passes(g, filters, name):
                tallies[name][getattr(g, name)] += g.count
        if _passes(g, filters, ""):
            tallies["month"][g.month] += g.count
    facets.sites = sorted(tallies["site"].items(), key=lambda kv: (-kv[1], kv[0]))
    facets.languages = sorted(tallies["language"].items(), key=lambda kv: (-kv[1], kv[0] or "~"))
    facets.months = sorted(tallies["month"].items(), key=lambda kv: kv[0] or "~")
    facets.revised, facets.never_revised = tallies["revised"][True], tallies["revised"][False]
    facets.copies, facets.originals = tallies["copy"][True], tallies["copy"][False]
    return facets


def _groups(session: Session, query: Query | None, filters: Filters, cap: int) -> tuple[list[Group], int]:
    """(groups of the newest `cap` matches inside the date range, how many matches were walked)."""
    dates = Filters(since=filters.since, until=filters.until)
    condition, params = dates.sql("a")
    where = f" AND {condition}" if condition else ""
    sqlite = _is_sqlite(session)
    if sqlite and (filters.since or filters.until):
        bounds = _id_bounds(session, dates)
        if bounds == (None, None):
            return [], 0
        if bounds is not None:
            where += " AND a.id BETWEEN :id_low AND :id_high"
            params["id_low"], params["id_high"] = bounds
    # The articles table is joined inside the walk only when a date range needs it.
    joined = " JOIN articles a ON a.id = {}" if where else ""
    if query is None:
        matches = f"SELECT a.id FROM articles a WHERE 1 = 1{where} ORDER BY a.id DESC LIMIT :cap"
    elif sqlite:
        matches = (f"SELECT f.rowid AS id FROM article_fts f{joined.format('f.rowid')} "
                   f"WHERE article_fts MATCH :q{where} ORDER BY f.rowid DESC LIMIT :cap")
        params["q"] = query.fts5()
    else:
        matches = (f"SELECT s.article_id AS id FROM article_search s{joined.format('s.article_id')} "
                   f"WHERE s.document @@ to_tsquery('simple', :q){where} ORDER BY s.article_id DESC LIMIT :cap")
        params["q"] = query.tsquery()
    # SQLite keeps UTC timestamps as "YYYY-MM-DD HH:MM:SS..." text; PostgreSQL as timestamptz.
    month = "substr(a.published, 1, 7)" if sqlite else "to_char(a.published AT TIME ZONE 'UTC', 'YYYY-MM')"
    params["cap"] = cap
    statement = _statement(
        f"SELECT a.site, a.language, a.revision_count > 1 AS revised, a.duplicate_of_id IS NOT NULL AS copy, "
        f"{month} AS month, count(*) AS n FROM ({matches}) m JOIN articles a ON a.id = m.id "
        f"GROUP BY a.site, a.language, a.revision_count > 1, a.duplicate_of_id IS NOT NULL, {month}", params)
    if sqlite or query is None:
        rows = session.execute(statement, params).all()
    else:
        rows = _with_gin_bitmap(session, statement, params)
    groups = [Group(r.site, r.language, bool(r.revised), bool(r.copy), r.month, r.n) for r in rows]
    return groups, sum(g.count for g in groups)


def _with_gin_bitmap(session: Session, statement, params: dict):
    """Run a PostgreSQL walk of many matches through the GIN index's bitmap.

    The planner prices `document @@ query` as cheap and, for a common word, walks the primary key
    backwards testing each row's tsvector (each one detoasted): 250-500 ms for 20,000 matches of
    100,000 articles, where the bitmap of the GIN index gives them in 50-90 ms. Both plan switches
    are set for this statement only (SET LOCAL, then back to the session's values; a failed
    statement aborts the transaction, which drops them too).
    """
    switches = ("enable_seqscan", "enable_indexscan")
    for name in switches:
        session.execute(text(f"SET LOCAL {name} = off"))
    rows = session.execute(statement, params).all()
    for name in switches:
        session.execute(text(f"SET LOCAL {name} TO DEFAULT"))
    return rows
