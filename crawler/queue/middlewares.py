"""Downloader middlewares of a worker (on only when NEWSARCHIVE_QUEUE is set):

* PollOrders: a poll order popped from the queue (crawler/queue/link.py) becomes the poll's real
  first request, made from the source as the archive has it now. It goes back through the queue,
  so any worker may fetch it. Its time limit starts now: the order's (the scheduler's
  ``--timeout``), else NEWSARCHIVE_POLL_TIMEOUT; whichever worker fetches it drops it past that
  and records a timed-out poll (crawler/middlewares.py CancelledPolls).
* TakeClaims: the worker that pops an article request takes its frontier claim over from the one
  that queued it (the request says who: ``CLAIM_META``), so a live worker's claims are renewed
  (crawler/worker.py) and a dead one's expire, whether it died holding what it queued or what
  it was fetching. A URL can be on the queue twice (queued again after its claim expired, or
  after Redis was emptied): the copy whose claim moved on is dropped, so it is fetched once.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future

from archive import frontier
from archive.models import Source
from crawler.items import requested_url
from crawler.middlewares import POLL_DEADLINE_META, POLL_META, poll_deadline
from crawler.queue.link import CLAIM_META, ORDER_META, TIMEOUT_META

logger = logging.getLogger(__name__)


class NotOurs(IgnoreRequest):
    """The page was archived since it was queued, or another copy of its request is being fetched
    by another worker: not fetched here, not a failure."""


class _WorkerOnly:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("NEWSARCHIVE_QUEUE"):
            raise NotConfigured  # no shared queue (no message: Scrapy would log one per crawl)
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
        poll.meta[POLL_DEADLINE_META] = poll_deadline(self._time_limit(request.meta.get(TIMEOUT_META)))
        self.crawler.stats.inc_value("newsarchive/poll_orders")
        return poll

    def _time_limit(self, ordered) -> float:
        """The order's time limit (the scheduler's --timeout), else the worker's setting."""
        if isinstance(ordered, (int, float)) and not isinstance(ordered, bool) and 0 < ordered < float("inf"):
            return float(ordered)
        return self.crawler.settings.getfloat("NEWSARCHIVE_POLL_TIMEOUT")


def _source(db, source_id: int) -> Source | None:
    with db.session() as session:
        source = session.get(Source, source_id)
        if source is not None:
            session.expunge(source)
        return source


class TakeClaims(_WorkerOnly):
    """Take over the frontier claim of an article request popped from the queue (one UPDATE), or
    drop the request when its URL was archived since or another copy of it is being fetched."""

    @property
    def claim_seconds(self) -> float:
        return self.crawler.spider.claim_seconds

    async def process_request(self, request, spider=None):
        queued_by = request.meta.get(CLAIM_META)
        if getattr(request.callback, "__name__", None) != "parse_article" or queued_by is None:
            return None
        spider = self.crawler.spider
        url = requested_url(request)
        ours = await maybe_deferred_to_future(spider.io.read(
            frontier.take_queued, spider.db, spider.holder, url, str(queued_by), ttl=self.claim_seconds))
        if not ours:
            self.crawler.stats.inc_value("newsarchive/queue_not_ours")
            raise NotOurs(f"{url} is archived or fetched by another worker")
        request.meta[CLAIM_META] = spider.holder  # its redirects and retries: this worker's
        return None
