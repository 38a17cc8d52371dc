"""Opening the archive: engine set-up, SQLite pragmas, migrations, sessions.

SQLite is the embedded default (WAL, busy timeout, ``BEGIN IMMEDIATE`` for writes so two writing
processes queue instead of failing with "database is locked"); PostgreSQL works through the same
models with a ``postgresql+psycopg://`` URL.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///newsarchive.db"
BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).parent / "migrations"


class ArchiveError(Exception):
    """A problem a user can fix (bad database URL, unreachable server...): shown as one line."""


def database_url(url: str | None = None) -> str:
    """The URL given, else $NEWSARCHIVE_DB, else the default SQLite file. A bare path means SQLite."""
    url = url or os.environ.get("NEWSARCHIVE_DB") or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    try:
        parsed = make_url(url)
        engine = create_engine(parsed, future=True)
    except (ArgumentError, ValueError) as exc:
        raise ArchiveError(f"malformed database URL {url!r}: {exc}") from None
    except ModuleNotFoundError as exc:
        raise ArchiveError(f"no driver for database URL {url!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event below emit BEGIN, so writes can ask for IMMEDIATE.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A deferred transaction that later writes can fail at once with "database is locked";
        # taking the write lock up front makes concurrent writers wait for busy_timeout instead.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """An archive database: an engine, read sessions and serialized write transactions."""

    def __init__(self, url: str | None = None, *, migrate: bool = True):
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(writer, expire_on_commit=False)
        self.check_connection()
        if migrate:
            upgrade(self)

    def check_connection(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ArchiveError(f"cannot open database {self.safe_url}: {reason}") from None

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (rolled back at the end)."""
        with self._reads() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction, committed on success; on SQLite it holds the write lock."""
        with self._writes() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(db: Database | None = None, url: str | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (db.url if db else database_url(url)).replace("%", "%%"))
    if db is not None:
        config.attributes["database"] = db
    return config


def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision (a no-op when it is already there)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = alembic_config(db)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as conn:
        if set(MigrationContext.configure(conn).get_current_heads()) == heads:
            return
    command.upgrade(config, "head")
