"""The `engine` spider: polls sources of every kind, in one crawler, for the long-running engine
(crawler/engine.py) and for the one-shot `newsarchive crawl`.

A source registered for a named-site spider (``sources add URL --spider NAME``) is polled here
too, with that spider's article URL pattern and furniture selectors: a named site only declares
what its site is (crawler/spiders/site_base.py), the engine does the polling.

Spider arguments: ``sources`` (comma-separated ids: poll them, resume what they left pending,
then close when idle, as every spider does); ``long_running=1``: poll nothing by itself, stay
open when idle, and take polls from crawler/engine.py ``Engine.poll``.
"""

from __future__ import annotations

import logging
import re

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import maybe_deferred_to_future

from archive.models import Source
from archive.sources import list_sources
from crawler.project import spider_class
from crawler.spiders.base import ArchiveSpider
from crawler.spiders.feeds import FeedPolling
from crawler.spiders.site import DEFAULT_ARTICLE_URL, LinkFollowing
from crawler.spiders.sitemap import SitemapReading

logger = logging.getLogger(__name__)


class EngineSpider(FeedPolling, SitemapReading, LinkFollowing, ArchiveSpider):
    name = "engine"
    progress_label = "crawl"  # what `newsarchive crawl` shows while it runs

    def __init__(self, *args, long_running: str | bool = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.long_running = str(long_running).lower() in ("1", "true", "yes")
        self._site_spiders: dict[int, type | None] = {}  # source id -> its named-site spider class
        self._kinds: dict[int, str] = {}  # source id -> its kind
        self._patterns: dict[str, re.Pattern] = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    def idle(self, spider):
        if self.long_running:
            raise DontCloseSpider  # the engine feeds it polls for as long as the process runs

    async def start(self):
        if not self.long_running:
            async for request in super().start():
                yield request
            return
        # Which named site each source belongs to, what earlier runs discovered and did not
        # archive, then whatever the engine hands in.
        sources = await maybe_deferred_to_future(self.io.read(self.all_sources))
        self.remember_spiders(sources)
        self.remember_options(sources)
        async for request in self.resume_pending([None]):
            yield request

    def all_sources(self) -> list[Source]:
        with self.db.session() as session:
            return list_sources(session)

    def selected_sources(self) -> list[Source]:
        sources = super().selected_sources()
        self.remember_spiders(sources)
        return sources if self.source_ids else [s for s in sources if not s.spider]

    # -- named sites -------------------------------------------------------------------------
    def remember_spiders(self, sources: list[Source]) -> None:
        """Note the named-site spider each source was registered for (``sources add --spider``)."""
        for source in sources:
            if source.id is not None and source.id not in self._site_spiders:
                self._site_spiders[source.id] = self._site_spider(source.spider)
                self._kinds[source.id] = source.kind

    def _site_spider(self, name: str | None) -> type | None:
        if not name:
            return None
        try:
            return spider_class(name)
        except KeyError:
            logger.error("no spider named %r: its sources are polled as plain sources", name)
            return None

    def article_pattern(self, source_id: int | None = None) -> re.Pattern | None:
        """The named site's article URLs; for a plain site crawl, links that look like articles
        (the ``article`` spider argument, else dated paths or long slugs); feeds and sitemaps: any."""
        site = self._site_spiders.get(source_id) if source_id is not None else None
        pattern = getattr(site, "article_url", None)
        if not pattern and source_id is not None and self._kinds.get(source_id) == "site":
            pattern = self.article_url or DEFAULT_ARTICLE_URL
        if not pattern:
            return None
        if pattern not in self._patterns:
            self._patterns[pattern] = re.compile(pattern)
        return self._patterns[pattern]

    def page_drop_selectors(self, url, crawled=None, source_id=None) -> tuple[str, ...]:
        site = self._site_spiders.get(source_id) if source_id is not None else None
        if site is not None and hasattr(site, "drop_selectors_for"):
            return tuple(site.drop_selectors_for(crawled))
        return super().page_drop_selectors(url, crawled, source_id)

    def poll_request(self, source: Source):
        self.remember_spiders([source])
        return super().poll_request(source)
