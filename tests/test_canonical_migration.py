"""Migration a14_canonical: an archive built with the old URL rules is brought to the new ones.

The archive is built as the old code left it, by inserting rows directly (the old rules kept
query order and itm_/mtm_ parameters), at the schema before a14_canonical; then upgraded. Every
revision, text, raw page and URL must still be there, on the article it now belongs to.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select, text

from archive import dedup, search
from archive.db import Database, alembic_config
from archive.models import Alias, Article, ArticleBand, FrontierURL, RawPage, Revision
from archive.recanonicalize import recanonicalize
from archive.store import find_article
from archive.text import text_hash
from tests.conftest import PG_ADMIN_URL

T0 = datetime(2024, 3, 1, 8, tzinfo=timezone.utc)
WORDS = " ".join(f"mot{i}" for i in range(40))
# (key, old canonical URL, first seen hour, [(fetched hour, text)], aliases, copy of)
OLD_ARCHIVE = [
    ("a1", "https://news.test/a?b=2&a=1", 0, [(0, "alpha " + WORDS), (2, "alpha gamma " + WORDS)],
     ["https://news.test/a?b=2&a=1&utm_source=rss"], None),
    ("a2", "https://news.test/a?a=1&b=2", 1, [(1, "alpha " + WORDS), (3, "alpha delta " + WORDS)], [], "a1"),
    ("a3", "https://news.test/a?a=1&b=2&itm_source=home", 4, [(4, "alpha epsilon " + WORDS)],
     ["https://news.test/a?itm_source=home&a=1&b=2"], None),
    ("copy", "https://other.test/copie", 5, [(5, "zeta " + WORDS)], [], "a2"),
    ("b", "https://news.test/b?mtm_campaign=nl", 6, [(6, "beta " + WORDS)], [], None),
    ("d", "https://news.test/d", 7, [(7, "unchanged " + WORDS)], [], None),
]
MERGED = "https://news.test/a?a=1&b=2"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """An archive of its own (the migration is run down and up on it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"newsarchive_a14_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def build_old_archive(db: Database) -> dict[str, int]:
    """The rows the old code wrote, with their index entries; returns article ids by key."""
    ids: dict[str, int] = {}
    with db.transaction() as s:
        for key, url, first, history, alias_urls, copy_of in OLD_ARCHIVE:
            article = Article(canonical_url=url, site=url.split("/")[2], title=f"title {key}",
                              text_hash=text_hash(history[-1][1]), first_seen=T0 + timedelta(hours=first),
                              last_seen=T0 + timedelta(hours=history[-1][0]), revision_count=len(history),
                              duplicate_of_id=ids.get(copy_of))
            s.add(article)
            s.flush()
            ids[key] = article.id
            for number, (hour, body) in enumerate(history, 1):
                raw = RawPage(url=url, fetched_at=T0 + timedelta(hours=hour), status=200, headers="[]",
                              compression="identity", body=f"<p>{key} {number}</p>".encode())
                s.add(Revision(article_id=article.id, number=number, fetched_at=raw.fetched_at,
                               title=f"title {key}", text=body, text_hash=text_hash(body), raw_page=raw))
            s.add_all(Alias(url=a, article_id=article.id) for a in alias_urls)
            s.flush()
            dedup.index_bands(s, article.id, dedup.text_band_keys(history[-1][1]))
            search.index_article(s, article.id, f"title {key}", history[-1][1])
        s.add_all([FrontierURL(url="https://news.test/b?mtm_source=x&mtm_campaign=nl", state="pending"),
                   FrontierURL(url="https://news.test/nouveau", state="pending"),
                   FrontierURL(url="https://news.test/d", state="failed")])
    return ids


def check_migrated(db: Database, ids: dict[str, int]) -> None:
    with db.session() as s:
        assert s.scalar(select(func.count(Revision.id))) == 8  # as many as before
        assert s.scalar(select(func.count(RawPage.id))) == 8
        assert s.scalar(select(func.count()).select_from(Revision).where(Revision.raw_page_id.is_(None))) == 0

        merged = s.scalars(select(Article).where(Article.canonical_url == MERGED)).one()
        assert merged.id == ids["a1"]  # the first seen survives
        assert merged.revision_count == 5 and merged.first_seen == T0 and merged.last_seen == T0 + timedelta(hours=4)
        revisions = [(r.number, r.fetched_at, r.text.split()[1]) for r in merged.revisions]
        assert revisions == [(1, T0, "mot0"), (2, T0 + timedelta(hours=1), "mot0"),
                             (3, T0 + timedelta(hours=2), "gamma"), (4, T0 + timedelta(hours=3), "delta"),
                             (5, T0 + timedelta(hours=4), "epsilon")]
        assert [r.raw_page.body for r in merged.revisions] == [b"<p>a1 1</p>", b"<p>a2 1</p>", b"<p>a1 2</p>",
                                                               b"<p>a2 2</p>", b"<p>a3 1</p>"]
        assert merged.text_hash == text_hash("alpha epsilon " + WORDS)
        assert merged.title == "title a3"  # the metadata of the latest fetch
        assert sorted(a.url for a in merged.aliases) == sorted([
            "https://news.test/a?b=2&a=1", "https://news.test/a?b=2&a=1&utm_source=rss",
            "https://news.test/a?a=1&b=2&itm_source=home", "https://news.test/a?itm_source=home&a=1&b=2"])
        assert s.get(Article, ids["a2"]) is None and s.get(Article, ids["a3"]) is None
        assert merged.duplicate_of_id is None
        assert s.get(Article, ids["copy"]).duplicate_of_id == merged.id  # pointed at a2

        renamed = s.get(Article, ids["b"])
        assert renamed.canonical_url == "https://news.test/b"
        assert [a.url for a in renamed.aliases] == ["https://news.test/b?mtm_campaign=nl"]
        assert s.get(Article, ids["d"]).canonical_url == "https://news.test/d" and not s.get(Article, ids["d"]).aliases
        for key, url, *_ in OLD_ARCHIVE:  # every old URL still finds its article
            assert find_article(s, url).id == (merged.id if key.startswith("a") else ids[key])

        # the indexes follow the survivor's latest text, the merged articles are out of them
        bands = set(s.scalars(select(ArticleBand.band_key).where(ArticleBand.article_id == merged.id)))
        assert bands == set(dedup.text_band_keys("alpha epsilon " + WORDS))
        gone = s.scalar(select(func.count()).select_from(ArticleBand)
                        .where(ArticleBand.article_id.in_([ids["a2"], ids["a3"]])))
        assert gone == 0
        assert [h.id for h in search.search(s, "epsilon")] == [merged.id]
        assert search.search(s, "delta") == [] and search.search(s, "gamma") == []
        assert [h.id for h in search.search(s, "alpha")] == [merged.id]
        assert [h.id for h in search.search(s, "beta")] == [ids["b"]]
        if db.is_sqlite:
            s.execute(text("INSERT INTO article_fts(article_fts) VALUES ('integrity-check')"))

        states = dict(s.execute(select(FrontierURL.url, FrontierURL.state)).all())
        assert states == {"https://news.test/b?mtm_source=x&mtm_campaign=nl": "done",  # archived now
                          "https://news.test/nouveau": "pending", "https://news.test/d": "failed"}


def test_an_old_archive_migrates(fresh_url):
    db = Database(fresh_url)
    config = alembic_config(db)
    before = ScriptDirectory.from_config(config).get_revision("a14_canonical").down_revision
    command.downgrade(config, before)
    ids = build_old_archive(db)
    command.upgrade(config, "head")
    check_migrated(db, ids)
    command.check(config)  # the models and migrations still agree
    db.dispose()


def test_the_pass_works_in_small_batches_and_twice(db):
    ids = build_old_archive(db)
    with db.engine.begin() as connection:
        summary = recanonicalize(connection, batch=2)
    assert summary.as_dict() == {"changed": 3, "merged": 2, "frontier_done": 1}
    check_migrated(db, ids)
    with db.engine.begin() as connection:
        assert recanonicalize(connection, batch=2).as_dict() == {"changed": 0, "merged": 0, "frontier_done": 0}
    check_migrated(db, ids)
