"""The base of named-site spiders: one small, declarative class per site.

A site spider says what its site is: ``name``, ``allowed_domains``, its ``feeds`` and
``sitemaps``, ``article_url`` (a regex article URLs match) and ``selector_versions``: the CSS
selectors of its furniture, each version valid until a date. A redesign adds a new version
instead of editing the old one (Fundus style), so pages crawled before it still extract as
they did and their fixture still pins that. The version is chosen by the page's crawl date.

Its sources are registered with ``newsarchive sources add URL --spider NAME`` (any kind: a
feed is polled like the feed spider does, a sitemap like the sitemap spider, a site like the
site spider), and run with spider argument ``sources=ID,ID``; without sources registered, the
spider polls its declared feeds and sitemaps. Each spider has a fixture folder
``tests/fixtures/sites/<name>/`` (`newsarchive fixtures record NAME URL`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from urllib.parse import urlsplit

from archive.urls import normalize_site
from crawler.spiders.feeds import FeedSpider, policy_from_settings
from crawler.spiders.site import SiteLinksSpider
from crawler.spiders.sitemap import SitemapSpider


@dataclass(frozen=True)
class Selectors:
    """The furniture selectors of one design of a site, used for pages crawled up to ``valid_until``."""

    drop: tuple[str, ...]
    valid_until: date | None = None  # None: the current design


class SiteSpider(FeedSpider, SitemapSpider, SiteLinksSpider):
    name = None  # abstract: the spider loader only lists subclasses with a name
    allowed_domains: list[str] = []
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    article_url: str | None = None
    selector_versions: tuple[Selectors, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        dated = [v.valid_until for v in cls.selector_versions if v.valid_until is not None]
        if dated != sorted(dated) or sum(v.valid_until is None for v in cls.selector_versions) > 1:
            raise TypeError(f"{cls.__name__}.selector_versions: oldest first, one current version at most")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # A source an operator registered for this spider may live on another host (a mirror).
        hosts = {urlsplit(s.url).hostname for s in spider.selected_sources()} - {None}
        spider.allowed_domains = sorted(set(cls.allowed_domains) | hosts)
        return spider

    @classmethod
    def drop_selectors_for(cls, crawled: datetime | date | None = None) -> tuple[str, ...]:
        """The selectors of the design the site had when the page was crawled (now when None)."""
        if crawled is None:
            crawled = datetime.now(timezone.utc)
        day = crawled.date() if isinstance(crawled, datetime) else crawled
        for version in cls.selector_versions:
            if version.valid_until is None or day <= version.valid_until:
                return version.drop
        return ()

    def selected_sources(self):
        if self.source_ids:
            return super().selected_sources()
        with self.db.session() as session:
            from archive.sources import list_sources

            return [s for s in list_sources(session, enabled_only=True) if s.spider == self.name]

    async def start(self):
        self.policy = policy_from_settings(self.crawler.settings)
        self.resolve_depth()
        sources = self.selected_sources()
        for source in sources:
            if source.kind == "sitemap":
                yield self.sitemap_request(source.url, source.id)
            elif source.kind == "site":
                yield self.listing_request(source.url, source.id, 0)
            else:
                yield self.feed_request(source)
        if not sources:  # nothing registered: the site's own feeds and sitemaps, unrecorded
            for url in self.sitemaps:
                yield self.sitemap_request(url, None)
            for url in self.feeds:
                yield self.feed_request_for_url(url)
        for request in self.resume_pending([s.id for s in sources]):
            yield request

    def feed_request_for_url(self, url: str):
        from archive.models import Source

        return self.feed_request(Source(id=None, url=url))

    def _record(self, source_id, record, **kwargs):  # the feed spider's poll record
        if source_id is not None:
            super()._record(source_id, record, **kwargs)

    def _count_new(self, found):
        return super()._count_new({url: d for url, d in found.items() if self.is_article_url(url)})


@lru_cache(maxsize=1024)
def site_spider_for(site: str) -> type[SiteSpider] | None:
    """The named-site spider whose domains cover a site (host), if any."""
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    site = normalize_site(site)
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    loader = SpiderLoader.from_settings(settings)
    for name in loader.list():
        spider = loader.load(name)
        if issubclass(spider, SiteSpider) and any(
                site == domain or site.endswith("." + domain) for domain in spider.allowed_domains):
            return spider
    return None


def site_drop_selectors(url: str, crawled: datetime | date | None = None) -> tuple[str, ...]:
    """The furniture selectors of the named site an URL belongs to, whichever spider fetched it
    (a revisit, or a generic feed or sitemap of that site)."""
    spider = site_spider_for((urlsplit(url).hostname or "").lower())
    return spider.drop_selectors_for(crawled) if spider else ()
