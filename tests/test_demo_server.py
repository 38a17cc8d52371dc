"""The demo site's loopback HTTP server (newsarchive/demo/server.py), and the tests' mock server on top of it."""

from __future__ import annotations

import email.utils
import re
import socket
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest

from newsarchive.demo.server import SITE_DIR, DemoServer

ARTICLES = [
    "/2024/11/12/otan-rutte-macron/",
    "/2024/11/05/budget-2025-assemblee-nationale/",
    "/2024/10/21/vendanges-2024-bordeaux/",
    "/2024/10/08/train-de-nuit-paris-briancon/",
    "/2024/09/16/festival-deauville-cinema-americain/",
    "/2024/09/09/jeux-paralympiques-bilan/",
]
CP1252_ARTICLE = "/2024/10/21/vendanges-2024-bordeaux/"
AMP_ARTICLE = "/2024/11/12/otan-rutte-macron/"
NO_CANONICAL_ARTICLE = "/2024/10/08/train-de-nuit-paris-briancon/"
PARTNER_PAGE = "/partenaires/budget-2025-assemblee-nationale-afp/"
PARTNER_SOURCE = "/2024/11/05/budget-2025-assemblee-nationale/"


@pytest.fixture(scope="module")
def server(mockserver):
    site = mockserver.new_site()
    yield site
    site.close()


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET", timeout: float = 5):
    """(status, headers, body) without raising on 3xx/4xx/5xx."""
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers, err.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_base_url_is_loopback_with_ephemeral_port(server):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)
    assert server.port != 0
    assert server.url("/feed.xml") == server.base_url + "/feed.xml"


def test_not_started_has_no_base_url():
    with pytest.raises(RuntimeError):
        DemoServer().base_url


def test_every_article_is_served_with_base_substituted(server):
    for path in ARTICLES + [PARTNER_PAGE, AMP_ARTICLE + "amp/", "/"]:
        status, headers, body = fetch(server.url(path))
        assert status == 200, path
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert b"{{base}}" not in body
        assert server.base_url.encode() in body


def test_article_page_shape(server):
    _, _, body = fetch(server.url(AMP_ARTICLE))
    html = body.decode("utf-8")
    assert '<html lang="fr">' in html
    assert '<meta charset="utf-8">' in html
    assert 'alt="Image Alt"' in html
    assert ">Vudailleurs.com<" in html
    assert '<meta property="og:site_name" content="Vudailleurs.com">' in html
    assert 'property="article:published_time"' in html
    assert f'<link rel="canonical" href="{server.url(AMP_ARTICLE)}">' in html
    assert f'<link rel="amphtml" href="{server.url(AMP_ARTICLE)}amp/">' in html
    for furniture in ("Postez un commentaire", "You don't have permission to register",
                      "Partager sur Facebook", "Partager sur X", "Newsletter"):
        assert furniture in html
    assert re.search(r'<time[^>]*datetime="2024-11-12T', html)
    assert "Par <span" in html


def test_every_article_has_real_french_prose(server):
    for path in ARTICLES:
        body = fetch(server.url(path))[2]
        html = body.decode("cp1252" if path == CP1252_ARTICLE else "utf-8")
        assert re.search(r'<time[^>]*datetime="2024-', html), path
        content = html.split('<div class="entry-content">')[1].split("</div>")[0]
        paragraphs = re.findall(r"<p>(.*?)</p>", content)
        assert 4 <= len(paragraphs) <= 8, path
        assert 250 <= len(" ".join(paragraphs).split()) <= 450, path
        for ch in "éèàçœ«»’":
            assert ch in content, (path, ch)


def test_amp_page_points_back_to_the_article_with_the_same_text(server):
    def paragraphs(html: str) -> list[str]:
        return re.findall(r"<p>(.*?)</p>", html)

    _, _, normal = fetch(server.url(AMP_ARTICLE))
    _, _, amp = fetch(server.url(AMP_ARTICLE + "amp/"))
    amp_html = amp.decode("utf-8")
    assert f'<link rel="canonical" href="{server.url(AMP_ARTICLE)}">' in amp_html
    normal_body = normal.decode("utf-8").split('<div class="entry-content">')[1].split("</div>")[0]
    amp_body = amp_html.split('<div class="amp-wp-article-content">')[1].split("</div>")[0]
    assert paragraphs(normal_body) == paragraphs(amp_body)


def test_one_article_has_no_canonical_and_the_others_do(server):
    for path in ARTICLES:
        _, _, body = fetch(server.url(path))
        assert (b'rel="canonical"' in body) is (path != NO_CANONICAL_ARTICLE), path


