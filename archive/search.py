"""Full-text search: one API over SQLite FTS5 and PostgreSQL tsvector + GIN.

Index. Each article's current title and text (its latest revision's) is indexed under the
article id: on SQLite in ``article_fts``, a contentless FTS5 table (the text already lives in
``revisions``) with the ``unicode61 remove_diacritics 2`` tokenizer; on PostgreSQL in
``article_search`` (article_id, document tsvector, GIN index), built from the words as
``archive.dedup.words`` folds them (lowercase, accents removed) with the ``simple`` config.
Both are accent-insensitive: "defense" finds "défense".

Queries. User text never reaches the engine as syntax: archive/query_syntax.py parses it into
words, phrases, OR and exclusions, rebuilt as an FTS5 expression or tsquery made only of quoted
alphanumeric words.

Ranking. Relevance ranking (bm25 on SQLite, ts_rank_cd on PostgreSQL) costs time linear in the
number of matches: 170 ms median for common words over a million articles. So only the
RANK_CANDIDATES most recently archived matches (highest ids, which the FTS index yields in order
and stops early) are ranked; the best `limit` of them are returned. Trade-off: a query matching
more than RANK_CANDIDATES articles ranks the newest RANK_CANDIDATES of them only, so an older,
more relevant article can be left out; narrow the query or filter by date to reach it.
Queries matching fewer articles are ranked over all their matches. Filters are checked on each
match walked, newest first: a filter that rejects most of a common query's matches (a rare
flag, an old date range wider than DATE_RANGE_IDS articles) makes that walk longer.

Pages. ``offset`` pages through the same ranked candidates, so a page costs what the first one
does and results stop after RANK_CANDIDATES. ``order="newest"`` skips ranking: the walk stops
after ``offset + limit`` matches, which makes it the cheapest order (a feed of a query).
Counting matches per site, language or month is archive/facets.py's job (it walks them all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import TextClause, bindparam, select, text
from sqlalchemy.orm import Session

from archive.dedup import fold, words
from archive.models import Article, Revision
from archive.query_syntax import MAX_TERMS, Query, QueryError, parse_query  # noqa: F401 - the search API
from archive.snippets import SNIPPET_WORDS, render_snippet, snippet_pieces
from archive.urls import normalize_site

RANK_CANDIDATES = 1000
TITLE_WEIGHT = 4.0
DATE_RANGE_IDS = 50_000


# ---------------------------------------------------------------------------- indexing

def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


# A tsvector holds at most 1 MB: index the first words of an enormous page rather than fail its save.
MAX_INDEXED_CHARS = 400_000


def _document(title: str | None, body: str) -> tuple[str, str]:
    return " ".join(words(title or ""))[:10_000], " ".join(words(body[:MAX_INDEXED_CHARS]))


def index_article(session: Session, article_id: int, title: str | None, body: str,
                  *, previous: tuple[str | None, str] | None = None) -> None:
    """Index an article's current title and text; `previous` is what was indexed before, if any.

    The SQLite table is contentless: removing a row's terms needs the exact values indexed then,
    which are the article's previous latest revision's (revisions are never edited).
    """
    if _is_sqlite(session):
        if previous is not None:
            session.execute(text("INSERT INTO article_fts(article_fts, rowid, title, text) "
                                 "VALUES ('delete', :id, :title, :text)"),
                            {"id": article_id, "title": previous[0] or "", "text": previous[1]})
        session.execute(text("INSERT INTO article_fts(rowid, title, text) VALUES (:id, :title, :text)"),
                        {"id": article_id, "title": title or "", "text": body})
    else:
        folded_title, folded_text = _document(title, body)
        session.execute(text(
            "INSERT INTO article_search (article_id, document) VALUES (:id, "
            "setweight(to_tsvector('simple', :title), 'A') || setweight(to_tsvector('simple', :text), 'D')) "
            "ON CONFLICT (article_id) DO UPDATE SET document = excluded.document"
        ), {"id": article_id, "title": folded_title, "text": folded_text})


def matching_ids_clause(session: Session, query: Query) -> TextClause:
    """A `SELECT <article id>` of every article matching the query (unranked), for IN filters."""
    if _is_sqlite(session):
        return text("SELECT rowid FROM article_fts WHERE article_fts MATCH :fts_query").bindparams(
            fts_query=query.fts5())
    return text("SELECT article_id FROM article_search WHERE document @@ to_tsquery('simple', :ts_query)"
                ).bindparams(ts_query=query.tsquery())


# ---------------------------------------------------------------------------- searching

@dataclass(frozen=True)
class Filters:
    site: str | None = None
    language: str | None = None
    since: datetime | None = None  # published at or after
    until: datetime | None = None  # published before
    has_revisions: bool | None = None  # True: edited articles only; False: never edited
    include_duplicates: bool = True

    def sql(self, alias: str = "a") -> tuple[str, dict]:
        """A SQL condition on the articles table (aliased) and its parameters."""
        where: list[str] = []
        params: dict[str, object] = {}
        if self.site:
            site = normalize_site(self.site)
            where.append(f"{alias}.site = :f_site")
            params["f_site"] = site
        if self.language:
            where.append(f"{alias}.language = :f_lang")
            params["f_lang"] = self.language.lower()
        if self.since:
            where.append(f"{alias}.published >= :f_since")
            params["f_since"] = self.since
        if self.until:
            where.append(f"{alias}.published < :f_until")
            params["f_until"] = self.until
        if self.has_revisions is not None:
            where.append(f"{alias}.revision_count {'>' if self.has_revisions else '='} 1")
        if not self.include_duplicates:
            where.append(f"{alias}.duplicate_of_id IS NULL")
        return " AND ".join(where), params

    def apply(self, statement):
        """The same filters on a select() over Article."""
        if self.site:
            statement = statement.where(Article.site == normalize_site(self.site))
        if self.language:
            statement = statement.where(Article.language == self.language.lower())
        if self.since:
            statement = statement.where(Article.published >= self.since)
        if self.until:
            statement = statement.where(Article.published < self.until)
        if self.has_revisions is not None:
            statement = statement.where(
                Article.revision_count > 1 if self.has_revisions else Article.revision_count == 1)
        if not self.include_duplicates:
            statement = statement.where(Article.duplicate_of_id.is_(None))
        return statement


@dataclass
class Hit:
    id: int
    url: str
    title: str | None
    site: str
    published: datetime | None
    language: str | None
    score: float
    snippet: str
    duplicate_of_id: int | None = None
    revisions: int = 1
    extra: dict = field(default_factory=dict)
    # the snippet as (text, is a query word) pieces, for callers that mark matches their own way
    pieces: list[tuple[str, bool]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"id": self.id, "url": self.url, "title": self.title, "site": self.site,
                "published": self.published.isoformat() if self.published else None,
                "language": self.language, "score": round(self.score, 4), "snippet": self.snippet,
                "duplicate_of_id": self.duplicate_of_id, "revisions": self.revisions}


def _statement(sql: str, params: dict) -> TextClause:
    """text(sql), with the date filters bound as the column's type (UTC, as stored)."""
    statement = text(sql)
    for name in ("f_since", "f_until"):
        if name in params:
            statement = statement.bindparams(bindparam(name, type_=Article.__table__.c.published.type))
    return statement


