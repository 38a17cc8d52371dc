"""The sitemap, site and named-site spiders against the loopback demo site, the site spider
metadata (selector versions by crawl date, URL filter) and the `scrapy genspider -t article` template.

Crawls run as `newsarchive crawl` subprocesses (a Twisted reactor runs once per process).
"""

from __future__ import annotations

import gzip
import importlib.util
import subprocess
import sys
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from archive.db import Database
from archive.models import Article, Revision, Source
from crawler.spiders.site_base import Selectors, SiteSpider
from crawler.spiders.sitemap import parse_sitemap, sitemaps_in_robots
from crawler.spiders.vudailleurs import VudailleursSpider
from newsarchive.cli import main
from tests.clirun import ROOT, crawl

DEMO_ARTICLES = {"/2024/11/12/otan-rutte-macron/", "/2024/11/05/budget-2025-assemblee-nationale/",
                 "/2024/10/21/vendanges-2024-bordeaux/", "/2024/10/08/train-de-nuit-paris-briancon/",
                 "/2024/09/16/festival-deauville-cinema-americain/", "/2024/09/09/jeux-paralympiques-bilan/"}


def archived_paths(db_url: str, server) -> set[str]:
    db = Database(db_url)
    try:
        with db.session() as session:
            urls = session.scalars(select(Article.canonical_url)).all()
    finally:
        db.dispose()
    return {url.removeprefix(server.base_url) for url in urls}


# -- sitemaps ---------------------------------------------------------------------------------

NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>{{base}}/2024/11/12/otan-rutte-macron/</loc><lastmod>2024-11-13T08:00:00Z</lastmod>
    <news:news><news:publication><news:name>Vudailleurs.com</news:name><news:language>fr</news:language>
    </news:publication><news:publication_date>2024-11-12T16:05:00+01:00</news:publication_date>
    <news:title>OTAN</news:title></news:news></url>
  <url><loc>{{base}}/2024/11/05/budget-2025-assemblee-nationale/</loc><lastmod>2024-11-05</lastmod></url>
</urlset>"""
INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{{base}}/news-sitemap.xml</loc></sitemap>
  <sitemap><loc>{{base}}/sitemap-posts.xml.gz</loc><lastmod>2024-11-12T18:40:00+01:00</lastmod></sitemap>
</sitemapindex>"""


def test_parse_sitemap_prefers_the_news_publication_date():
    kind, entries = parse_sitemap(NEWS_SITEMAP.encode())
    assert kind == "urlset"
    assert entries == {
        "{{base}}/2024/11/12/otan-rutte-macron/": datetime(2024, 11, 12, 15, 5, tzinfo=timezone.utc),
        "{{base}}/2024/11/05/budget-2025-assemblee-nationale/": datetime(2024, 11, 5, tzinfo=timezone.utc),
    }
    assert parse_sitemap(INDEX.encode())[0] == "sitemapindex"
    assert parse_sitemap(b"<html><body>not a sitemap</body></html>") == (None, {})
    assert parse_sitemap(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><urlset><url><loc>&e;</loc>'
                         b"</url></urlset>")[1] in ({}, {"": None})
    assert sitemaps_in_robots("User-agent: *\nSitemap: https://a.example/s.xml\nsitemap:https://a.example/n.xml") == [
        "https://a.example/s.xml", "https://a.example/n.xml"]
    # relative Sitemap lines are joined to the robots.txt URL, repeated ones listed once
    assert sitemaps_in_robots("Sitemap: /news.xml\nSitemap: /news.xml\n", "https://a.example/robots.txt") == [
        "https://a.example/news.xml"]


def test_sitemap_spider_follows_robots_txt_and_indexes(site, sqlite_url):
    site.set_page("/robots.txt", "User-agent: *\nDisallow: /wp-admin/\nSitemap: {{base}}/sitemap_index.xml\n",
                  content_type="text/plain; charset=utf-8")
    site.set_page("/sitemap_index.xml", INDEX, content_type="application/xml")
    site.set_page("/news-sitemap.xml", NEWS_SITEMAP, content_type="application/xml")
    posts = (ROOT / "newsarchive" / "demo" / "site" / "sitemap.xml").read_bytes()
    site.set_page("/sitemap-posts.xml.gz", gzip.compress(posts.replace(b"{{base}}", site.base_url.encode())),
                  content_type="application/x-gzip")  # a gzipped file, not a Content-Encoding
    assert main(["--db", sqlite_url, "sources", "add", site.url("/robots.txt"), "--kind", "sitemap"]) == 0
    crawl(sqlite_url, check=True)
    assert archived_paths(sqlite_url, site) == DEMO_ARTICLES
    db = Database(sqlite_url)
    with db.session() as session:
        source = session.scalars(select(Source)).one()
        assert source.last_success_at is not None and source.next_poll_at is not None
    db.dispose()

    site.clear_requests()
    crawl(sqlite_url, check=True)  # the next poll reads the sitemaps, fetches no archived article again
    assert not [r for r in site.requests if r.path.startswith("/2024/")]


# -- following links --------------------------------------------------------------------------

