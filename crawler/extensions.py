"""Extensions: recording each crawl run's figures in the archive for `stats`, and showing a crawl's
progress while it runs.

CrawlProgress: Scrapy's own LogStats says how a crawl goes every minute, but through the log,
which `newsarchive crawl` keeps at WARNING. This extension listens to the same signals and hands
the figures to a display named by the NEWSARCHIVE_PROGRESS setting (an import path, as Scrapy
names its components; the CLI sets it to crawler.progress.Progress: a bar on a terminal, plain
lines otherwise, on stderr). Without that setting, as under `scrapy crawl`, it switches itself off.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import load_object
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet.task import LoopingCall

from archive import frontier, runs
from archive.db import first_line
from crawler.archive_io import archive_io_for
from crawler.archive_link import database_for, run_id_for

logger = logging.getLogger(__name__)


class RunRecorder:
    """This crawl's run in the archive (crawl_runs): its figures and a heartbeat every
    NEWSARCHIVE_HEARTBEAT_SECONDS while it runs (written off the reactor thread; it also renews
    the crawl's frontier claims, so URLs queued for longer than the claim TTL stay its own), the
    final figures when it closes. The run is the engine's (`newsarchive crawl`, `schedule`, `worker` start it and
    close it); a plain `scrapy crawl` gets a run of its own, opened and closed here."""

    def __init__(self, crawler, run_id: int | None):
        self.crawler = crawler
        self.run_id = run_id
        self.owned = run_id is None
        self.every = crawler.settings.getfloat("NEWSARCHIVE_HEARTBEAT_SECONDS", runs.HEARTBEAT_SECONDS)
        self._loop: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler, run_id_for(crawler))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    @property
    def db(self):
        return database_for(self.crawler)

    def spider_opened(self, spider):
        if self.owned:
            self.run_id = runs.start_run(self.db, role="scrapy")
        self._loop = LoopingCall(self.beat)
        self._loop.start(self.every, now=False)

    def beat(self) -> None:
        io = archive_io_for(self.crawler)
        io.write_later(runs.heartbeat, self.db, self.run_id, dict(self.crawler.stats.get_stats()),
                       what="the run's heartbeat")
        spider = self.crawler.spider
        if getattr(spider, "holder", None):  # the URLs it queued stay its own while it lives
            io.write_later(frontier.extend, self.db, spider.holder, None, ttl=spider.claim_seconds,
                           what="the crawl's claims")

    def spider_closed(self, spider, reason):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.run_id is None:
            return
        stats = dict(self.crawler.stats.get_stats(), finish_reason=reason)
        try:
            runs.heartbeat(self.db, self.run_id, stats, final=True)
            if self.owned:
                runs.close_run(self.db, self.run_id, status="ok" if reason == "finished" else "failed")
        except SQLAlchemyError as exc:  # the run is closed as failed by the engine, or shown abandoned
            logger.error("could not record the run's figures: %s", first_line(exc))


class CrawlProgress:
    def __init__(self, display_class):
        self.display_class = display_class
        self.display = None
        self.archived = 0
        self.dropped = 0

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("NEWSARCHIVE_PROGRESS")
        if not path:
            raise NotConfigured("no NEWSARCHIVE_PROGRESS display")
        extension = cls(load_object(path))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider):
        # no last line of its own when the crawl was short: the run's summary follows
        self.display = self.display_class(getattr(spider, "progress_label", spider.name), unit="pages", final=False)

    def response_received(self, response, request, spider):
        self._show(1)

    def item_scraped(self, item, response, spider):
        self.archived += 1
        self._show(0)

    def item_dropped(self, item, response, exception, spider):
        self.dropped += 1  # unchanged pages, blocks, pages without an article
        self._show(0)

    def spider_closed(self, spider, reason):
        if self.display is not None:
            self.display.close(finished=reason == "finished")
            self.display = None

    def _show(self, pages: int) -> None:
        if self.display is not None:
            self.display.update(pages, archived=self.archived, dropped=self.dropped)
