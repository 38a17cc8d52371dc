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
