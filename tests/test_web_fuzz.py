"""Query input of any shape gives a page, never a 500: every route fuzzed with hypothesis through
Starlette's TestClient, on SQLite and PostgreSQL (NUL bytes, huge numbers, stray syntax...)."""

from __future__ import annotations

import json
import shutil
import uuid
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from archive.db import Database
from newsarchive.web import create_app
from tests.conftest import PG_ADMIN_URL
from tests.web_archive import populate

NASTY = ['"', "'", "*", "-", "OR", "AND", "NEAR(", "\x00", "\\", "%", "_", "é", "東京", "🚆", "<script>", "&amp;",
         "9" * 30, "-1", "0", "1e9", "²", "١٢", "..", "/", "?", "#", "\r\n", "\u2028", "\ufeff", "\ud7ff",
         "2024-02-30", "2024-09-01T25:00", "9999-12-31", "0001-01-01", "+14:00", "yes", "no", "hide", "newest"]
NAMES = ["q", "site", "since", "until", "lang", "revised", "duplicates", "sort", "page", "rev", "from", "to", "as",
         "next", "token", "format"]
# ids and page numbers around the column types' limits (int4 on PostgreSQL, int8 on SQLite)
BOUNDS = [2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**11, 10**30]
numbers = st.one_of(st.sampled_from(BOUNDS), st.integers(-2**70, 2**70),
                    st.integers(0, 2**65).filter(lambda n: n > 2**31 - 5)).map(str)
values = st.one_of(st.sampled_from(NASTY), st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
                   st.lists(st.sampled_from(NASTY), max_size=6).map("".join), numbers)
params = st.dictionaries(st.sampled_from(NAMES), values, max_size=6)
segment = st.one_of(numbers, values).map(lambda v: quote(v, safe="") or "x")
PAGES = ["/", "/sources", "/feed.atom", "/export.jsonl", "/export.csv", "/export.warc", "/api/search",
         "/api/sources", "/login", "/articles/1", "/articles/3", "/articles/1/raw/1", "/api/articles/2"]
FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request, tmp_path_factory, sqlite_template):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("fuzz") / "archive.db"
        shutil.copy(sqlite_template, path)
        url, drop = f"sqlite:///{path}", None
    else:
        name = f"newsarchive_fuzz_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        drop = (admin, name)
    writer = Database(url)
    populate(writer)
    writer.dispose()
    reader = Database(url, readonly=True)
    yield TestClient(create_app(reader), raise_server_exceptions=False)
    reader.dispose()
    if drop:
        admin, name = drop
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def check(response, path):
    assert response.status_code < 500, (path, response.status_code, response.text[:300])
    kind = response.headers.get("content-type", "")
    if path.startswith("/api/"):
        assert kind.startswith("application/json")
        json.loads(response.content)
    assert response.headers["x-content-type-options"] == "nosniff"


@FUZZ
@given(path=st.sampled_from(PAGES), query=params)
def test_any_query_parameters(client, path, query):
    check(client.get(path, params=query, follow_redirects=False), path)


@FUZZ
@given(template=st.sampled_from(["/articles/{}", "/articles/{}/raw/{}", "/articles/1/raw/{}", "/api/articles/{}",
                                 "/export.{}", "/{}", "/static/{}"]),
       parts=st.lists(segment, min_size=2, max_size=2), query=params)
def test_any_path(client, template, parts, query):
    path = template.format(*parts)
    check(client.get(path, params=query, follow_redirects=False), path)


@FUZZ
@given(body=st.binary(max_size=300), kind=st.sampled_from(["application/x-www-form-urlencoded", "text/plain",
                                                           "multipart/form-data"]))
def test_any_login_form(client, body, kind):
    response = client.post("/login", content=body, headers={"content-type": kind}, follow_redirects=False)
    assert response.status_code < 500
