"""Downloader and spider middlewares: the SSRF guard's request checks, archive failures as errors,
the requests of polls the long-running engine cancelled."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet.threads import deferToThread

from archive.db import first_line
from archive.urls import InvalidURL, host_of
from crawler import resolver
from crawler.netguard import (
    PrivateNetworkRefused,
    as_address,
    check_public,
    check_resolved,
    private_networks_allowed,
)

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


class CancelledPolls:
    """Downloader middleware: drops the requests of a poll the engine cancelled at its time limit."""

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
        return None
