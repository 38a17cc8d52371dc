"""The long-running crawl engine: ONE Scrapy crawler (the `engine` spider) that stays open for as
long as its process runs, and takes each poll as a request handed to the running crawler.

Whoever runs it (scheduler.py, the worker) decides what is due; the engine only polls:

* ``poll(source)`` hands the source's first request to the crawler, unless a poll of that source
  is still in flight. A poll is over when it is recorded on its source (the ``poll_recorded``
  signal); the article fetches it queued go on in the same crawler afterwards.
* A poll has a hard time limit (``poll_timeout``): then its remaining requests are dropped
  (crawler/middlewares.py ``CancelledPolls``) and it is recorded as a failed poll.
* robots.txt, DNS and each site's politeness slot live in the crawler, so they are shared by
  every poll of the process instead of being fetched again per poll.
* ``resume()`` takes the frontier's pending URLs nobody holds (a failed write, a crawl that died)
  back into the crawl.

The reactor must be running (scheduler.py installs and runs it); everything here runs on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerRunner
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import Deferred, succeed

from archive.db import Database
from archive.models import Source
from crawler import fork_server
from crawler.middlewares import POLL_META, record_poll_timeout
from crawler.runner import build_settings
from crawler.signals import poll_recorded
from crawler.spiders.engine import EngineSpider

logger = logging.getLogger(__name__)

POLL_TIMEOUT = 600.0


@dataclass
class Poll:
    source_id: int
    url: str
    timer: Any = None  # the IDelayedCall of its time limit


class Engine:
    def __init__(self, db: Database, run_id: int, overrides: dict[str, str], *,
                 poll_timeout: float = POLL_TIMEOUT, reactor=None):
        if reactor is None:
            from twisted.internet import reactor  # the one scheduler.py installed
        self.reactor = reactor
        self.db = db
        self.poll_timeout = poll_timeout
        # a process that runs for months loads all date locales once, in its pool's fork server
        settings = build_settings(db, run_id, {"NEWSARCHIVE_EXTRACT_WARM_LOCALES": "1", **overrides})
        fork_server.start(settings)  # its workers warm up while the crawler opens
        self.runner = CrawlerRunner(settings)
        self.crawler: Crawler = self.runner.create_crawler(EngineSpider)
        setattr(self.crawler, "_newsarchive_engine", self)  # for CancelledPolls
        self.in_flight: dict[int, Poll] = {}
        self.cancelled: set[int] = set()
        self.closed_reason: str | None = None
        self.done: Deferred | None = None
        self._opened: Deferred = Deferred()

    @property
    def spider(self) -> EngineSpider:
        return cast(EngineSpider, self.crawler.spider)

    def start(self) -> Deferred:
        """Open the crawler; fires once it takes polls. ``done`` fires when it has closed."""
        self.crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)
        self.crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)
        self.crawler.signals.connect(self._recorded, signal=poll_recorded)
        self.done = self.runner.crawl(self.crawler, long_running="1")
        self.done.addErrback(self._crashed)
        return self._opened

    def _spider_opened(self, spider) -> None:
        if not self._opened.called:
            self._opened.callback(self)

    def _spider_closed(self, spider, reason) -> None:
        self.closed_reason = reason
        for poll in self.in_flight.values():
            if poll.timer is not None and poll.timer.active():
                poll.timer.cancel()
        self.in_flight.clear()

    def _crashed(self, failure):
        self.closed_reason = self.closed_reason or f"crashed: {failure.getErrorMessage()}"
        logger.error("the crawl engine stopped: %s", failure.getErrorMessage())
        if not self._opened.called:
            self._opened.errback(failure)

    @property
    def running(self) -> bool:
        return self.closed_reason is None and self.crawler.crawling

    # -- polls -------------------------------------------------------------------------------
    def poll(self, source: Source) -> bool:
        """Start a poll of ``source``; False when one is in flight or the engine is closing."""
        if source.id in self.in_flight or not self.running:
            return False
        request = self.spider.poll_request(source)
        if request is None:
            return False
        self.cancelled.discard(source.id)
        request.meta[POLL_META] = source.id
        poll = Poll(source.id, source.url)
        poll.timer = self.reactor.callLater(self.poll_timeout, self._timed_out, source.id)
        self.in_flight[source.id] = poll
        self.crawler.engine.crawl(request)
        return True

    def _recorded(self, spider, source_id, **_recorded) -> None:
        poll = self.in_flight.pop(source_id, None)
        if poll is not None and poll.timer is not None and poll.timer.active():
            poll.timer.cancel()

    def _timed_out(self, source_id: int) -> None:
        poll = self.in_flight.get(source_id)
        if poll is None:
            return
        poll.timer = None
        self.cancelled.add(source_id)  # its requests still queued are dropped
        logger.warning("source %d: poll of %s ran over %.0f s: cancelled", source_id, poll.url, self.poll_timeout)
        record_poll_timeout(self.crawler, source_id, self.poll_timeout)

    def resume(self) -> Deferred:
        """Fetch the pending URLs of the frontier that nobody holds (claimed for this crawl)."""
        return deferred_from_coro(self._resume())

    async def _resume(self) -> int:
        count = 0
        async for request in self.spider.resume_pending([None]):
            self.crawler.engine.crawl(request.replace(dont_filter=True))  # fetched before, failed
            count += 1
        if count:
            logger.info("resumed %d pending article(s)", count)
        return count

    def stop(self) -> Deferred:
        """Close the crawler (in-flight downloads end, the last batch is written)."""
        if self.done is None:
            return succeed(None)  # never started
        if self.crawler.crawling:
            deferred_from_coro(self.crawler.stop_async())
        return self.done
