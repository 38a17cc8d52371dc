"""Extensions: recording each crawl run's figures in the archive for `stats`."""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured
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