ORDERS = ("rank", "newest")


def search(session: Session, user_query: str | Query, *, filters: Filters | None = None,
           limit: int = 20, offset: int = 0, order: str = "rank") -> list[Hit]:
    """The best `limit` matches after the first `offset`, ranked among the newest RANK_CANDIDATES
    matches; with order="newest", the most recently archived matches first (see module doc)."""
    query = parse_query(user_query) if isinstance(user_query, str) else user_query
    filters = filters or Filters()
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}: one of {', '.join(ORDERS)}")
    limit = max(1, min(int(limit), RANK_CANDIDATES))
    offset = max(0, int(offset))
    if offset >= RANK_CANDIDATES:
        return []
    condition, params = filters.sql("a")
    extra = f" AND {condition}" if condition else ""
    if _is_sqlite(session):
        bounds = _id_bounds(session, filters)
        if bounds == (None, None):
            return []
        if bounds is not None:
            extra += " AND f.rowid BETWEEN :id_low AND :id_high"
            params["id_low"], params["id_high"] = bounds
        sql = (f"SELECT f.rowid AS id, bm25(article_fts, {TITLE_WEIGHT}, 1.0) AS score "
               f"FROM article_fts f JOIN articles a ON a.id = f.rowid "
               f"WHERE article_fts MATCH :q{extra} ORDER BY f.rowid DESC LIMIT :cap")
        params["q"] = query.fts5()
        reverse = False  # bm25: lower is better
    else:
        sql = (f"SELECT m.id, ts_rank_cd(m.document, q.q) AS score FROM "
               f"(SELECT s.article_id AS id, s.document FROM article_search s JOIN articles a ON a.id = s.article_id "
               f" WHERE s.document @@ to_tsquery('simple', :q){extra} ORDER BY s.article_id DESC LIMIT :cap) m, "
               f"to_tsquery('simple', :q) AS q(q)")
        params["q"] = query.tsquery()
        reverse = True
    newest = order == "newest"
    params["cap"] = min(offset + limit, RANK_CANDIDATES) if newest else RANK_CANDIDATES
    rows = list(session.execute(_statement(sql, params), params).all())
    rows.sort(key=(lambda r: -r.id) if newest else (lambda r: (r.score if not reverse else -r.score, -r.id)))
    best = rows[offset:offset + limit]
    if not best:
        return []
    scores = {r.id: float(r.score) for r in best}
    found = session.execute(
        select(Article, Revision.text)
        .join(Revision, (Revision.article_id == Article.id) & (Revision.number == Article.revision_count))
        .where(Article.id.in_(scores))
    ).all()
    by_id = {article.id: (article, body) for article, body in found}
    hits = []
    for article_id in scores:
        if article_id not in by_id:
            continue
        article, body = by_id[article_id]
        pieces = snippet_pieces(body, query.words)
        hits.append(Hit(id=article.id, url=article.canonical_url, title=article.title, site=article.site,
                        published=article.published, language=article.language,
                        score=-scores[article_id] if not reverse else scores[article_id],
                        snippet=render_snippet(pieces), duplicate_of_id=article.duplicate_of_id,
                        revisions=article.revision_count, pieces=pieces))
    return hits


