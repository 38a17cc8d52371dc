"""Per-source request options (`sources add --header/--auth/--proxy`): checked in one line when
malformed, stored, updated and cleared, carried by the real requests of a crawl (headers and auth
to the source's own host only, the proxy for everything, robots.txt included), and never shown:
not in any command's output, log, export or web page.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from archive.db import Database
from archive.models import Article, Source
from archive.request_options import (
    InvalidOption,
    RequestOptions,
    describe,
    mask_proxy,
    parse_auth,
    parse_header,
    parse_proxy,
    same_host,
)
from newsarchive.cli import main
from newsarchive.web import create_app
from scheduling_helpers import ROOT
from tests.clirun import FAST, crawl, run_cli

COOKIE, API_KEY, PASSWORD, PROXY_PASSWORD = "sid=C00KIE-S3CRET", "K3Y-S3CRET", "PASSW0RD-S3CRET", "PR0XY-S3CRET"
SECRETS = (COOKIE, API_KEY, PASSWORD, PROXY_PASSWORD, base64.b64encode(f"bob:{PASSWORD}".encode()).decode(),
           base64.b64encode(f"pu:{PROXY_PASSWORD}".encode()).decode())
OWN = "/2024/11/12/otan-rutte-macron/"
ELSEWHERE = "/2024/10/21/vendanges-2024-bordeaux/"
REDIRECTED = "/2024/09/09/jeux-paralympiques-bilan/"


def header(record, name: str) -> str | None:
    return next((v for k, v in record.headers.items() if k.lower() == name.lower()), None)


def feed(links: list[str]) -> str:
    items = "".join(f"<item><title>t{i}</title><link>{link}</link></item>" for i, link in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{items}</channel></rss>'


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} shown in: {text[:2000]}"


# -- parsing and what is shown ----------------------------------------------------------------

def test_header_auth_and_proxy_forms():
    assert parse_header("Cookie:  a=1; b=2 ") == ("Cookie", "a=1; b=2")
    assert parse_header("X-Token: v:with:colons") == ("X-Token", "v:with:colons")
    assert parse_proxy("http://u:p@proxy.example:3128") == "http://u:p@proxy.example:3128"
    assert mask_proxy("http://u:p4ss@proxy.example:3128") == "http://u:***@proxy.example:3128"
    assert describe(RequestOptions(headers=(("Cookie", COOKIE),), auth=f"bob:{PASSWORD}",
                                   proxy=f"http://pu:{PROXY_PASSWORD}@127.0.0.1:1")) == {
        "headers": ["Cookie"], "auth": "set", "proxy": "http://pu:***@127.0.0.1:1"}
    assert describe(RequestOptions()) is None


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80), secret=st.text(min_size=6, max_size=20).filter(lambda t: ":" not in t))
def test_any_option_text_is_taken_or_refused_without_echoing_its_secret(text, secret):
    for parse, typed in ((parse_header, f"{text}:{secret}"), (parse_auth, f"{text}:{secret}"),
                         (parse_proxy, f"http://u:{secret}@{text}"), (parse_header, text + secret)):
        try:
            parse(typed)
        except InvalidOption as exc:
            # a header's name is shown, and the secret may happen to be part of it (text='If-NonE-MATCH',
            # secret='If-Non'): only a secret that is not also in the shown text can be told echoed
            if secret.strip() not in text and secret.strip() not in "--header --auth --proxy":
                assert secret.strip() not in str(exc)
            assert "\n" not in str(exc)


@pytest.mark.parametrize(("source", "url", "own"), [
    ("http://news.test/feed", "http://news.test/a", True),
    ("http://news.test/feed", "https://NEWS.test/a", True),  # an upgrade to https
    ("https://news.test/feed", "http://news.test/a", False),  # never down to plain http
    ("http://news.test/feed", "http://cdn.news.test/a", False),
    ("http://news.test/feed", "http://news.test.evil.example/a", False),
    ("http://news.test:8080/feed", "http://other.test:8080/a", False),
])
def test_own_host(source, url, own):
    assert same_host(source, url) is own


BAD = [
    ("--header", f"Cookie {COOKIE}", "no colon"),
    ("--header", f"Bad Name: {COOKIE}", "not a header name"),
    ("--header", f"Bad\nName: {COOKIE}", "not a header name"),
    ("--header", f"Cookie: {COOKIE}\r\nX-Injected: 1", "control characters"),
    ("--header", "Cookie:", "empty value"),
    ("--header", "X-Name: Zoë ☃", "cannot carry"),
    ("--header", "Host: elsewhere.test", "set by the crawler"),
    ("--auth", PASSWORD, "USER:PASSWORD"),
    ("--auth", f"bob:{PASSWORD}\n", "control characters"),
    ("--proxy", f"socks5://pu:{PROXY_PASSWORD}@127.0.0.1:1080", "not an http(s) proxy"),
    ("--proxy", f"http://pu:{PROXY_PASSWORD}@bad host:3128", "not a valid host"),
    ("--proxy", f"http://pu:{PROXY_PASSWORD}@-proxy-.test:3128", "not a valid host"),
    ("--proxy", "http://proxy.test:99999", "port"),
    ("--proxy", f"http://pu:{PROXY_PASSWORD}/@proxy.test", "no path"),
    ("--proxy", f"http://pu:{PROXY_PASSWORD}@proxy.test:{PROXY_PASSWORD}", "not a valid host or port"),
    ("--proxy", f"http://proxy.test:3128/{PROXY_PASSWORD}", "no path"),
    ("--proxy", "proxy.test:3128", "not an http(s) proxy"),
]


@pytest.mark.parametrize(("flag", "value", "why"), BAD)
def test_bad_options_are_one_line_and_register_nothing(sqlite_url, flag, value, why):
    result = run_cli(sqlite_url, "sources", "add", "http://news.test/feed.xml", flag, value)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and why in lines[0], result.stderr
    assert_no_secret(result.stdout, result.stderr)
    assert json.loads(run_cli(sqlite_url, "sources", "list", "--json").stdout) == []


def test_adding_again_replaces_the_options_given_and_clear_removes_them(sqlite_url, capsys):
    url = "http://news.test/feed.xml"

    def options() -> dict | None:
        capsys.readouterr()
        assert main(["--db", sqlite_url, "sources", "list", "--json"]) == 0
        return json.loads(capsys.readouterr().out)[0]["options"]

    assert main(["--db", sqlite_url, "sources", "add", url, "--header", f"Cookie: {COOKIE}",
                 "--header", f"X-Api-Key: {API_KEY}", "--auth", f"bob:{PASSWORD}"]) == 0
    assert options() == {"headers": ["Cookie", "X-Api-Key"], "auth": "set", "proxy": None}
    assert main(["--db", sqlite_url, "sources", "add", url, "--header", "Accept-Language: fr",
                 "--proxy", f"http://pu:{PROXY_PASSWORD}@127.0.0.1:3128"]) == 0
    assert options() == {"headers": ["Accept-Language"], "auth": "set", "proxy": "http://pu:***@127.0.0.1:3128"}
    assert main(["--db", sqlite_url, "sources", "add", url, "--every", "1h"]) == 0  # options kept
    assert options()["auth"] == "set"
    assert main(["--db", sqlite_url, "sources", "add", url, "--clear-options", "--auth", "ann:other"]) == 0
    assert options() == {"headers": [], "auth": "set", "proxy": None}
    assert main(["--db", sqlite_url, "sources", "add", url, "--clear-options"]) == 0
    assert options() is None
    db = Database(sqlite_url)
    with db.session() as session:
        source = session.query(Source).one()
        assert (source.request_headers, source.request_auth, source.request_proxy) == (None, None, None)
    db.dispose()


# -- in a real crawl --------------------------------------------------------------------------

def test_headers_and_auth_reach_the_own_host_only_and_are_never_shown(site, new_site, sqlite_url, capsys):
    other = new_site()
    elsewhere = f"http://localhost:{other.port}"  # another host name, as a feed may link to
    site.set_page("/moved/", "moved", status=302)
    site.set_headers("/moved/", {"Location": elsewhere + REDIRECTED})
    site.set_page("/feed.xml", feed([site.url(OWN), elsewhere + ELSEWHERE, site.url("/moved/")]),
                  content_type="application/rss+xml")
    added = run_cli(sqlite_url, "sources", "add", site.url("/feed.xml"), "--header", f"Cookie: {COOKIE}",
                    "--header", f"X-Api-Key: {API_KEY}", "--auth", f"bob:{PASSWORD}")
    assert added.returncode == 0, added.stderr

    done = crawl(sqlite_url, "--json", settings={"LOG_LEVEL": "DEBUG"})
    assert done.returncode == 0, done.stderr[-3000:]
    own = site.requests
    assert {r.path for r in own} >= {"/robots.txt", "/feed.xml", OWN, "/moved/"}
    basic = "Basic " + base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    for record in own:
        assert (header(record, "Cookie"), header(record, "X-Api-Key"), header(record, "Authorization")) == (
            COOKIE, API_KEY, basic), record
    away = other.requests
    assert {r.path for r in away} >= {ELSEWHERE, REDIRECTED}  # fetched, and through the redirect
    for record in away:
        assert not {"cookie", "x-api-key", "authorization"} & {k.lower() for k in record.headers}, record

    revisit = crawl(sqlite_url, "--all", command="revisit", settings={"LOG_LEVEL": "DEBUG"})
    assert revisit.returncode == 0, revisit.stderr[-3000:]
    again = [r for r in site.requests[len(own):] if r.path == OWN]
    assert again and header(again[0], "Authorization") == basic and header(again[0], "Cookie") == COOKIE
    assert not any(header(r, "Authorization") for r in other.requests)

    shown = [added.stdout, added.stderr, done.stdout, done.stderr, revisit.stdout, revisit.stderr]
    outputs = {}
    for args in (["sources", "list"], ["sources", "list", "--json"], ["sources", "export"], ["stats"],
                 ["stats", "--json"], ["export", "--format", "jsonl"], ["show", site.url(OWN), "--json"]):
        result = run_cli(sqlite_url, *args)
        assert result.returncode == 0, (args, result.stderr)
        outputs[" ".join(args[:3])] = result.stdout
        shown += [result.stdout, result.stderr]
    assert "headers: Cookie, X-Api-Key; auth: set" in outputs["sources list"]  # named, not shown
    assert json.loads(outputs["stats --json"])["sources"][0]["options"]["headers"] == ["Cookie", "X-Api-Key"]
    reader = Database(sqlite_url, readonly=True)
    client = TestClient(create_app(reader))
    page, api = client.get("/sources"), client.get("/api/sources")
    reader.dispose()
    assert page.status_code == api.status_code == 200
    assert "auth: set" in page.text and api.json()["sources"][0]["options"]["auth"] == "set"
    assert_no_secret(*shown, page.text, api.text)


def test_a_source_behind_its_own_proxy(new_site, site, tmp_path, sqlite_url, capsys):
    """The SSRF guard on (no private networks), no proxy in the environment: a source's proxy
    carries its robots.txt, feed and articles with the proxy credentials; the targets the guard
    refuses are still refused behind it; the proxy password is never shown."""
    (tmp_path / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    proxy = new_site(root=tmp_path)
    public = "http://news.example"  # does not resolve here: only the proxy reaches it
    # the demo article, served by the proxy under the public name
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(site.url(OWN), timeout=30) as page:
        proxy.set_page(OWN, page.read())
    site.clear_requests()
    proxy.set_page("/feed.xml", feed([public + OWN, site.url(ELSEWHERE), "http://localhost/x", "http://10.0.0.1/y"]),
                   content_type="application/rss+xml")
    proxy_url = f"http://pu:{PROXY_PASSWORD}@127.0.0.1:{proxy.port}"

    no_proxy = {"http_proxy": "", "HTTP_PROXY": "", "https_proxy": "", "HTTPS_PROXY": ""}
    added = run_cli(sqlite_url, "sources", "add", public + "/feed.xml", "--proxy", proxy_url,
                    "--header", f"Cookie: {COOKIE}", env=no_proxy, private=False)
    assert added.returncode == 0, added.stderr  # a name that does not resolve: its proxy resolves it
    done = run_cli(sqlite_url, "crawl", *FAST, "-s", "LOG_LEVEL=DEBUG", env=no_proxy, private=False)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]

    through = proxy.requests
    assert {r.path for r in through} >= {public + "/robots.txt", public + "/feed.xml", public + OWN}
    assert {urlsplit(r.path).netloc for r in through} == {"news.example"}  # nothing internal through it
    credentials = "Basic " + base64.b64encode(f"pu:{PROXY_PASSWORD}".encode()).decode()
    assert all(header(r, "Proxy-Authorization") == credentials for r in through)
    assert all(header(r, "Cookie") == COOKIE for r in through)
    assert not site.requests  # the loopback link is refused, proxy or not
    db = Database(sqlite_url)
    with db.session() as session:
        assert [a.canonical_url for a in session.query(Article)] == [public + OWN]
    db.dispose()
    listed = run_cli(sqlite_url, "sources", "list", env=no_proxy)
    assert f"proxy: http://pu:***@127.0.0.1:{proxy.port}" in listed.stdout
    assert_no_secret(added.stdout, added.stderr, done.stdout, done.stderr, listed.stdout,
                     run_cli(sqlite_url, "stats", "--json").stdout)


def test_secrets_can_be_read_from_a_file_or_stdin_and_stay_out_of_the_command_line(sqlite_url, tmp_path, capsys):
    url = "http://news.test/feed.xml"
    secrets = tmp_path / "headers.txt"
    secrets.write_text(f"Cookie: {COOKIE}\n\nX-Api-Key: {API_KEY}\n", encoding="utf-8")
    (tmp_path / "auth.txt").write_text(f"bob:{PASSWORD}\n", encoding="utf-8")
    assert main(["--db", sqlite_url, "sources", "add", url, "--header", f"@{secrets}",
                 "--auth", f"@{tmp_path / 'auth.txt'}"]) == 0
    argv = [sys.executable, "-m", "newsarchive", "--db", sqlite_url, "sources", "add", url, "--proxy", "@-"]
    piped = subprocess.run(argv, cwd=ROOT, input=f"http://pu:{PROXY_PASSWORD}@127.0.0.1:3128\n", text=True,
                           capture_output=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert_no_secret(piped.stdout, piped.stderr)
    db = Database(sqlite_url)
    with db.session() as session:
        source = session.query(Source).one()
        stored = (source.request_headers, source.request_auth, source.request_proxy)
    db.dispose()
    assert COOKIE in str(stored[0]) and API_KEY in str(stored[0]) and PASSWORD in str(stored[1])
    assert PROXY_PASSWORD in str(stored[2])
    missing = run_cli(sqlite_url, "sources", "add", url, "--auth", f"@{tmp_path / 'none.txt'}")
    assert missing.returncode == 1 and missing.stderr.strip().splitlines() == [
        f"Error: cannot read {tmp_path / 'none.txt'}: No such file or directory"]
    (tmp_path / "empty.txt").write_text("\n \n", encoding="utf-8")
    empty = run_cli(sqlite_url, "sources", "add", url, "--header", f"@{tmp_path / 'empty.txt'}")
    assert empty.returncode == 1 and empty.stderr.strip().splitlines() == [
        f"Error: {tmp_path / 'empty.txt'} gives no value"]
    twice = run_cli(sqlite_url, "sources", "add", url, "--auth", "@-", "--proxy", "@-")
    assert twice.returncode == 1 and "one option only" in twice.stderr
