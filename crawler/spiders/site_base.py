"""The base of named-site spiders: one small, declarative class per site.

A site spider says what its site is: ``name``, ``allowed_domains``, its ``feeds`` and
``sitemaps``, ``article_url`` (a regex article URLs match) and ``selector_versions``: the CSS
selectors of its furniture, each version valid until a date (crawler/site_selectors.py). A
redesign adds a new version instead of editing the old one (Fundus style), so pages crawled
before it still extract as they did and their fixture still pins that.

Its sources are registered with ``newsarchive sources add URL --spider NAME`` (any kind: a feed
is polled as the feed spider does, a sitemap as the sitemap spider, a site as the site spider),
and run with spider argument ``sources=ID,ID``; without sources registered, the spider polls its
declared feeds and sitemaps. Each spider has a fixture folder ``tests/fixtures/sites/<name>/``
(`newsarchive fixtures record NAME URL`).
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

from archive.models import Source
from archive.sources import list_sources
from crawler.site_selectors import Selectors, check_versions, selectors_on
from crawler.spiders.base import ArchiveSpider
from crawler.spiders.feeds import FeedPolling
from crawler.spiders.site import LinkFollowing
from crawler.spiders.sitemap import SitemapReading

__all__ = ["Selectors", "SiteSpider"]


class SiteSpider(FeedPolling, SitemapReading, LinkFollowing, ArchiveSpider):
    """Abstract: without a ``name`` of its own, the spider loader does not list it."""

    allowed_domains: list[str] = []
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    selector_versions: tuple[Selectors, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        check_versions(cls.selector_versions, cls.__name__)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # A source an operator registered for this spider may live on another host (a mirror).
        hosts = {host for s in spider.selected_sources() if (host := urlsplit(s.url).hostname)}
        spider.allowed_domains = sorted(set(cls.allowed_domains) | hosts)
        return spider

    @classmethod
    def drop_selectors_for(cls, crawled: datetime | date | None = None) -> tuple[str, ...]:
        """The selectors of the design the site had when the page was crawled (now when None)."""
        return selectors_on(cls.selector_versions, crawled)

    def selected_sources(self) -> list[Source]:
        if self.source_ids:
            return super().selected_sources()
        with self.db.session() as session:
            return [s for s in list_sources(session, enabled_only=True) if s.spider == self.name]

    def unregistered_sources(self) -> list[Source]:
        """The site's own sitemaps and feeds, polled without being recorded (no source id)."""
        return [Source(id=None, url=url, kind="sitemap") for url in self.sitemaps] + [
            Source(id=None, url=url, kind="feed") for url in self.feeds]
