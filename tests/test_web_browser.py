"""`newsarchive serve` driven in headless Chromium (Debian's, through Playwright), over an archive
built by crawling the bundled demo site: search, read, compare revisions, follow a copy, export,
and archived pages that cannot run a script or fetch anything.

Each test saves a screenshot under test-output/browser/; with NEWSARCHIVE_SCREENSHOTS=DIR set
(`make screenshots`), the README's screenshots are written to DIR as well.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from archive.db import Database
from archive.store import find_article
from tests.serve_helpers import serving

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "newsarchive" / "demo" / "site"
OUTPUT = ROOT / "test-output" / "browser"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
EDITED = "/2024/09/16/festival-deauville-cinema-americain/"
ADDED = "Mise à jour : la direction du festival a confirmé ce soir une édition spéciale pour 2025."
BUDGET = "/2024/11/05/budget-2025-assemblee-nationale/"
COPY = "/partenaires/budget-2025-assemblee-nationale-afp/"
HOSTILE = "/2024/12/02/page-piegee/"
SCRIPT_TITLE = "<script>alert(1)</script>"

if not Path(CHROMIUM).exists():
    pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a test extra (pip install -e '.[test]')")

HOSTILE_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>
<meta property="og:title" content="&lt;script&gt;alert(1)&lt;/script&gt;">
<meta property="article:published_time" content="2024-12-02T09:00:00+01:00">
<link rel="canonical" href="{{base}}/2024/12/02/page-piegee/">
<link rel="stylesheet" href="{{base}}/marker/stylesheet.css">
<script>new Image().src = "{{base}}/marker/script"; document.title = "a script ran";</script>
</head><body>
<article><h1 class="entry-title">&lt;script&gt;alert(1)&lt;/script&gt;</h1>
<div class="entry-content">
<p>Cette page piégée sert à vérifier que l’archive montre son titre comme du texte et ne laisse jamais
tourner ses scripts dans le navigateur de l’archiviste, ni charger quoi que ce soit depuis internet.</p>
<img src="{{base}}/marker/image.png" alt="">
<p>Un lecteur attentif remarquera que ce paragraphe parle de sécurité des navigateurs et de pages hostiles
archivées, sujet que les autres articles du site ne traitent pas du tout.</p>
<iframe src="{{base}}/marker/frame"></iframe>
<p>Les archivistes consultent des milliers de pages venues de partout : aucune ne doit pouvoir agir à leur place
ni signaler leur visite à un serveur tiers.</p>
<script>document.body.setAttribute("data-ran", "yes"); fetch("{{base}}/marker/fetch");</script>
</div></article></body></html>"""

HOSTILE_ITEM = """<item><title>&lt;script&gt;alert(1)&lt;/script&gt;</title>
<link>{{base}}/2024/12/02/page-piegee/</link><pubDate>Mon, 02 Dec 2024 09:00:00 +0100</pubDate>
<guid isPermaLink="false">{{base}}/?p=9999</guid><description>Une page piégée.</description></item>"""


def newsarchive(db_url: str, *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "newsarchive", "--db", db_url, *args], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory, mockserver):
    """The demo site, crawled (feed and home page), one article edited then revisited, a hostile page."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'archive.db'}"
    site = mockserver.new_site()
    try:
        feed = (SITE / "feed.xml").read_text("utf-8").replace("<item>", HOSTILE_ITEM + "\n<item>", 1)
        site.set_page("/feed.xml", feed, content_type="application/rss+xml; charset=utf-8")
        site.set_page(HOSTILE, HOSTILE_PAGE)
        newsarchive(db_url, "sources", "add", site.url("/feed.xml"))
        newsarchive(db_url, "sources", "add", site.url("/"), "--kind", "site")
        # the feed first: its budget article is the earliest archived copy, the partner's the duplicate
        newsarchive(db_url, "crawl", site.url("/feed.xml"), *FAST)
        newsarchive(db_url, "crawl", site.url("/"), *FAST)
        page = (SITE / EDITED.strip("/") / "index.html").read_text("utf-8")
        edited = page.replace('<div class="entry-content">', f'<div class="entry-content">\n<p>{ADDED}</p>', 1)
        site.set_page(EDITED, edited)
        newsarchive(db_url, "revisit", "--all", *FAST)
        site.clear_requests()
        db = Database(db_url)
        with db.session() as session:
            ids = {path: find_article(session, site.url(path)).id for path in (EDITED, BUDGET, COPY, HOSTILE)}
        db.dispose()
        with serving(db_url) as served:
            yield {"base": served.base, "site": site, "ids": ids, "db_url": db_url}
    finally:
        site.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, demo, request):
    """A fresh page that records every request and dialog, and is screenshotted at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    # requests the browser completed (one that CSP blocks is announced, then fails: it is not here)
    tab.requests, tab.blocked, tab.dialogs, tab.console = [], [], [], []
    tab.on("requestfinished", lambda r: tab.requests.append(r.url))
    tab.on("requestfailed", lambda r: tab.blocked.append((r.url, r.failure)))
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.on("console", lambda m: tab.console.append(m.text))
    yield tab
    OUTPUT.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(OUTPUT / f"{request.node.name}.png"), full_page=True)
    context.close()


