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

from archive import runs
from archive.db import first_line
from crawler.archive_link import database_for, run_id_for

logger = logging.getLogger(__name__)


class RunRecorder:
    """Write the run's request, 304, article and drop counts to its crawl_runs row on close."""

    def __init__(self, crawler, run_id: int):
        self.crawler = crawler
        self.run_id = run_id

    @classmethod
    def from_crawler(cls, crawler):
        run_id = run_id_for(crawler)
        if run_id is None:
            raise NotConfigured("no NEWSARCHIVE_RUN_ID: run through `newsarchive crawl`")
        ext = cls(crawler, run_id)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider, reason):
        stats = dict(self.crawler.stats.get_stats(), finish_reason=reason)
        try:
            runs.add_stats(database_for(self.crawler), self.run_id, stats)
        except SQLAlchemyError as exc:  # the run is closed as failed by the runner, or shown abandoned
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
        self.display = self.display_class(spider.name, unit="pages", final=False)

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
