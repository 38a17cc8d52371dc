"""Alembic environment: migrates the archive named by the config, $NEWSARCHIVE_DB or the default."""

from alembic import context
from sqlalchemy import text

from archive.db import Database
from archive.models import Base

config = context.config
target_metadata = Base.metadata
# Full-text tables are managed by hand in the migrations (FTS5 virtual tables, tsvector tables):
# autogenerate must neither drop nor create them.
UNMANAGED_PREFIXES = ("article_fts", "article_search")
# SQL views for analysts (migration a13_views): not models either.
UNMANAGED_VIEWS = ("article_texts", "article_revisions", "article_duplicates")


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name and (name.startswith(UNMANAGED_PREFIXES) or name in UNMANAGED_VIEWS))


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    db = config.attributes.get("database") or Database(config.get_main_option("sqlalchemy.url"), migrate=False)
    engine = db.engine.execution_options(sqlite_begin="IMMEDIATE") if db.is_sqlite else db.engine
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=db.is_sqlite, include_object=include_object)
        with context.begin_transaction():
            if not db.is_sqlite:
                # Two processes opening a fresh archive at once: one migrates, the other waits.
                connection.execute(text("SELECT pg_advisory_xact_lock(7401)"))
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