def test_site_spider_follows_links_within_depth(site, sqlite_url):
    assert main(["--db", sqlite_url, "sources", "add", site.url("/"), "--kind", "site"]) == 0
    crawl(sqlite_url, "-s", "NEWSARCHIVE_SITE_DEPTH=0", check=True)
    paths = archived_paths(sqlite_url, site)
    assert DEMO_ARTICLES <= paths  # the home page links every article
    listings = [r.path for r in site.requests if not r.path.startswith(("/2024/", "/partenaires/", "/robots"))]
    assert listings == ["/"]  # depth 0: the source page only, no section pages

    site.clear_requests()
    crawl(sqlite_url, "-s", "NEWSARCHIVE_SITE_DEPTH=1", check=True)
    paths = {r.path for r in site.requests}
    assert {"/?cat=3", "/?page_id=12"} <= paths  # one hop: the section pages linked from home
    assert not [p for p in paths if p.startswith("/2024/")]  # archived articles are not fetched again


# -- named-site spiders -----------------------------------------------------------------------

def test_vudailleurs_metadata():
    spider = VudailleursSpider
    assert spider.name == "vudailleurs" and spider.allowed_domains == ["vudailleurs.com"]
    assert spider.feeds == ("https://www.vudailleurs.com/feed/",) and spider.sitemaps
    instance = spider()
    assert instance.is_article_url("https://www.vudailleurs.com/2024/11/12/otan-rutte-macron/")
    assert instance.is_article_url("https://www.vudailleurs.com/2024/11/12/otan-rutte-macron/?utm_source=rss")
    for other in ("https://www.vudailleurs.com/", "https://www.vudailleurs.com/?cat=3",
                  "https://www.vudailleurs.com/partenaires/budget-2025-assemblee-nationale-afp/",
                  "https://www.vudailleurs.com/2024/11/12/otan-rutte-macron/amp/comments/"):
        assert not instance.is_article_url(other), other
    assert "#comments" in spider.drop_selectors_for(date(2024, 11, 12))


def test_a_named_sites_selectors_apply_whichever_spider_fetched_its_page():
    from crawler.spiders.feeds import FeedSpider
    from crawler.spiders.revisit import RevisitSpider

    url = "https://www.vudailleurs.com/2024/11/12/otan-rutte-macron/"
    for spider in (FeedSpider(), RevisitSpider(), VudailleursSpider()):
        assert spider.page_drop_selectors(url) == VudailleursSpider.drop_selectors_for()
    assert FeedSpider().page_drop_selectors("https://example.org/2024/11/12/a/") == ()


def test_selector_versions_are_chosen_by_crawl_date():
    class Redesigned(SiteSpider):
        name = "redesigned"
        selector_versions = (Selectors(("div.old-share",), valid_until=date(2021, 3, 1)),
                             Selectors(("div.new-share",)))

    assert Redesigned.drop_selectors_for(date(2020, 5, 1)) == ("div.old-share",)
    assert Redesigned.drop_selectors_for(datetime(2021, 3, 1, 23, tzinfo=timezone.utc)) == ("div.old-share",)
    assert Redesigned.drop_selectors_for(date(2024, 1, 1)) == ("div.new-share",)
    assert Redesigned.drop_selectors_for() == ("div.new-share",)
    with pytest.raises(TypeError):
        type("Unordered", (SiteSpider,), {"selector_versions": (
            Selectors(("a",), valid_until=date(2022, 1, 1)), Selectors(("b",), valid_until=date(2021, 1, 1)))})


def test_a_source_added_with_a_spider_is_crawled_by_it(site, sqlite_url):
    assert main(["--db", sqlite_url, "sources", "add", site.url("/feed.xml"), "--spider", "vudailleurs"]) == 0
    db = Database(sqlite_url)
    with db.session() as session:
        source = session.scalars(select(Source)).one()
        assert source.spider == "vudailleurs"
    db.dispose()
    crawl(sqlite_url, check=True)
    assert archived_paths(sqlite_url, site) == DEMO_ARTICLES
    db = Database(sqlite_url)
    with db.session() as session:
        texts = session.scalars(select(Revision.text)).all()
        assert session.scalar(select(func.count(Source.id)).where(Source.last_success_at.is_not(None))) == 1
    db.dispose()
    assert texts and not any("Partager" in t or "Postez un commentaire" in t for t in texts)


# -- scrapy genspider -t article --------------------------------------------------------------

def test_genspider_lists_and_renders_the_article_template(tmp_path):
    listed = subprocess.run([sys.executable, "-m", "scrapy", "genspider", "--list"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert "article" in listed.stdout.split(), listed.stdout + listed.stderr

    from scrapy.utils.template import render_templatefile

    target = tmp_path / "example_news.py"
    target.write_text((ROOT / "crawler" / "templates" / "spiders" / "article.tmpl").read_text())
    render_templatefile(target, classname="ExampleNewsSpider", name="example_news", domain="example.com",
                        url="https://example.com", module="example_news", project_name="newsarchive",
                        ProjectName="Newsarchive")
    spec = importlib.util.spec_from_file_location("example_news", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    spider = module.ExampleNewsSpider
    assert issubclass(spider, SiteSpider) and spider.name == "example_news"
    assert spider.allowed_domains == ["example.com"] and spider.feeds and spider.drop_selectors_for()
    assert spider().is_article_url("https://www.example.com/2024/11/12/un-article/")
