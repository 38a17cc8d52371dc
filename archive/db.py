"""Opening the archive: URL checks, engine set-up, SQLite pragmas, migrations, sessions.

SQLite is the embedded default (WAL, busy timeout, ``BEGIN IMMEDIATE`` for writes so two writing
processes queue instead of failing with "database is locked"); PostgreSQL works through the same
models with a ``postgresql+psycopg://`` URL. ``readonly=True`` opens an archive without writing
anything to it (a copy on a read-only disk, the web app): no migration, and an archive whose
schema is not this code's is refused instead.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive.redact import redact

DEFAULT_URL = "sqlite:///newsarchive.db"
BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_MAGIC = b"SQLite format 3\x00"
_BACKENDS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


class ArchiveError(Exception):
    """A problem a user can fix (bad database URL, unreachable server...): shown as one line."""


def database_url(url: str | None = None) -> str:
    """The URL given, else $NEWSARCHIVE_DB, else the default SQLite file. A bare path means SQLite."""
    url = url or os.environ.get("NEWSARCHIVE_DB") or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def parse_database_url(url: str) -> URL:
    """The URL parsed and checked: SQLite naming a file, or PostgreSQL naming a database.

    Raises ArchiveError with a one-line reason that never shows the password.
    """
    shown = redact(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        reason = "malformed port or host" if isinstance(exc, ValueError) else "not a database URL"
        raise ArchiveError(f"malformed database URL {shown!r}: {reason}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in _BACKENDS:
        raise ArchiveError(f"unsupported database {backend!r} in {shown!r}: use sqlite:///PATH or "
                           "postgresql+psycopg://USER@HOST/DATABASE")
    if backend != "sqlite" and not driver:
        parsed = parsed.set(drivername=_BACKENDS[backend])  # psycopg 3, the driver we ship
    if backend == "sqlite":
        _check_sqlite_path(parsed.database, shown)
    elif not parsed.database:
        raise ArchiveError(f"database URL {shown!r} names no database (postgresql+psycopg://USER@HOST/DATABASE)")
    return parsed


def _check_sqlite_path(path: str | None, shown: str) -> None:
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        raise ArchiveError(f"database URL {shown!r} names no file: an in-memory archive would keep nothing "
                           "(use sqlite:///PATH)")
    if "\x00" in path:
        raise ArchiveError(f"database URL {shown!r}: the path contains a NUL character")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        parent = Path(path).parent
        if not parent.is_dir():
            raise ArchiveError(f"cannot create the archive {path}: directory {parent} does not exist") from None
        return
    except OSError as exc:
        raise ArchiveError(f"cannot open the archive {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ArchiveError(f"{path} is not a regular file, so it cannot be an archive")
    if info.st_size:
        try:
            with open(path, "rb") as handle:
                head = handle.read(len(SQLITE_MAGIC))
        except OSError as exc:
            raise ArchiveError(f"cannot read the archive {path}: {exc.strerror}") from None
        if head != SQLITE_MAGIC:
            raise ArchiveError(f"{path} is not a SQLite database, so it cannot be an archive")


def make_engine(url: str | None = None, *, readonly: bool = False) -> Engine:
    parsed = parse_database_url(database_url(url))
    connect_args = {}
    creator = None
    if parsed.drivername.startswith("sqlite") and readonly:
        creator = partial(_open_sqlite_readonly, os.path.abspath(parsed.database or ""))
    elif readonly:
        connect_args["options"] = "-c default_transaction_read_only=on"
    try:
        engine = create_engine(parsed, connect_args=connect_args, **({"creator": creator} if creator else {}))
    except (ArgumentError, ValueError, TypeError) as exc:
        raise ArchiveError(f"malformed database URL {redact(database_url(url))!r}: {redact(str(exc))}") from None
    except ModuleNotFoundError as exc:
        raise ArchiveError(f"no driver {exc.name!r} for database URL {redact(database_url(url))!r}") from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, readonly=readonly)
    return engine


def _open_sqlite_readonly(path: str) -> sqlite3.Connection:
    """SQLite's own read-only mode, through a file: URI. A WAL archive in a directory that cannot
    be written opens only while its -wal and -shm files exist (a writer has it open); otherwise it
    is read as immutable (nothing can write it there: there is no newer data to miss)."""
    uri = f"file:{quote(path)}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return connection
    except sqlite3.OperationalError:
        connection.close()
        if os.access(os.path.dirname(path), os.W_OK):
            raise
    return sqlite3.connect(uri + "&immutable=1", uri=True, check_same_thread=False)


def _configure_sqlite(engine: Engine, *, readonly: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event below emit BEGIN, so writes can ask for IMMEDIATE.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:  # switching the journal mode writes to the file
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


def first_line(exc: BaseException) -> str:
    """The first line of a database error, credentials masked: what a user is shown."""
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).strip()
    return redact(message.splitlines()[0] if message else type(exc).__name__)


class Database:
    """An archive database: an engine, read sessions and serialized write transactions."""

    def __init__(self, url: str | None = None, *, migrate: bool = True, readonly: bool = False):
        self.url = database_url(url)
        self.readonly = readonly
        self.engine = make_engine(self.url, readonly=readonly)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(writer, expire_on_commit=False)
        if self.is_sqlite:
            path = make_url(self.url).database or ""
            if readonly and not os.path.exists(path):
                raise ArchiveError(f"no archive at {path}")
            if not readonly and not sqlite_path_writable(self.url):
                raise ArchiveError(f"cannot write the archive {path}: its disk or directory is read-only "
                                   "(commands that only read it still work)")
        self.check_connection()
        if readonly:
            check_schema(self)
        elif migrate:
            upgrade(self)

    def check_connection(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (DBAPIError, SQLAlchemyError, OSError, ValueError) as exc:
            raise ArchiveError(f"cannot open database {self.safe_url}: {first_line(exc)}") from None

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


def sqlite_path_writable(url: str) -> bool:
    """Whether a SQLite archive's file and directory can be written (False on a read-only disk).
    ArchiveError for a malformed URL."""
    path = parse_database_url(database_url(url)).database or ""
    directory = os.path.dirname(os.path.abspath(path))
    return os.access(directory, os.W_OK) and (not os.path.exists(path) or os.access(path, os.W_OK))


def alembic_config(db: Database | None = None, url: str | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (db.url if db else database_url(url)).replace("%", "%%"))
    if db is not None:
        config.attributes["database"] = db
    return config


def schema_state(db: Database) -> tuple[set[str], set[str], set[str]]:
    """(revisions the archive is at, the code's heads, every revision the code knows)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(db))
    known = {rev.revision for rev in script.walk_revisions()}
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, set(script.get_heads()), known


def _check_not_newer(db: Database, current: set[str], known: set[str]) -> None:
    unknown = current - known
    if unknown:
        raise ArchiveError(f"the archive {db.safe_url} has schema {', '.join(sorted(unknown))}, newer than this "
                           "newsarchive knows: upgrade newsarchive before using it")


def check_schema(db: Database) -> None:
    """For read-only use: the archive must be at exactly this code's schema."""
    try:
        current, heads, known = schema_state(db)
    except (DBAPIError, SQLAlchemyError) as exc:
        raise ArchiveError(f"cannot read the schema of {db.safe_url}: {first_line(exc)}") from None
    _check_not_newer(db, current, known)
    if not current:
        raise ArchiveError(f"{db.safe_url} is not a newsarchive archive (no schema)")
    if current != heads:
        raise ArchiveError(f"the archive {db.safe_url} has an older schema and is opened read-only: open it once "
                           "where it can be written (any newsarchive command) to upgrade it")


def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision (a no-op when it is already there)."""
    from alembic import command

    try:
        current, heads, known = schema_state(db)
        _check_not_newer(db, current, known)
        if current == heads:
            return
        command.upgrade(alembic_config(db), "head")
    except (DBAPIError, SQLAlchemyError) as exc:
        raise ArchiveError(f"cannot prepare the archive {db.safe_url}: {first_line(exc)}") from None