def test_partner_page_is_a_syndicated_copy(server):
    _, _, original = fetch(server.url(PARTNER_SOURCE))
    _, _, copy = fetch(server.url(PARTNER_PAGE))

    def paragraphs(body: bytes) -> list[str]:
        html = body.decode("utf-8").split('<div class="entry-content">')[1].split("</div>")[0]
        return re.findall(r"<p>(.*?)</p>", html)

    orig, dup = paragraphs(original), paragraphs(copy)
    assert dup[0] == "(Avec AFP)" and dup[-1] == "Source : AFP"
    assert len(dup[1:-1]) == len(orig)
    changed = [(a, b) for a, b in zip(orig, dup[1:-1]) if a != b]
    assert 1 <= len(changed) <= 2
    words_a = " ".join(orig).split()
    words_b = " ".join(dup[1:-1]).split()
    assert 1 <= len(words_a) - len(words_b) <= 3  # one or two words dropped


def test_cp1252_page_is_not_utf8_but_declared_utf8(server):
    status, headers, body = fetch(server.url(CP1252_ARTICLE))
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("cp1252")
    for ch in "éèàçœ«»’":
        assert ch in text, ch
    assert "Marie-Hélène Lefèvre" in text
    assert server.base_url in text  # substitution works on non-UTF-8 bytes too
    assert (SITE_DIR / CP1252_ARTICLE.strip("/") / "index.html.headers").is_file()


def test_feed_links_carry_utm_and_point_at_the_server(server):
    status, headers, body = fetch(server.url("/feed.xml"))
    assert status == 200
    assert headers["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(body)
    channel = root.find("channel")
    assert channel.findtext("ttl") == "60"
    assert channel.findtext("{http://purl.org/rss/1.0/modules/syndication/}updatePeriod") == "hourly"
    items = channel.findall("item")
    links = [item.findtext("link") for item in items]
    assert len(links) == len(ARTICLES)
    paths = set()
    for item, link in zip(items, links):
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}" == server.base_url
        query = parse_qs(parts.query)
        assert query["utm_source"] == ["rss"] and query["utm_medium"] == ["rss"]
        assert query["utm_campaign"] == [parts.path.rstrip("/").rsplit("/", 1)[1]]
        assert item.findtext("title") and item.findtext("pubDate") and item.findtext("description")
        assert item.findtext("{http://purl.org/dc/elements/1.1/}creator")
        paths.add(parts.path)
        # the query string is ignored for the lookup
        assert fetch(link)[0] == 200
    assert paths == set(ARTICLES)
    assert AMP_ARTICLE in paths and PARTNER_PAGE not in paths


def test_home_links_the_partner_page_and_all_articles(server):
    _, _, body = fetch(server.url("/"))
    html = body.decode("utf-8")
    for path in ARTICLES + [PARTNER_PAGE]:
        assert server.url(path) in html


def test_robots_and_sitemap(server):
    status, headers, body = fetch(server.url("/robots.txt"))
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert "Disallow: /wp-admin/" in text
    assert f"Sitemap: {server.base_url}/sitemap.xml" in text
    status, headers, body = fetch(server.url("/sitemap.xml"))
    assert status == 200
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [el.text for el in ET.fromstring(body).findall("sm:url/sm:loc", ns)]
    assert sorted(locs) == sorted(server.url(p) for p in ARTICLES)


def test_unknown_paths_404(server):
    for path in ("/nope/", "/2024/01/01/absent/", "/feed.xml.headers",
                 CP1252_ARTICLE + "index.html.headers", "/../server.py", "/%2e%2e/server.py"):
        assert fetch(server.url(path))[0] == 404, path


def test_directory_without_slash_redirects(server):
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as err:
        opener.open(server.url(AMP_ARTICLE.rstrip("/") + "?utm_source=x"), timeout=5)
    assert err.value.code == 301
    assert err.value.headers["Location"] == server.url(AMP_ARTICLE + "?utm_source=x")


def test_conditional_get_with_etag_and_last_modified(site):
    path = "/2024/09/09/jeux-paralympiques-bilan/"
    status, headers, body = fetch(site.url(path))
    assert status == 200
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert email.utils.parsedate_to_datetime(last_modified)

    status, h304, body304 = fetch(site.url(path), {"If-None-Match": etag})
    assert (status, body304) == (304, b"")
    assert h304["ETag"] == etag
    status, _, body304 = fetch(site.url(path), {"If-Modified-Since": last_modified})
    assert (status, body304) == (304, b"")
    assert fetch(site.url(path), {"If-None-Match": '"other"'})[0] == 200

    # The page changes: the same validators now get the new page with a new ETag.
    site.set_page(path, body.replace("Stade de France".encode(), b"Stade Pierre-Mauroy"))
    status, h2, body2 = fetch(site.url(path), {"If-None-Match": etag})
    assert status == 200 and b"Stade Pierre-Mauroy" in body2
    assert h2["ETag"] != etag
    status, h3, _ = fetch(site.url(path), {"If-Modified-Since": last_modified})
    assert status == 200
    assert email.utils.parsedate_to_datetime(h3["Last-Modified"]) > email.utils.parsedate_to_datetime(last_modified)
    assert fetch(site.url(path), {"If-None-Match": h2["ETag"]})[0] == 304

    # A second change in the same second still moves Last-Modified forward.
    site.set_page(path, b"<html><body>v3</body></html>")
    status, h4, body4 = fetch(site.url(path), {"If-Modified-Since": h3["Last-Modified"]})
    assert (status, body4) == (200, b"<html><body>v3</body></html>")

    site.remove_page(path)
    assert fetch(site.url(path), {"If-None-Match": etag})[0] == 304


