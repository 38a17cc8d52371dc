"""Downloader middlewares of a worker (on only when NEWSARCHIVE_QUEUE is set):

* PollOrders: a poll order popped from the queue (crawler/queue/link.py) becomes the poll's real
  first request, made from the source as the archive has it now. It goes back through the queue,
  so any worker may fetch it.
* SkipArchived: an article request whose frontier URL is already archived is dropped before it is
  fetched. A URL can be on the queue twice (re-seeded after Redis was emptied while a worker held
  it, re-queued after its claim expired while it waited): it is still fetched and archived once.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy import select

from archive.models import FrontierURL, Source
from crawler.middlewares import POLL_META
from crawler.queue.link import ORDER_META

logger = logging.getLogger(__name__)


class AlreadyArchived(IgnoreRequest):
    """The page was archived since it was queued: not fetched again, not a failure."""


class _WorkerOnly:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("NEWSARCHIVE_QUEUE"):
            raise NotConfigured("no shared queue")
        return cls(crawler)


class PollOrders(_WorkerOnly):
    async def process_request(self, request, spider=None):
        source_id = request.meta.get(ORDER_META)
        if source_id is None:
            return None
        spider = self.crawler.spider
        if not isinstance(source_id, int):
            raise IgnoreRequest(f"a poll order without a source id: {source_id!r:.40}")
        source = await maybe_deferred_to_future(spider.io.read(_source, spider.db, source_id))
        if source is None or not source.enabled:
            raise IgnoreRequest(f"source {source_id} is no longer polled")
        poll = spider.poll_request(source)
        if poll is None:
            raise IgnoreRequest(f"source {source_id} cannot be polled")
        poll.meta[POLL_META] = source_id
        self.crawler.stats.inc_value("newsarchive/poll_orders")
        return poll


def _source(db, source_id: int) -> Source | None:
    with db.session() as session:
        source = session.get(Source, source_id)
        if source is not None:
            session.expunge(source)
        return source


class SkipArchived(_WorkerOnly):
    async def process_request(self, request, spider=None):
        if getattr(request.callback, "__name__", None) != "parse_article" or request.meta.get("redirect_urls"):
            return None
        spider = self.crawler.spider
        state = await maybe_deferred_to_future(spider.io.read(_state, spider.db, request.url))
        if state == "done":
            self.crawler.stats.inc_value("newsarchive/queue_already_archived")
            raise AlreadyArchived(f"{request.url} is archived already")
        return None


def _state(db, url: str) -> str | None:
    with db.session() as session:
        return session.scalars(select(FrontierURL.state).where(FrontierURL.url == url)).first()
