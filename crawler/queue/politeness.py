"""Politeness across workers: each site's delay is kept in Redis, so N workers on one site fetch
from it no faster than one would.

Scrapy keeps a download slot per site in each process (DOWNLOAD_DELAY, AutoThrottle,
CONCURRENT_REQUESTS_PER_DOMAIN); a worker does not know the others. Before a request to a site
is sent, this downloader middleware takes the site's slot in Redis: ``SET slot NX PX delay``,
which only one worker gets until the delay has passed; the others wait for the key to expire
and try again. The delay is DOWNLOAD_DELAY as the worker was given it (NEWSARCHIVE_SHARED_DELAY;
the worker sets its local DOWNLOAD_DELAY to 0, so the shared slot is what spaces the requests;
AutoThrottle still slows a site that answers slowly), or a spider's ``download_delay``. A delay of
0 takes no slot.

The Redis calls run in a thread, never on the reactor: a Redis that hangs (up to the client's
30 s socket timeout) holds up the request that asked, not every download, heartbeat and write of
the worker. Redis being unreachable does not stop the crawl, nor make it impolite: the worker
then spaces its own requests to each site by the delay, says so once, and tries Redis again
every RETRY_SHARED seconds.
"""

from __future__ import annotations

import logging
import time

import redis
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread

from crawler.queue.link import connect, mask, queue_keys

logger = logging.getLogger(__name__)

MAX_WAIT = 0.5  # seconds between two tries at a slot (a key's remaining life, at most this)
RETRY_SHARED = 30.0  # seconds between tries at Redis while it is unreachable


class SharedPoliteness:
    def __init__(self, crawler, client: redis.Redis, prefix: str):
        self.crawler = crawler
        self.client = client
        self.prefix = prefix
        settings = crawler.settings
        self.delay = settings.getfloat("NEWSARCHIVE_SHARED_DELAY", settings.getfloat("DOWNLOAD_DELAY"))
        self.unshared_until = 0.0  # monotonic time until which Redis is not asked (it was unreachable)
        self.local_next: dict[str, float] = {}  # host -> when its next request may go, while unshared

    @classmethod
    def from_crawler(cls, crawler):
        url = crawler.settings.get("NEWSARCHIVE_QUEUE")
        if not url:
            raise NotConfigured  # no shared queue (no message: Scrapy would log one per crawl)
        return cls(crawler, connect(url), queue_keys(crawler.settings.get("NEWSARCHIVE_QUEUE_PREFIX")).slots)

    def delay_for(self, spider) -> float:
        """The site's delay: the spider's own ``download_delay``, else the shared one."""
        return float(getattr(spider, "download_delay", None) or self.delay)

    def try_slot(self, key: str, delay_ms: int) -> int:
        """In a thread: 0 when the site's slot is now ours, else how many ms it is still held."""
        if self.client.set(key, "1", nx=True, px=delay_ms):
            return 0
        return max(1, int(self.client.pttl(key) or 1))

    async def process_request(self, request, spider=None):
        spider = spider or self.crawler.spider
        delay = self.delay_for(spider)
        if delay <= 0:
            return None
        from twisted.internet import reactor

        host = urlparse_cached(request).hostname or ""
        waited = 0
        while time.monotonic() >= self.unshared_until:
            try:
                left = await maybe_deferred_to_future(deferToThread(self.try_slot, self.prefix + host,
                                                                    max(1, int(delay * 1000))))
            except redis.RedisError as exc:
                self._unreachable(exc)
                break
            if self.unshared_until:
                self.unshared_until, self.local_next = 0.0, {}
                logger.warning("the queue is reachable again: site delays are shared again")
            if not left:
                self._count(waited)
                return None
            waited += 1
            await maybe_deferred_to_future(deferLater(reactor, min(MAX_WAIT, max(0.005, left / 1000)), lambda: None))
        # unshared: this worker keeps the site's delay on its own
        now = time.monotonic()
        start = max(now, self.local_next.get(host, 0.0))
        self.local_next[host] = start + delay
        if start > now:
            waited += 1
            await maybe_deferred_to_future(deferLater(reactor, start - now, lambda: None))
        self._count(waited)
        return None

    def _unreachable(self, exc: Exception) -> None:
        if not self.unshared_until:
            logger.warning("site delays are not shared (queue unreachable): %s; this worker keeps them on its "
                           "own and tries the queue again every %.0f s", mask(str(exc)), RETRY_SHARED)
        self.unshared_until = time.monotonic() + RETRY_SHARED
        self.crawler.stats.inc_value("newsarchive/politeness_unshared")

    def _count(self, waited: int) -> None:
        if waited:
            self.crawler.stats.inc_value("newsarchive/politeness_waits")
