"""The web app through Starlette's TestClient, on both backends: search, filters and counts, pages,
articles, diffs, copies, raw captures, exports, the Atom feed, the API, escaping, headers."""

from __future__ import annotations

import csv
import io
import json
import re

import feedparser
import lxml.html
import pytest
from starlette.testclient import TestClient
from warcio.archiveiterator import ArchiveIterator

from archive.db import Database
from newsarchive.cli import main
from newsarchive.web import create_app
from tests.web_archive import SCRIPT_TITLE, populate

SCRIPT_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def web(db, db_url):
    ids = populate(db)
    reader = Database(db_url, readonly=True)
    yield TestClient(create_app(reader)), ids
    reader.dispose()


def html(response):
    assert response.headers["content-type"].startswith("text/html")
    return lxml.html.fromstring(response.text)


def hit_titles(response) -> list[str]:
    return [a.text_content() for a in html(response).cssselect("li.hit a.title")]


def test_search_is_accent_insensitive_and_marks_the_words(web):
    client, ids = web
    response = client.get("/", params={"q": "defense budget"})
    assert response.status_code == 200
    assert hit_titles(response)[:2] == ["Budget de la défense", "Copie AFP"]
    page = html(response)
    assert [m.text for m in page.cssselect("li.hit .snippet mark")][:2] == ["Défense", "budget"]
    assert [m.text for m in page.cssselect(f'a.title[href="/articles/{ids.defense}"] mark')] == ["Budget", "défense"]
    assert "2 matches" in page.cssselect(".summary p")[0].text_content()
    assert page.cssselect('link[rel=alternate][type="application/atom+xml"]')


def test_facets_count_and_filter(web):
    client, ids = web
    page = html(client.get("/", params={"q": "defense"}))
    sites = {li.cssselect("a")[0].text: int(li.cssselect(".count")[0].text) for li in page.cssselect("aside li")
             if li.cssselect("a") and "site=" in li.cssselect("a")[0].get("href")}
    assert sites == {"journal.test": 1, "autre.test": 1, "hostile.test": 1}
    link = next(a.get("href") for a in page.cssselect("aside a") if a.text == "autre.test")
    assert hit_titles(client.get(link)) == ["Copie AFP"]
    assert hit_titles(client.get("/", params={"q": "defense", "duplicates": "hide"})) == [
        "Budget de la défense", SCRIPT_TITLE] or set(hit_titles(client.get(
            "/", params={"q": "defense", "duplicates": "hide"}))) == {"Budget de la défense", SCRIPT_TITLE}
    assert hit_titles(client.get("/", params={"q": "train", "revised": "yes"})) == ["Train de nuit : retour lundi"]
    assert hit_titles(client.get("/", params={"q": "train", "lang": "en"})) == ["Night train"]
    assert hit_titles(client.get("/", params={"q": "train", "until": "2000-01-01"})) == []


def test_pages_and_order(web):
    client, ids = web
    import newsarchive.web.params as params

    first = hit_titles(client.get("/", params={"q": "de OR train OR nice", "sort": "newest"}))
    assert first[0] == "Night train" and len(first) == 5
    params.PER_PAGE, saved = 2, params.PER_PAGE
    try:
        from newsarchive.web import search_views
        search_views.PER_PAGE = 2
        pages = [hit_titles(client.get("/", params={"q": "de OR train OR nice", "sort": "newest", "page": n}))
                 for n in (1, 2, 3)]
    finally:
        params.PER_PAGE = saved
        search_views.PER_PAGE = saved
    assert sum(pages, []) == first


def test_browsing_without_a_query_lists_the_newest(web):
    client, ids = web
    response = client.get("/")
    assert response.status_code == 200
    assert hit_titles(response)[0] == "Night train" and len(hit_titles(response)) == 5
    assert "5 archived articles" in html(response).cssselect(".summary p")[0].text_content()


@pytest.mark.parametrize("params, message", [
    ({"q": "*"}, "nothing to search for"), ({"q": "-train"}, "at least one word"),
    ({"q": "train", "since": "hier"}, "not a date"), ({"q": "train", "page": "x"}, "page must be"),
    ({"q": "train", "revised": "maybe"}, "revised must be"),
    ({"q": "train", "since": "2024-09-10", "until": "2024-09-01"}, "since must be before until"),
])
def test_bad_input_is_a_page_that_says_why(web, params, message):
    client, _ = web
    response = client.get("/", params=params)
    assert response.status_code == 400
    assert message in html(response).cssselect("ul.errors")[0].text_content()
    api = client.get("/api/search", params=params)
    assert api.status_code == 400 and message in api.json()["error"]