def _id_bounds(session: Session, filters: Filters) -> tuple[int | None, int | None] | None:
    """The id range of the articles in a narrow published-date range, else None.

    FTS5 walks matches newest first and skips those the filters reject: a date range far in the
    past would make it skip every newer match. Articles are archived roughly in publication order,
    so bounding the walk to the ids of the articles in the range (a necessary condition, never an
    approximation) lets FTS5 seek straight there. Only for ranges of at most DATE_RANGE_IDS
    articles, so that computing the bounds stays cheap.
    """
    if not (filters.since or filters.until):
        return None
    dates = Filters(since=filters.since, until=filters.until)
    condition, params = dates.sql("a")
    row = session.execute(_statement(
        f"SELECT min(id) AS low, max(id) AS high, count(*) AS n FROM "
        f"(SELECT a.id FROM articles a WHERE {condition} LIMIT {DATE_RANGE_IDS + 1})", params), params).one()
    if row.n > DATE_RANGE_IDS:
        return None
    return row.low, row.high


def snippet(body: str, query_words: set[str], *, width: int = SNIPPET_WORDS) -> str:
    """The passage of `width` words with the most query words, matches marked with [brackets]."""
    return render_snippet(snippet_pieces(body, query_words, width=width))


__all__ = ["Filters", "Hit", "ORDERS", "Query", "QueryError", "RANK_CANDIDATES", "fold", "index_article",
           "matching_ids_clause", "parse_query", "render_snippet", "search", "snippet", "snippet_pieces"]
