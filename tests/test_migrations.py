"""Models and Alembic migrations cannot drift: upgrade to head, then `alembic check`, on both backends."""

import hashlib

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import select, update

from archive.db import Database, alembic_config
from archive.models import Article, Revision
from archive.store import ArticleFields, Outcome, Page, save_article
from archive.text import text_hash


def test_single_head():
    assert len(ScriptDirectory.from_config(alembic_config(url="sqlite://")).get_heads()) == 1


def test_models_match_migrations(db_url):
    database = Database(db_url)  # opening migrates to head
    try:
        command.check(alembic_config(database))  # raises when autogenerate finds a difference
    finally:
        database.dispose()


def test_downgrade_to_base_and_back(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'm.db'}")
    config = alembic_config(database)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    database.dispose()


def test_hashes_of_texts_with_invisible_characters_are_recomputed(db_url):
    """A revision archived before the normaliser dropped U+00AD/U+200B/U+FEFF, re-archived with the
    same text after the upgrade, is unchanged, not a spurious new revision."""
    database = Database(db_url)
    config = alembic_config(database)
    command.downgrade(config, "a10_storage")  # the revision before a9_text_hash
    shy = "Le gouver\u00adnement a présenté son budget.\nLa séance\u200b reprend demain."
    old_hash = hashlib.sha256(shy.encode("utf-8")).hexdigest()  # the old normaliser kept them: shy is normal
    page = Page(url="https://news.test/budget/", status=200, headers=[], body=b"<p>budget</p>")
    saved = save_article(database, page, ArticleFields(text=shy))
    plain = save_article(database, Page(url="https://news.test/plain/", status=200, headers=[], body=b"<p>x</p>"),
                         ArticleFields(text="Un texte sans caractère invisible."))
    with database.transaction() as session:  # as the old code stored it
        session.execute(update(Revision).where(Revision.article_id == saved.article_id)
                        .values(text=shy, text_hash=old_hash))
        session.execute(update(Article).where(Article.id == saved.article_id).values(text_hash=old_hash))

    command.upgrade(config, "head")
    with database.session() as session:
        assert session.get(Article, saved.article_id).text_hash == text_hash(shy) != old_hash
        assert session.get(Article, plain.article_id).text_hash == text_hash("Un texte sans caractère invisible.")
        assert session.scalars(select(Revision.text).where(Revision.article_id == saved.article_id)).one() == shy
    assert save_article(database, page, ArticleFields(text=shy)).outcome is Outcome.UNCHANGED

    command.downgrade(config, "a10_storage")  # and back: the hashes the old code computes
    with database.session() as session:
        assert session.get(Article, saved.article_id).text_hash == old_hash
    command.upgrade(config, "head")


def test_downgrading_a10_storage_keeps_every_raw_page_and_its_links(tmp_path):
    from sqlalchemy import text

    from archive.store import ArticleFields, Page, save_article

    database = Database(f"sqlite:///{tmp_path / 'm.db'}")
    for n in range(3):
        save_article(database, Page(url=f"https://a.test/{n}", status=200, headers=[], body=b"<p>page</p>"),
                     ArticleFields(text=f"Texte {n}"))
    command.downgrade(alembic_config(database), "a13_views")  # SQLite rebuilds raw_pages for it
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM raw_pages")).scalar() == 3
        assert conn.execute(text("SELECT raw_status FROM article_revisions")).scalars().all() == [200] * 3
    command.upgrade(alembic_config(database), "head")
    database.dispose()


def test_request_options_round_trip_keeps_the_sources(db_url):
    """a14_request_options down and up again on both backends: the sources stay, their options go
    with the columns and can be set again."""
    from sqlalchemy import text

    from archive.models import Source

    database = Database(db_url)
    config = alembic_config(database)
    with database.transaction() as session:
        session.add(Source(url="https://news.test/feed.xml", request_headers='[["Cookie", "a=1"]]',
                           request_auth="u:p", request_proxy="http://proxy.test:3128"))
    command.downgrade(config, "a10_engine")
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT url FROM sources")).scalars().all() == ["https://news.test/feed.xml"]
        columns = conn.execute(text("SELECT * FROM sources")).keys()
        assert not {"request_headers", "request_auth", "request_proxy"} & set(columns)
    command.upgrade(config, "head")
    with database.transaction() as session:
        source = session.scalars(select(Source)).one()
        assert source.request_headers is None and source.request_auth is None
        source.request_proxy = "http://proxy.test:3128"
    database.dispose()
