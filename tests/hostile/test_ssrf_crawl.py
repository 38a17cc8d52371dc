"""The SSRF guard in a real crawl: no request for a local file or an internal address leaves the
crawler, whatever form the link takes, in a feed, behind a redirect or through a proxy.

A loopback mock site plays the operator's HTTP proxy: every request the crawl sends through it
is logged with its absolute URL, so the log shows every target the crawler tried to reach.
The guard is on (NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS unset); the proxy itself is the operator's
choice and is allowed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from archive.db import Database
from archive.models import Article, FrontierURL
from newsarchive.cli import main
from tests.clirun import FAST, run_cli
from tests.mockserver import MockSite

PUBLIC = "http://news.example"  # does not resolve here: only the proxy can reach it
HOSTILE_LINKS = [
    "http://localhost./a", "http://127.0.0.1./a", "http://127.0.0.1%2e/a", "http://[::127.0.0.1]/a",
    "http://[2002:7f00:1::]/a", "http://[64:ff9b::7f00:1]/a", "http://[::ffff:127.0.0.1]/a", "http://[::1]/a",
    "http://10.0.0.1/a", "http://169.254.169.254/latest/meta-data/", "http://intranet/a", "http://printer.local/a",
    "file:///etc/hostname", "file://x.invalid/etc/passwd", "ftp://news.example/a", "data:text/html,<p>inline</p>",
    "http://[::1/a", "http://999.999.999.999/a",
]


def feed(links: list[str]) -> str:
    items = "".join(f"<item><title>t{i}</title><link><![CDATA[{link}]]></link></item>" for i, link in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{items}</channel></rss>'


ARTICLE = ("<html lang='en'><head><title>A real article</title></head><body><article><h1>A real article</h1>"
           + "".join(f"<p>Paragraph {i} of the only article this crawl may archive, long enough to count as "
                     f"text for the extractor, with a few more words in it.</p>" for i in range(6))
           + "</article></body></html>")


@pytest.fixture
def proxy(tmp_path, new_site):
    (tmp_path / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return new_site(root=tmp_path)


@pytest.fixture
def internal(site):
    """A loopback server a hostile redirect points at: it must never be reached."""
    return site


def targets(server: MockSite) -> set[str]:
    """The hosts of every request sent through the proxy."""
    return {urlsplit(r.path).netloc for r in server.requests}


def test_no_local_file_or_internal_address_is_fetched_through_links_redirects_or_proxy(
        proxy, internal, sqlite_url, monkeypatch):
    redirects = {"/to-internal": internal.url("/secret"), "/to-file": "file:///etc/passwd",
                 "/to-mapped": "http://[::ffff:127.0.0.1]:1/x"}
    links = [*HOSTILE_LINKS, *(PUBLIC + path for path in redirects), PUBLIC + "/2024/11/12/real-article/"]
    proxy.set_page("/feed.xml", feed(links), content_type="application/rss+xml")
    proxy.set_page("/2024/11/12/real-article/", ARTICLE)
    for path, location in redirects.items():
        proxy.set_page(path, "moved", status=302)
        proxy.set_headers(path, {"Location": location})

    env = {"http_proxy": proxy.base_url, "HTTP_PROXY": proxy.base_url, "no_proxy": "", "NO_PROXY": ""}
    monkeypatch.delenv("NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # a name that does not resolve is accepted only because a proxy will resolve it
    assert main(["--db", sqlite_url, "sources", "add", PUBLIC + "/feed.xml"]) == 0

    result = run_cli(sqlite_url, "crawl", *FAST, "-s", "LOG_LEVEL=INFO", env=env, private=False)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]

    assert targets(proxy) == {"news.example"}, sorted(r.path for r in proxy.requests)
    assert not internal.requests
    db = Database(sqlite_url)
    with db.session() as session:
        archived = [a.canonical_url for a in session.query(Article)]
        queued = {f.url for f in session.query(FrontierURL)}
    db.dispose()
    assert archived == [PUBLIC + "/2024/11/12/real-article/"]
    assert not queued & set(HOSTILE_LINKS), "refused links must not even reach the frontier"


def test_the_connection_layer_refuses_a_name_that_resolves_to_loopback(internal, sqlite_url, monkeypatch):
    """With the request checks switched off, the resolver alone keeps the crawl off loopback:
    `localhost` resolves to 127.0.0.1, and the address connected to is what is checked."""
    monkeypatch.setenv("NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS", "1")  # to register it
    url = f"http://localhost:{internal.port}/"
    assert main(["--db", sqlite_url, "sources", "add", url, "--kind", "site"]) == 0
    no_request_checks = ('{"crawler.middlewares.PrivateNetworkGuard": null, '
                         '"crawler.middlewares.ProxiedTargetGuard": null}')
    result = run_cli(sqlite_url, "crawl", *FAST, "-s", f"DOWNLOADER_MIDDLEWARES={no_request_checks}",
                     "-s", "LOG_LEVEL=INFO", private=False)
    assert not internal.requests
    assert "refusing to connect to localhost" in result.stderr
    assert result.returncode != 0  # the poll failed, and says so
