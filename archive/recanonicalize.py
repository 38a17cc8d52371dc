"""Bringing archived URLs to the current canonical rules (archive/urls.py clean_url), losing nothing.

Run by the migration that changed the rules (a14_canonical), on its connection and in its
transaction. For every article whose canonical URL is not canonical any more:

* the article gets the new URL and the old one becomes one of its aliases;
* articles whose URLs now coincide are merged into the one first seen: the others' revisions
  move over and all are renumbered in the order they were fetched, their aliases and old URLs
  become the survivor's aliases, copies that pointed at them point at the survivor, and the
  full-text and near-duplicate indexes follow the survivor's latest text;
* a frontier URL still pending that is now archived (under its canonical form) is done.

Everything is read in batches of ``batch`` rows (keyset pagination), so memory stays flat on a
million-article archive; the changed articles are listed in a temporary table. Queries name the
columns they use, so a later migration adding columns does not break this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from archive import dedup, search
from archive.models import UTCDateTime
from archive.urls import InvalidURL, clean_url

BATCH = 1000
MOVES = "canonical_moves"
MOVING = "a14-moving:"  # a placeholder no real canonical URL starts with

articles = sa.table(
    "articles", sa.column("id", sa.Integer), sa.column("canonical_url", sa.String),
    sa.column("title", sa.Text), sa.column("author", sa.Text), sa.column("published", UTCDateTime()),
    sa.column("updated", UTCDateTime()), sa.column("language", sa.String), sa.column("first_seen", UTCDateTime()),
    sa.column("last_seen", UTCDateTime()), sa.column("text_hash", sa.String), sa.column("revision_count", sa.Integer),
    sa.column("duplicate_of_id", sa.Integer), sa.column("source_id", sa.Integer), sa.column("etag", sa.String),
    sa.column("last_modified", sa.String))
revisions = sa.table(
    "revisions", sa.column("id", sa.Integer), sa.column("article_id", sa.Integer), sa.column("number", sa.Integer),
    sa.column("fetched_at", UTCDateTime()), sa.column("title", sa.Text), sa.column("text", sa.Text),
    sa.column("text_hash", sa.String))
aliases = sa.table("aliases", sa.column("id", sa.Integer), sa.column("url", sa.String),
                   sa.column("article_id", sa.Integer))
frontier = sa.table("frontier", sa.column("id", sa.Integer), sa.column("url", sa.String), sa.column("state", sa.String))
moves = sa.table(MOVES, sa.column("article_id", sa.Integer), sa.column("old_url", sa.String),
                 sa.column("new_url", sa.String))
# Metadata the survivor takes from the member fetched last, or from any member that has it.
METADATA = ("title", "author", "published", "updated", "language", "source_id", "etag", "last_modified")


@dataclass
class Summary:
    changed: int = 0  # articles whose canonical URL changed
    merged: int = 0  # articles merged into another (and so removed)
    frontier_done: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def recanonicalize(connection: Connection, *, batch: int = BATCH) -> Summary:
    summary = Summary()
    session = Session(bind=connection)  # for the index helpers of archive/dedup.py and search.py
    connection.execute(sa.text(f"CREATE TEMPORARY TABLE {MOVES} (article_id INTEGER PRIMARY KEY, "
                               "old_url VARCHAR(2048) NOT NULL, new_url VARCHAR(2048) NOT NULL)"))
    connection.execute(sa.text(f"CREATE INDEX ix_{MOVES}_new_url ON {MOVES} (new_url)"))
    try:
        summary.changed = _list_moves(connection, batch)
        if summary.changed:
            # Out of the way first, so no new URL collides with an old one not yet moved.
            connection.execute(articles.update().where(articles.c.id.in_(sa.select(moves.c.article_id)))
                               .values(canonical_url=sa.literal(MOVING) + sa.cast(articles.c.id, sa.String)))
            summary.merged = _apply_moves(connection, session, batch)
        summary.frontier_done = _finish_frontier(connection, batch)
        session.flush()
    finally:
        connection.execute(sa.text(f"DROP TABLE {MOVES}"))
    return summary


def _new_url(url: str) -> str:
    try:
        return clean_url(url)
    except InvalidURL:
        return url  # archived before the URL checks: left as it is rather than lost


def _list_moves(connection: Connection, batch: int) -> int:
    count, last = 0, 0
    while True:
        rows = connection.execute(sa.select(articles.c.id, articles.c.canonical_url).where(articles.c.id > last)
                                  .order_by(articles.c.id).limit(batch)).all()
        if not rows:
            return count
        last = rows[-1].id
        changed = [{"article_id": r.id, "old_url": r.canonical_url, "new_url": _new_url(r.canonical_url)}
                   for r in rows]
        changed = [c for c in changed if c["new_url"] != c["old_url"]]
        if changed:
            connection.execute(moves.insert(), changed)
            count += len(changed)


def _apply_moves(connection: Connection, session: Session, batch: int) -> int:
    merged, last = 0, ""
    while True:
        targets = list(connection.execute(sa.select(moves.c.new_url).distinct().where(moves.c.new_url > last)
                                          .order_by(moves.c.new_url).limit(batch)).scalars())
        if not targets:
            return merged
        last = targets[-1]
        groups: dict[str, list[tuple[int, str]]] = {t: [] for t in targets}
        for row in connection.execute(sa.select(moves).where(moves.c.new_url.in_(targets))):
            groups[row.new_url].append((row.article_id, row.old_url))
        # an article already at the new URL (its own URL did not change) joins the group
        for row in connection.execute(sa.select(articles.c.id, articles.c.canonical_url)
                                      .where(articles.c.canonical_url.in_(targets))):
            groups[row.canonical_url].append((row.id, row.canonical_url))
        renamed = []
        for target, members in groups.items():
            if len(members) == 1:
                renamed.append((*members[0], target))
            else:
                merged += _merge(connection, session, members, target)
        _rename(connection, renamed)


def _rename(connection: Connection, renamed: list[tuple[int, str, str]]) -> None:
    """Articles that only change URL: (id, old URL, new URL) each; the old URL becomes an alias."""
    if not renamed:
        return
    connection.execute(articles.update().where(articles.c.id == sa.bindparam("aid"))
                       .values(canonical_url=sa.bindparam("new")), [{"aid": a, "new": n} for a, _, n in renamed])
    # an alias that is now the article's own canonical URL says nothing more
    connection.execute(aliases.delete().where(aliases.c.article_id == sa.bindparam("aid"),
                                              aliases.c.url == sa.bindparam("new")),
                       [{"aid": a, "new": n} for a, _, n in renamed])
    taken = set(connection.execute(sa.select(aliases.c.url).where(aliases.c.url.in_([o for _, o, _ in renamed])))
                .scalars())
    fresh = [{"url": o, "article_id": a} for a, o, _ in renamed if o not in taken]
    if fresh:
        connection.execute(aliases.insert(), fresh)


def _add_alias(connection: Connection, article_id: int, url: str) -> None:
    if connection.execute(sa.select(aliases.c.id).where(aliases.c.url == url)).first() is None:
        connection.execute(aliases.insert().values(url=url, article_id=article_id))


def _merge(connection: Connection, session: Session, members: list[tuple[int, str]], target: str) -> int:
    """Merge the articles of one new URL into the one first seen; returns how many were merged."""
    ids = [article_id for article_id, _ in members]
    rows = {r.id: r for r in connection.execute(sa.select(articles).where(articles.c.id.in_(ids)))}
    survivor = min(rows.values(), key=lambda r: (r.first_seen, r.id))
    others = [i for i in ids if i != survivor.id]
    history = connection.execute(
        sa.select(revisions.c.id, revisions.c.article_id, revisions.c.number, revisions.c.fetched_at,
                  revisions.c.title, revisions.c.text, revisions.c.text_hash)
        .where(revisions.c.article_id.in_(ids))
        .order_by(revisions.c.fetched_at, revisions.c.article_id, revisions.c.number)).all()
    _unindex(connection, session, rows, history)

    # Renumber in fetched order: negative numbers first, so (article_id, number) stays unique.
    if history:
        connection.execute(revisions.update().where(revisions.c.id == sa.bindparam("rid"))
                           .values(article_id=survivor.id, number=sa.bindparam("n")),
                           [{"rid": r.id, "n": -(k + 1)} for k, r in enumerate(history)])
        connection.execute(revisions.update().where(revisions.c.article_id == survivor.id, revisions.c.number < 0)
                           .values(number=-revisions.c.number))
    connection.execute(aliases.update().where(aliases.c.article_id.in_(others)).values(article_id=survivor.id))
    connection.execute(articles.update().where(articles.c.duplicate_of_id.in_(others))
                       .values(duplicate_of_id=survivor.id))
    connection.execute(articles.delete().where(articles.c.id.in_(others)))

    connection.execute(articles.update().where(articles.c.id == survivor.id)
                       .values(canonical_url=target, **_merged_fields(rows, survivor, ids, history)))
    connection.execute(aliases.delete().where(aliases.c.url == target, aliases.c.article_id == survivor.id))
    for _, old_url in members:
        if old_url != target:
            _add_alias(connection, survivor.id, old_url)
    if history:
        latest = history[-1]
        dedup.index_bands(session, survivor.id, dedup.text_band_keys(latest.text))
        search.index_article(session, survivor.id, latest.title, latest.text)
    session.flush()
    return len(others)


def _unindex(connection: Connection, session: Session, rows: dict, history: Sequence) -> None:
    """Take every member out of the full-text and near-duplicate indexes."""
    ids = list(rows)
    connection.execute(sa.text("DELETE FROM article_bands WHERE article_id IN :ids")
                       .bindparams(sa.bindparam("ids", expanding=True)), {"ids": ids})
    if connection.dialect.name != "sqlite":
        connection.execute(sa.text("DELETE FROM article_search WHERE article_id IN :ids")
                           .bindparams(sa.bindparam("ids", expanding=True)), {"ids": ids})
        return
    # A contentless FTS5 row is removed with the very values indexed: its latest revision's.
    latest = {(r.article_id, r.number): r for r in history}
    for row in rows.values():
        indexed = latest.get((row.id, row.revision_count))
        if indexed is not None:
            connection.execute(sa.text("INSERT INTO article_fts(article_fts, rowid, title, text) "
                                       "VALUES ('delete', :id, :title, :text)"),
                               {"id": row.id, "title": indexed.title or "", "text": indexed.text})


def _merged_fields(rows: dict, survivor, ids: list[int], history: Sequence) -> dict:
    members = sorted(rows.values(), key=lambda r: _last_fetched(r.id, history) or r.last_seen, reverse=True)
    fields = {name: next((getattr(m, name) for m in members if getattr(m, name) is not None), None)
              for name in METADATA}
    duplicate_of = survivor.duplicate_of_id if survivor.duplicate_of_id not in ids else None
    return dict(fields, first_seen=min(r.first_seen for r in rows.values()),
                last_seen=max(r.last_seen for r in rows.values()), revision_count=len(history),
                text_hash=history[-1].text_hash if history else survivor.text_hash, duplicate_of_id=duplicate_of)


def _last_fetched(article_id: int, history: Sequence) -> datetime | None:
    return max((r.fetched_at for r in history if r.article_id == article_id), default=None)


def _finish_frontier(connection: Connection, batch: int) -> int:
    """Pending frontier URLs that are archived now under their canonical form: done."""
    done, last = 0, 0
    while True:
        rows = connection.execute(sa.select(frontier.c.id, frontier.c.url)
                                  .where(frontier.c.state == "pending", frontier.c.id > last)
                                  .order_by(frontier.c.id).limit(batch)).all()
        if not rows:
            return done
        last = rows[-1].id
        canonical = {r.id: _new_url(r.url) for r in rows}
        wanted = set(canonical.values()) | {r.url for r in rows}
        archived = set(connection.execute(sa.select(articles.c.canonical_url)
                                          .where(articles.c.canonical_url.in_(wanted))).scalars())
        archived |= set(connection.execute(sa.select(aliases.c.url).where(aliases.c.url.in_(wanted))).scalars())
        finished = [r.id for r in rows if canonical[r.id] in archived or r.url in archived]
        if finished:
            connection.execute(frontier.update().where(frontier.c.id.in_(finished)).values(state="done"))
            done += len(finished)