def readme_screenshot(tab, name: str) -> None:
    folder = os.environ.get("NEWSARCHIVE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(Path(folder) / f"{name}.png"))


def search(tab, base: str, words: str) -> None:
    tab.goto(base + "/")
    tab.fill("input[name=q]", words)
    tab.click("form.search button[type=submit]")
    tab.wait_for_load_state()


def only_our_server(tab, demo) -> None:
    """The browser fetched nothing but from `serve`, and the archived pages' own server saw nothing."""
    strangers = [url for url in tab.requests if not url.startswith(demo["base"] + "/") and not url.startswith("data:")]
    assert strangers == [], strangers
    assert [r.path for r in demo["site"].requests] == []


def test_a_french_word_without_its_accents_finds_the_article(page, demo):
    search(page, demo["base"], "briancon")
    titles = page.locator("li.hit a.title").all_inner_texts()
    assert titles[0].startswith("Le train de nuit Paris-Briançon")
    assert page.locator("li.hit .snippet mark").first.inner_text() == "Briançon"
    page.locator("li.hit a.title").first.click()
    assert page.locator("h1").inner_text().startswith("Le train de nuit Paris-Briançon")
    search(page, demo["base"], "etat OR francais")  # état, français, États...
    assert page.locator("li.hit").count() >= 3
    readme_screenshot(page, "search")
    only_our_server(page, demo)


def test_two_revisions_and_their_diff(page, demo):
    search(page, demo["base"], "festival deauville")
    page.get_by_role("link", name=re.compile("Festival de Deauville")).first.click()
    assert page.locator("#revisions tbody tr").count() == 2
    assert page.locator("#diff .added ins").inner_text() == ADDED
    assert page.locator("#diff").get_by_text(ADDED).is_visible()
    page.goto(f"{demo['base']}/articles/{demo['ids'][EDITED]}?rev=1#text")
    assert ADDED not in page.locator("#text").inner_text()
    page.goto(f"{demo['base']}/articles/{demo['ids'][EDITED]}")
    page.frame_locator("iframe.capture").locator("h1").wait_for()
    readme_screenshot(page, "article")
    only_our_server(page, demo)


def test_follow_a_duplicate_link_both_ways(page, demo):
    ids = demo["ids"]
    page.goto(f"{demo['base']}/articles/{ids[BUDGET]}")
    page.locator("#copies .copied-by a").click()
    assert page.url.endswith(f"/articles/{ids[COPY]}")
    assert COPY in page.locator("dl.meta").inner_text()
    page.locator("#copies .copy-of a").click()
    assert page.url.endswith(f"/articles/{ids[BUDGET]}")


def test_export_a_result_set_and_read_it_back(page, demo, tmp_path):
    search(page, demo["base"], "budget assemblee")
    with page.expect_download() as download:
        page.get_by_role("link", name="JSONL").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "newsarchive-budget-assemblee.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert sorted(r["id"] for r in rows) == sorted([demo["ids"][BUDGET], demo["ids"][COPY]])
    assert all(r["title"].startswith("Budget 2025") for r in rows)
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    download.value.save_as(tmp_path / "export.csv")
    table = list(csv.DictReader(io.StringIO((tmp_path / "export.csv").read_text("utf-8"))))
    assert {r["url"] for r in table} == {r["url"] for r in rows}


def test_a_script_title_is_shown_as_text(page, demo):
    search(page, demo["base"], "page piegee")
    assert page.locator("li.hit a.title").first.inner_text() == SCRIPT_TITLE
    page.locator("li.hit a.title").first.click()
    assert page.locator("h1").inner_text() == SCRIPT_TITLE
    assert page.dialogs == []


def test_no_script_of_an_archived_page_runs_and_nothing_is_fetched(page, demo):
    base = demo["base"]
    page.goto(f"{base}/articles/{demo['ids'][HOSTILE]}")
    frame = page.frame_locator("iframe.capture")
    frame.locator("h1").wait_for()
    assert frame.locator("body").get_attribute("data-ran") is None
    raw = page.locator("iframe.capture").get_attribute("src")
    page.goto(base + raw)  # the capture opened on its own, outside the frame
    page.locator("h1").wait_for()
    assert page.locator("body").get_attribute("data-ran") is None
    assert page.title() == SCRIPT_TITLE  # its <title>, not what its script would have set
    page.goto(base + raw + "?as=source")
    assert "document.title = \"a script ran\"" in page.locator("body").inner_text()
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert any("Blocked script execution" in line for line in page.console)
    assert any("/marker/" in url for url, _ in page.blocked)  # announced, and refused
    only_our_server(page, demo)


def test_sources_page(page, demo):
    page.goto(demo["base"] + "/sources")
    rows = page.locator("table.sources tbody tr")
    assert rows.count() == 2
    assert page.locator("table.sources .state").all_inner_texts() == ["ok", "ok"]
    assert page.locator("table.sources svg.chart").first.locator("rect").count() == 14
    assert page.locator("table.runs tbody tr").count() >= 2  # the crawl and the revisit
    readme_screenshot(page, "sources")