def test_etag_is_computed_after_substitution(new_site):
    a, b = new_site(), new_site()
    ha = fetch(a.url("/feed.xml"))[1]
    hb = fetch(b.url("/feed.xml"))[1]
    assert ha["ETag"] != hb["ETag"]  # different ports, different bodies


def test_head_has_headers_and_no_body(server):
    status, get_headers, body = fetch(server.url("/feed.xml"))
    status, headers, head_body = fetch(server.url("/feed.xml"), method="HEAD")
    assert status == 200 and head_body == b""
    assert headers["Content-Length"] == str(len(body))
    assert headers["ETag"] == get_headers["ETag"]


def test_request_log_records_method_path_headers_status(server):
    server.clear_requests()
    fetch(server.url(AMP_ARTICLE + "?utm_source=rss&utm_medium=rss"), {"User-Agent": "newsarchive-test/1.0"})
    fetch(server.url("/absent/"), method="HEAD")
    log = server.requests
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", AMP_ARTICLE + "?utm_source=rss&utm_medium=rss", 200),
        ("HEAD", "/absent/", 404),
    ]
    assert log[0].headers["User-Agent"] == "newsarchive-test/1.0"
    server.clear_requests()
    assert server.requests == []


def test_set_page_status_and_headers(site):
    site.set_page("/2024/11/05/budget-2025-assemblee-nationale/", "Service indisponible", "text/plain", status=503)
    site.set_headers("/2024/11/05/budget-2025-assemblee-nationale/", {"Retry-After": "120"})
    status, headers, body = fetch(site.url("/2024/11/05/budget-2025-assemblee-nationale/?utm_source=rss"))
    assert status == 503 and body == b"Service indisponible"
    assert headers["Retry-After"] == "120" and "ETag" not in headers

    site.set_page("/boom/", "erreur", status=500)
    assert fetch(site.url("/boom/"))[0] == 500
    site.set_page(ARTICLES[0], "gone", status=404)
    assert fetch(site.url(ARTICLES[0]))[0] == 404

    # A new page and a new feed item, with {{base}} substituted in them too.
    site.set_page("/2024/11/20/nouvel-article/", "<p>{{base}}/x</p>")
    assert fetch(site.url("/2024/11/20/nouvel-article/"))[2] == f"<p>{site.base_url}/x</p>".encode()
    feed = (SITE_DIR / "feed.xml").read_text(encoding="utf-8").replace(
        "<item>", "<item><title>Nouveau</title><link>{{base}}/2024/11/20/nouvel-article/</link></item>\n    <item>", 1
    )
    site.set_page("/feed.xml", feed, "application/rss+xml; charset=UTF-8")
    body = fetch(site.url("/feed.xml"))[2]
    assert len(ET.fromstring(body).findall("channel/item")) == len(ARTICLES) + 1

    site.set_headers("/robots.txt", {"Cache-Control": "max-age=60", "Content-Type": "text/plain"})
    headers = fetch(site.url("/robots.txt"))[1]
    assert headers["Cache-Control"] == "max-age=60" and headers["Content-Type"] == "text/plain"


def test_set_delay_makes_clients_time_out(site):
    site.set_delay("/robots.txt", 1.0)
    start = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        fetch(site.url("/robots.txt"), timeout=0.2)
    assert time.monotonic() - start < 0.9
    start = time.monotonic()
    assert fetch(site.url("/robots.txt"), timeout=5)[0] == 200
    assert time.monotonic() - start >= 0.9
    site.set_delay("/robots.txt", 0)
    start = time.monotonic()
    assert fetch(site.url("/robots.txt"))[0] == 200
    assert time.monotonic() - start < 0.5


def test_stop_is_quick_and_idempotent():
    srv = DemoServer().start()
    url = srv.url("/")
    assert fetch(url)[0] == 200
    start = time.monotonic()
    srv.stop()
    srv.stop()
    assert time.monotonic() - start < 2
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=1)