def test_a_script_title_is_text_everywhere(web):
    client, ids = web
    for path in ("/?q=hostile", f"/articles/{ids.hostile}", "/", "/?q=hostile&sort=newest"):
        body = client.get(path).text
        assert SCRIPT_TITLE not in body and SCRIPT_ESCAPED in body, path
    assert html(client.get(f"/articles/{ids.hostile}")).cssselect("h1")[0].text == SCRIPT_TITLE
    feed = client.get("/feed.atom", params={"q": "hostile"})
    assert SCRIPT_TITLE not in feed.text
    assert feedparser.parse(feed.content).entries[0].title == SCRIPT_TITLE
    sources = client.get("/sources").text
    assert "HTTP 503 &lt;b&gt;down&lt;/b&gt;" in sources and "<b>down" not in sources


def test_article_page_revisions_diff_copies_aliases(web):
    client, ids = web
    page = html(client.get(f"/articles/{ids.train}"))
    assert page.cssselect("h1")[0].text == "Train de nuit : retour lundi"
    assert len(page.cssselect("#revisions tbody tr")) == 2
    assert [i.text for i in page.cssselect("#diff .edited ins")] == ["service dès lundi."]
    assert [i.text for i in page.cssselect("#diff .edited del")] == ["service."]
    assert [i.text_content() for i in page.cssselect("#diff .added")] == ["Mise à jour : horaires publiés."]
    assert "retour lundi" in page.cssselect("#diff .diff-title")[0].text_content()
    older = html(client.get(f"/articles/{ids.train}", params={"rev": 1}))
    assert "Mise à jour" not in older.cssselect("#text")[0].text_content()

    original = html(client.get(f"/articles/{ids.defense}"))
    assert original.cssselect(f'#copies .copied-by a[href="/articles/{ids.copy}"]')
    assert [a.text for a in original.cssselect("#aliases a")] == ["https://journal.test/defense?utm_source=rss"]
    copy = html(client.get(f"/articles/{ids.copy}"))
    assert copy.cssselect(f'#copies .copy-of a[href="/articles/{ids.defense}"]')
    assert not copy.cssselect("#diff")


def test_raw_capture_is_sandboxed_and_viewable_as_source(web):
    client, ids = web
    page = html(client.get(f"/articles/{ids.hostile}"))
    frame = page.cssselect("iframe.capture")[0]
    assert frame.get("sandbox") == ""
    raw = client.get(frame.get("src"))
    assert raw.status_code == 200 and raw.headers["content-type"] == "text/html; charset=utf-8"
    csp = raw.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "script" not in csp
    assert "<script>document.body.dataset.ran" in raw.text  # as archived, byte for byte
    source = client.get(frame.get("src"), params={"as": "source"})
    assert source.headers["content-type"].startswith("text/plain") and source.headers["content-security-policy"] == csp
    other = re.sub(r"/articles/\d+/", f"/articles/{ids.train}/", frame.get("src"))
    assert client.get(other).status_code == 404  # a raw page is reached through its own article only


def test_api_matches_the_cli(web, db_url, capsys):
    client, ids = web
    api = client.get("/api/search", params={"q": "train", "lang": "fr"}).json()
    assert main(["--db", db_url, "search", "train", "--lang", "fr", "--json"]) == 0
    assert api["results"] == json.loads(capsys.readouterr().out)
    assert api["facets"]["total"] == 1  # each facet counted under the other filters: English is offered too
    assert api["facets"]["languages"] == [{"language": "en", "count": 1}, {"language": "fr", "count": 1}]
    article = client.get(f"/api/articles/{ids.train}").json()
    assert main(["--db", db_url, "show", str(ids.train), "--json"]) == 0
    assert article == json.loads(capsys.readouterr().out)
    assert client.get("/api/articles/999999").status_code == 404
    sources = client.get("/api/sources").json()
    assert {s["state"] for s in sources["sources"]} == {"ok", "failing"}
    assert sum(d["articles"] for d in sources["per_day"][str(ids.source)]) == 2


