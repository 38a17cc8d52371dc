"""Shared fixtures: migrated archives on SQLite and PostgreSQL, and the loopback HTTP server.

PostgreSQL runs at 127.0.0.1:5432 (trust auth, database `test`) on every machine and in CI;
each test run uses its own database created there, so runs never see each other's rows.

The loopback HTTP server (tests/mockserver.py) is one process for the whole run (``mockserver``);
each test that asks for ``site`` gets a demo site of its own on a fresh 127.0.0.1 port, with its
own request log, changed at will (``site.set_page(...)``). Running the CLI: tests/clirun.py.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text

from archive.db import Database
from tests.mockserver import MockServer, MockSite

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


@pytest.fixture(scope="session")
def mockserver():
    """The loopback HTTP server process, started once per test run."""
    server = MockServer()
    yield server
    server.close()


@pytest.fixture
def new_site(mockserver) -> Iterator[Callable[..., MockSite]]:
    """Opens sites for this test only: ``new_site()`` the demo site, ``new_site(root=DIR)`` the
    files under DIR, each on a loopback port of its own; all closed after the test."""
    opened: list[MockSite] = []

    def open_site(root: Path | None = None) -> MockSite:
        opened.append(mockserver.new_site(root))
        return opened[-1]

    yield open_site
    for served in opened:
        served.close()


@pytest.fixture
def site(new_site) -> MockSite:
    """The bundled demo news site on a loopback port of its own, for this test only."""
    return new_site()


@pytest.fixture
def sqlite_db(sqlite_url):
    database = Database(sqlite_url)
    yield database
    database.dispose()
