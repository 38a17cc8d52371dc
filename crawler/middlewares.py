"""Downloader and spider middlewares: the SSRF guard's request checks, archive failures as errors,
the requests of polls over their time limit."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet.threads import deferToThread

from archive.db import first_line
from archive.polling import Severity
from archive.urls import InvalidURL, host_of
from crawler import resolver
from crawler.netguard import (
    PrivateNetworkRefused,
    as_address,
    check_public,
    check_resolved,
    private_networks_allowed,
)
from crawler.polls import FailedPoll

logger = logging.getLogger(__name__)


class _Guard:
    """A request check that counts what it refuses; private networks allowed by the setting or the
    environment variable NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS."""

    def __init__(self, allow_private: bool, stats):
        self.allow_private = allow_private
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(private_networks_allowed(crawler.settings), crawler.stats)


class PrivateNetworkGuard(_Guard):
    """Drop requests that are not http(s) or whose host is internal by its form, redirects
    included (every redirected request comes through here again). No lookup here: the
    addresses connected to are checked by crawler.resolver, off the reactor thread.

    Private networks are allowed by the setting NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS or the
    environment variable of the same name (the demo and the tests crawl a loopback server).
    """

    def process_request(self, request, spider=None):
        try:
            check_public(request.url, allow_private=self.allow_private)
        except (PrivateNetworkRefused, InvalidURL) as exc:
            self.stats.inc_value("newsarchive/refused_private_network")
            logger.warning("%s", exc)
            raise IgnoreRequest(str(exc)) from None
        return None


class ProxiedTargetGuard(_Guard):
    """For a request sent through a proxy (after Scrapy's HttpProxyMiddleware set it): the
    crawler never resolves its host, the proxy does, so look the name up here, in a thread, and
    refuse it when it answers an internal address. A name that does not resolve here is left to
    the proxy: what it connects to is out of our sight. The proxy's own host is allowed."""

    async def process_request(self, request, spider=None):
        proxy = request.meta.get("proxy")
        if not proxy:
            return None
        resolver.allow_proxy(proxy)
        if self.allow_private:
            return None
        host = host_of(request.url)
        if as_address(host) is not None:  # literal addresses were checked by PrivateNetworkGuard
            return None
        try:
            await maybe_deferred_to_future(deferToThread(check_resolved, host, proxied=True))
        except PrivateNetworkRefused as exc:
            self.stats.inc_value("newsarchive/refused_private_network")
            logger.warning("%s (via proxy %s)", exc, urlsplit(proxy).hostname)
            raise IgnoreRequest(str(exc)) from None
        return None


class ArchiveFailures:
    """A spider callback that could not write to the archive (disk full, read-only, database
    gone) is one error line and one counted error, not a traceback per page; the URLs it was
    handling stay pending in the frontier for the next run."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_spider_exception(self, response, exception, spider=None):
        if not isinstance(exception, (SQLAlchemyError, OSError)):
            return None  # Scrapy logs it, with its traceback, and counts it
        self.stats.inc_value("newsarchive/errors")
        self.stats.inc_value("newsarchive/archive_failures")
        logger.error("archive write failed while handling %s: %s", response.url, first_line(exception))
        return []


POLL_META = "newsarchive_poll"  # request.meta: the source id of the poll a request belongs to
# request.meta of a worker's poll (crawler/queue/middlewares.py PollOrders): {"deadline": epoch
# seconds, "seconds": the limit}. Wall-clock time, since any worker of the queue may fetch it.
POLL_DEADLINE_META = "newsarchive_poll_deadline"


def poll_deadline(seconds: float) -> dict[str, float]:
    """The POLL_DEADLINE_META of a poll that starts now with a limit of ``seconds``."""
    return {"deadline": time.time() + seconds, "seconds": seconds}


def record_poll_timeout(crawler, source_id: int, seconds: float) -> None:
    """A poll over its time limit (the engine's timer, a worker's deadline): counted, and recorded
    on its source as a soft failure."""
    crawler.stats.inc_value("newsarchive/poll_timeouts")
    crawler.stats.inc_value("newsarchive/errors")
    crawler.spider.record_poll(source_id, FailedPoll(f"poll timed out after {seconds:.0f} s", Severity.SOFT))


def _deadline(limit) -> tuple[float, float] | None:
    """(deadline, seconds) of a POLL_DEADLINE_META; None when there is none or it is no such thing
    (it may come from the shared queue)."""
    try:
        return float(limit["deadline"]), float(limit["seconds"])
    except (TypeError, KeyError, ValueError):
        return None


class CancelledPolls:
    """Downloader middleware: drops the requests of a poll over its time limit, whether the engine
    cancelled it (crawler/engine.py) or a worker's poll is past the deadline its order set. A
    worker's poll past its deadline is recorded as a timed-out poll; one before it gets a download
    timeout no longer than the time it has left, so its download cannot outlast the limit."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        engine = getattr(self.crawler, "_newsarchive_engine", None)
        source_id = request.meta.get(POLL_META)
        if source_id is None and "depth" in request.cb_kwargs:  # a child sitemap, a listing page
            source_id = request.cb_kwargs.get("source_id")
        if engine is not None and source_id is not None and source_id in engine.cancelled:
            raise IgnoreRequest(f"the poll of source {source_id} was cancelled at its time limit")
        limit = _deadline(request.meta.get(POLL_DEADLINE_META))
        if limit is not None and request.meta.get(POLL_META) is not None:
            deadline, seconds = limit
            left = deadline - time.time()
            if left <= 0:
                logger.warning("source %d: poll ran over its time limit (%.0f s): cancelled", source_id, seconds)
                record_poll_timeout(self.crawler, source_id, seconds)
                raise IgnoreRequest(f"the poll of source {source_id} ran past its time limit")
            default = self.crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
            request.meta["download_timeout"] = min(float(request.meta.get("download_timeout", default)), left)
        return None
