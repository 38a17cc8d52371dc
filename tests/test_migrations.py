"""Models and Alembic migrations cannot drift: upgrade to head, then `alembic check`, on both backends."""

from alembic import command
from alembic.script import ScriptDirectory

from archive.db import Database, alembic_config


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
