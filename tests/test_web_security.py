"""Who may read the archive through `serve`: the token gate (Bearer, login form, cookie, ?token=),
the Host check of loopback binds, error pages that never show a traceback, read-only opening."""

from __future__ import annotations

import shutil

import pytest
from starlette.testclient import TestClient

from archive.db import Database
from newsarchive.web import create_app
from newsarchive.web.security import COOKIE, LOOPBACK_HOSTS, safe_next, session_value
from tests.web_archive import populate

TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture
def archive_url(sqlite_url):
    db = Database(sqlite_url)
    populate(db)
    db.dispose()
    return sqlite_url


@pytest.fixture
def gated(archive_url):
    reader = Database(archive_url, readonly=True)
    yield TestClient(create_app(reader, token=TOKEN))
    reader.dispose()


def test_without_the_token_nothing_is_readable(gated):
    for path in ("/api/search?q=train", "/api/articles/1", "/export.jsonl", "/feed.atom", "/articles/1/raw/1"):
        response = gated.get(path)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer", path
        assert "train" not in response.text.lower()
    for path in ("/", "/?q=train", "/articles/1", "/sources"):
        response = gated.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
    wrong = {"Authorization": "Bearer wrong-token-wrong-token"}
    assert gated.get("/api/search?q=train", headers=wrong).status_code == 401
    assert gated.get("/api/search?q=train", params={"token": TOKEN[:-1]}).status_code == 401
    gated.cookies.set(COOKIE, session_value("another-token-entirely"))
    assert gated.get("/api/search?q=train").status_code == 401


def test_bearer_token_and_token_parameter(gated):
    assert gated.get("/api/search?q=train", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert gated.get("/feed.atom", params={"q": "train", "token": TOKEN}).status_code == 200  # feed readers
    response = gated.get("/", params={"q": "train", "token": TOKEN}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/?q=train"  # out of the address bar
    assert TOKEN not in response.headers["set-cookie"] and "HttpOnly" in response.headers["set-cookie"]
    assert gated.get("/?q=train").status_code == 200  # the cookie now


def test_login_form_sets_a_cookie_and_goes_back(gated):
    form = gated.get("/", params={"q": "train"})  # redirected to the form
    assert form.status_code == 200 and 'name="token"' in form.text and 'value="/?q=train"' in form.text
    wrong = gated.post("/login", data={"token": "nope", "next": "/?q=train"})
    assert wrong.status_code == 401 and "not the token" in wrong.text
    right = gated.post("/login", data={"token": TOKEN, "next": "/?q=train"}, follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == "/?q=train"
    assert gated.get("/api/articles/1").status_code == 200
    assert gated.post("/login", content=b"token=" + b"x" * 10_000).status_code == 413


@pytest.mark.parametrize("target, expected", [("/?q=a", "/?q=a"), ("https://evil.example/", "/"),
                                              ("//evil.example/", "/"), ("/\\evil.example", "/"),
                                              ("/ok\r\nSet-Cookie: x=1", "/"), ("", "/"), (None, "/")])
def test_login_only_goes_back_to_this_server(target, expected):
    assert safe_next(target) == expected


def test_loopback_binds_answer_loopback_host_names_only(archive_url):
    reader = Database(archive_url, readonly=True)
    client = TestClient(create_app(reader, allowed_hosts=LOOPBACK_HOSTS), base_url="http://127.0.0.1:8000")
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8000"}).status_code == 200
    rebound = client.get("/api/search?q=train", headers={"Host": "attacker.example:8000"})
    assert rebound.status_code == 421 and "train" not in rebound.text.lower()
    assert rebound.headers["x-content-type-options"] == "nosniff"
    reader.dispose()


def test_an_unreadable_archive_gives_a_plain_503(archive_url, tmp_path):
    copy = tmp_path / "copy.db"
    shutil.copy(archive_url.removeprefix("sqlite:///"), copy)
    reader = Database(f"sqlite:///{copy}", readonly=True)
    client = TestClient(create_app(reader), raise_server_exceptions=False)
    assert client.get("/?q=train").status_code == 200
    reader.engine.dispose()
    copy.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8192)  # damaged under our feet
    response = client.get("/?q=train")
    assert response.status_code == 503 and "cannot be read" in response.text
    assert "Traceback" not in response.text and response.headers["content-security-policy"]
    reader.dispose()