def test_exports_are_the_cli_exports_of_the_result_set(web, db_url, capsys, tmp_path):
    client, ids = web
    page = html(client.get("/", params={"q": "defense", "duplicates": "hide"}))
    links = {a.text: a.get("href") for a in page.cssselect(".take a")}
    jsonl = client.get(links["JSONL"])
    assert jsonl.status_code == 200 and 'filename="newsarchive-defense.jsonl"' in jsonl.headers["content-disposition"]
    assert main(["--db", db_url, "export", "defense", "--no-duplicates", "--format", "jsonl"]) == 0
    assert jsonl.text == capsys.readouterr().out
    assert {json.loads(line)["id"] for line in jsonl.text.splitlines()} == {ids.defense, ids.hostile}
    rows = list(csv.DictReader(io.StringIO(client.get(links["CSV"]).text)))
    assert sorted(int(r["id"]) for r in rows) == sorted([ids.defense, ids.hostile])
    warc = client.get(links["WARC"])
    records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"))
               for r in ArchiveIterator(io.BytesIO(warc.content))]
    assert ("response", "https://hostile.test/page") in records
    assert ("conversion", "https://journal.test/defense") in records
    assert ("revisit", "https://journal.test/defense") in records  # fetched with utm_source: replayable as canonical
    assert client.get("/export.pdf").status_code == 404
    assert client.get("/export.jsonl", params={"q": "*"}).status_code == 400


def test_atom_feed_of_a_search(web):
    client, ids = web
    feed = feedparser.parse(client.get("/feed.atom", params={"q": "train"}).content)
    assert not feed.bozo and feed.feed.title == "newsarchive: train"
    assert [e.title for e in feed.entries] == ["Night train", "Train de nuit : retour lundi"]
    assert feed.entries[1].link.endswith(f"/articles/{ids.train}")


def test_sources_page(web, monkeypatch):
    client, ids = web
    page = html(client.get("/sources"))
    states = [s.text for s in page.cssselect("table.sources .state")]
    assert states == ["ok", "failing"]
    bars = page.cssselect("table.sources svg.chart")[0].cssselect("rect")
    days = [bar.cssselect("title")[0].text.split(": ") for bar in bars]
    assert len(days) == 14 and days[-3][1] == "2" and sum(int(n) for _, n in days) == 2  # two days ago
    assert float(bars[-3].get("height")) == 32 and float(bars[-1].get("height")) == 0
    assert page.cssselect("table.runs td")[2].text_content().strip() == "ok"
    assert "late" not in [th.text for th in page.cssselect("table.sources th")]

    from archive import health
    plain = health.source_health
    monkeypatch.setattr(health, "source_health", lambda session, now: [
        {**row, "late_seconds": 754.0, "overdue": row["state"] == "failing"} for row in plain(session, now)])
    page = html(client.get("/sources"))
    assert [th.text for th in page.cssselect("table.sources th")][-4:-2] == ["late", "overdue"]
    cells = page.cssselect("table.sources tbody tr")[1].cssselect("td")
    assert cells[7].text == "13 min" and cells[8].text_content() == "overdue"


ROUTES = ["/", "/?q=train", "/sources", "/articles/{train}", "/articles/{hostile}/raw/{raw}", "/api/search?q=train",
          "/api/articles/{train}", "/api/sources", "/export.jsonl?q=train", "/feed.atom", "/nope", "/articles/0",
          "/static/style.css", "/login"]


def test_security_headers_on_every_response_and_no_write_route(web):
    client, ids = web
    raw = html(client.get(f"/articles/{ids.hostile}")).cssselect("iframe.capture")[0].get("src").rsplit("/", 1)[1]
    for route in ROUTES:
        path = route.format(train=ids.train, hostile=ids.hostile, raw=raw)
        response = client.get(path, follow_redirects=False)
        assert response.status_code < 500, path
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer", path
        csp = headers["content-security-policy"]
        assert "script-src" not in csp and "'unsafe-inline'" not in csp.replace("style-src 'unsafe-inline'", ""), path
        assert "frame-ancestors 'none'" in csp or "/raw/" in path, path
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            if path == "/login" and method == "POST":
                continue
            assert client.request(method, path).status_code in (404, 405), (method, path)


def test_the_archive_is_opened_read_only(web):
    client, ids = web
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    engine = client.app.state.db.engine
    with pytest.raises(SQLAlchemyError):
        with engine.begin() as conn:
            conn.execute(text("UPDATE articles SET title = 'changed'"))
    assert hit_titles(client.get("/", params={"q": "train", "lang": "fr"})) == ["Train de nuit : retour lundi"]
