"""Every named-site spider is tested on its stored page (Fundus style).

Spiders are enrolled by Scrapy's spider loader: every spider of `crawler.spiders` that is a
SiteSpider must have `tests/fixtures/sites/<name>/page.html.gz` and `expected.json` (its URL,
crawl date, title, author, published date, text that must and must not be in the extraction).
The page is extracted with the spider's drop selectors for its crawl date. Fixtures are
recorded with `newsarchive fixtures record SPIDER URL`, never by pytest.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from crawler.extract import extract
from crawler.spiders.site_base import SiteSpider

FIXTURES = Path(__file__).parent / "fixtures" / "sites"


def site_spiders() -> list[type[SiteSpider]]:
    loader = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": ["crawler.spiders"]}))
    spiders = (loader.load(name) for name in loader.list())
    return sorted((s for s in spiders if issubclass(s, SiteSpider)), key=lambda s: s.name)


def test_every_site_spider_is_enrolled():
    assert "vudailleurs" in [spider.name for spider in site_spiders()]


@pytest.mark.parametrize("spider", site_spiders(), ids=lambda spider: spider.name)
def test_site_fixture(spider):
    folder = FIXTURES / spider.name
    page, expected_file = folder / "page.html.gz", folder / "expected.json"
    assert page.is_file() and expected_file.is_file(), (
        f"spider {spider.name!r} has no fixture: run `newsarchive fixtures record {spider.name} URL` "
        f"and review {expected_file}")
    expected = json.loads(expected_file.read_text("utf-8"))
    crawled = date.fromisoformat(expected["crawled"])
    assert spider().is_article_url(expected["url"]), "the fixture's URL does not pass the spider's URL filter"

    article = extract(gzip.decompress(page.read_bytes()), expected["url"],
                      drop_selectors=spider.drop_selectors_for(crawled))

    assert article.blocked is None
    assert article.title == expected["title"]
    assert article.author == expected["author"]
    published = datetime.fromisoformat(expected["published"]) if expected.get("published") else None
    assert article.published == published
    if "language" in expected:
        assert article.language == expected["language"]
    for snippet in expected["must_contain"]:
        assert snippet in article.text, f"missing: {snippet!r}"
    for snippet in expected["must_not_contain"]:
        assert snippet not in article.text, f"furniture left: {snippet!r}"
