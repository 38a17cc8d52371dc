"""Shared fixtures: migrated archives on SQLite and PostgreSQL, the loopback demo server, the CLI.

PostgreSQL runs at 127.0.0.1:5432 (trust auth, database `test`) on every machine and in CI;
each test run uses its own database created there, so runs never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text

from archive.db import Database
from newsarchive.demo.server import DemoServer

PG_ADMIN_URL = os.environ.get("NEWSARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

os.environ["NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS"] = "1"  # the tests crawl loopback servers


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite archive, copied for each test (migrating once is what takes time)."""
    path = tmp_path_factory.mktemp("template") / "archive.db"
    Database(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    path = tmp_path / "archive.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database for this test run, migrated once, dropped at the end."""
    name = f"newsarchive_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    Database(url).dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_database):
    """The run's PostgreSQL archive, emptied before each test."""
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )).scalars().all()
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()
    return pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    """Runs the test on both backends."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def db(db_url):
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def site():
    """The bundled demo news site on a loopback port of its own."""
    with DemoServer() as server:
        yield server


@pytest.fixture
def sqlite_db(sqlite_url):
    database = Database(sqlite_url)
    yield database
    database.dispose()
