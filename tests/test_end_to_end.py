"""The whole path: a feed on a loopback news site -> Scrapy -> extractor -> archive -> export.

Crawls run as `newsarchive crawl` subprocesses, as operators and the scheduler run them
(a Twisted reactor runs once per process).
"""

from __future__ import annotations

import json
import re

import lxml.html

from archive.db import Database
from archive.models import Article
from archive.store import find_article
from newsarchive.cli import main
from newsarchive.demo.server import SITE_DIR as SITE
from tests.clirun import crawl

FURNITURE = ["Image Alt", "Postez un commentaire", "You don't have permission to register",
             "Partager sur Facebook", "Inscrivez-vous", "Vudailleurs.com"]
AMP_ARTICLE = "/2024/11/12/otan-rutte-macron/"
EDITED_ARTICLE = "/2024/09/16/festival-deauville-cinema-americain/"


def article_paragraphs(path: str) -> list[str]:
    """The paragraphs a reader sees in a demo article, read straight from its HTML file."""
    raw = (SITE / path.strip("/") / "index.html").read_bytes()
    try:
        html = raw.decode("utf-8")
    except UnicodeDecodeError:
        html = raw.decode("cp1252")
    tree = lxml.html.fromstring(html)
    return [" ".join(p.text_content().split()) for p in tree.cssselect("div.entry-content p")]


def feed_paths() -> list[str]:
    feed = (SITE / "feed.xml").read_text("utf-8")
    return re.findall(r"<link>\{\{base\}\}(/20[^<?]*)", feed)  # items, not the channel link


def export_jsonl(db_url, capsys) -> dict[str, dict]:
    capsys.readouterr()
    assert main(["--db", db_url, "export", "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    return {row["url"]: row for row in map(json.loads, lines)}


def test_feed_to_export_keeps_every_paragraph_and_no_furniture(site, sqlite_url, capsys):
    assert main(["--db", sqlite_url, "sources", "add", site.url("/feed.xml")]) == 0
    result = crawl(sqlite_url)
    assert result.returncode == 0, result.stderr
    assert re.search(r"\bok\b", result.stdout)

    exported = export_jsonl(sqlite_url, capsys)
    paths = feed_paths()
    assert len(paths) >= 5 and set(exported) == {site.url(p) for p in paths}
    for path in paths:
        row = exported[site.url(path)]
        for paragraph in article_paragraphs(path):
            assert paragraph in row["text"], f"{path}: lost paragraph {paragraph[:60]!r}"
        for noise in FURNITURE:
            assert noise not in row["text"], f"{path}: furniture {noise!r} archived"
        assert row["language"] == "fr" and row["site"] == "127.0.0.1"
        assert row["published"].startswith("2024-")
        assert "\ufffd" not in row["text"] and "Ã" not in row["text"]
        assert any("utm_source=rss" in alias for alias in row["aliases"])
        assert row["source"] == site.url("/feed.xml")


def test_utm_and_amp_variants_collapse_and_unchanged_feed_gets_304(site, sqlite_url):
    assert main(["--db", sqlite_url, "sources", "add", site.url("/feed.xml")]) == 0
    assert crawl(sqlite_url).returncode == 0
    db = Database(sqlite_url)
    with db.session() as session:
        count = session.query(Article).count()

    # The feed now links the AMP page (as some AMP plugins do): it must fold into its article.
    feed = (SITE / "feed.xml").read_text("utf-8").replace(
        f"<link>{{{{base}}}}{AMP_ARTICLE}?", f"<link>{{{{base}}}}{AMP_ARTICLE}amp/?")
    site.set_page("/feed.xml", feed.replace("{{base}}", site.base_url), content_type="application/rss+xml")
    site.clear_requests()
    assert crawl(sqlite_url).returncode == 0
    with db.session() as session:
        assert session.query(Article).count() == count
        article = find_article(session, site.url(AMP_ARTICLE + "amp/?utm_source=rss"))
        assert article is not None and article.canonical_url == site.url(AMP_ARTICLE)
        assert article.revision_count == 1
    # recognised as archived from its URL alone: not fetched again
    assert not [r for r in site.requests if "/amp/" in r.path]

    site.clear_requests()
    result = crawl(sqlite_url)
    assert result.returncode == 0, result.stderr
    feed_requests = [r for r in site.requests if r.path == "/feed.xml"]
    assert len(feed_requests) == 1 and feed_requests[0].status == 304
    assert "If-None-Match" in feed_requests[0].headers or "If-Modified-Since" in feed_requests[0].headers
    assert not [r for r in site.requests if r.path.startswith("/2024/")]
    db.dispose()


def test_revisit_all_records_the_changed_text_as_a_second_revision(site, sqlite_url):
    assert main(["--db", sqlite_url, "sources", "add", site.url("/feed.xml")]) == 0
    assert crawl(sqlite_url).returncode == 0

    added = "Mise à jour : la direction du festival a confirmé ce soir une édition spéciale pour 2025."
    page = (SITE / EDITED_ARTICLE.strip("/") / "index.html").read_text("utf-8")
    page = page.replace('<div class="entry-content">', f'<div class="entry-content">\n<p>{added}</p>', 1)
    site.set_page(EDITED_ARTICLE, page.replace("{{base}}", site.base_url))

    result = crawl(sqlite_url, "--all", command="revisit")
    assert result.returncode == 0, result.stderr
    db = Database(sqlite_url)
    with db.session() as session:
        edited = find_article(session, site.url(EDITED_ARTICLE))
        assert [r.number for r in edited.revisions] == [1, 2]
        assert added in edited.revisions[1].text and added not in edited.revisions[0].text
        others = [a for a in session.query(Article) if a.id != edited.id]
        assert others and all(a.revision_count == 1 for a in others)
    revisit_requests = [r for r in site.requests if r.path.startswith("/2024/")]
    assert any("If-None-Match" in r.headers for r in revisit_requests)
    db.dispose()
