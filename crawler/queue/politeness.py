"""Politeness across workers: each site's delay is kept in Redis, so N workers on one site fetch
from it no faster than one would.

Scrapy keeps a download slot per site in each process (DOWNLOAD_DELAY, AutoThrottle,
CONCURRENT_REQUESTS_PER_DOMAIN); a worker does not know the others. Before a request to a site
is sent, this downloader middleware takes the site's slot in Redis: ``SET slot NX PX delay``,
which only one worker gets until the delay has passed; the others wait for the key to expire
and try again. The delay is DOWNLOAD_DELAY as the worker was given it (NEWSARCHIVE_SHARED_DELAY;
the worker sets its local DOWNLOAD_DELAY to 0, so the shared slot is what spaces the requests;
AutoThrottle still slows a site that answers slowly), or a spider's ``download_delay``. A delay of
0 takes no slot. Redis being unreachable does not stop the crawl: the request goes on unshared.
"""

from __future__ import annotations

import logging

import redis
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.task import deferLater

from crawler.queue.link import connect, mask, queue_keys

logger = logging.getLogger(__name__)

MAX_WAIT = 0.5  # seconds between two tries at a slot (a key's remaining life, at most this)


class SharedPoliteness:
    def __init__(self, crawler, client: redis.Redis, prefix: str):
        self.crawler = crawler
        self.client = client
        self.prefix = prefix
        settings = crawler.settings
        self.delay = settings.getfloat("NEWSARCHIVE_SHARED_DELAY", settings.getfloat("DOWNLOAD_DELAY"))

    @classmethod
    def from_crawler(cls, crawler):
        url = crawler.settings.get("NEWSARCHIVE_QUEUE")
        if not url:
            raise NotConfigured  # no shared queue (no message: Scrapy would log one per crawl)
        return cls(crawler, connect(url), queue_keys(crawler.settings.get("NEWSARCHIVE_QUEUE_PREFIX")).slots)

    def delay_for(self, spider) -> float:
        """The site's delay: the spider's own ``download_delay``, else the shared one."""
        return float(getattr(spider, "download_delay", None) or self.delay)

    async def process_request(self, request, spider=None):
        spider = spider or self.crawler.spider
        delay = self.delay_for(spider)
        if delay <= 0:
            return None
        from twisted.internet import reactor

        key = self.prefix + (urlparse_cached(request).hostname or "")
        waited = 0
        while True:
            try:
                if self.client.set(key, "1", nx=True, px=max(1, int(delay * 1000))):
                    break
                left = self.client.pttl(key)
            except redis.RedisError as exc:
                logger.warning("the delay of %s is not shared (queue unreachable): %s", key, mask(str(exc)))
                return None
            waited += 1
            wait = min(MAX_WAIT, max(0.005, left / 1000 if left and left > 0 else 0.01))
            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        if waited:
            self.crawler.stats.inc_value("newsarchive/politeness_waits")
        return None
