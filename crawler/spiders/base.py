"""What every newsarchive spider shares: its sources, the frontier, article requests and items,
and recording each poll of a source.

A spider polls sources of the kinds its mixins know (crawler/spiders/feeds.py ``FeedPolling``,
sitemap.py ``SitemapReading``, site.py ``LinkFollowing``): for a source of kind K, ``poll_K(source)``
gives the poll's first request. The URLs a poll finds go to the frontier, and are claimed by this
crawl, before the poll is recorded and before any of them is fetched: a crawl killed in between
still fetches them next time, and two crawls of one archive never fetch the same URL at once.

The archive is read and written off the reactor thread (crawler/archive_io.py): callbacks that
need it are coroutines; each recorded poll is announced with the ``poll_recorded`` signal
(crawler/signals.py), which the long-running engine follows.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, AsyncIterator, Mapping

import scrapy
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy import select
from twisted.internet.defer import Deferred, succeed

from archive import frontier, lease, polling
from archive.models import Source, utcnow
from archive.request_options import options_of
from archive.sources import list_sources
from archive.urls import InvalidURL
from crawler.archive_io import archive_io_for
from crawler.archive_link import database_for
from crawler.headers import charset_of
from crawler.items import PageItem, requested_url
from crawler.netguard import PrivateNetworkRefused, check_public, private_networks_allowed
from crawler.polls import FailedPoll, failed_poll, policy_from_settings
from crawler.queue.link import CLAIM_META
from crawler.queue.middlewares import NotOurs
from crawler.request_options import OPTIONS_META, SourceOptions
from crawler.signals import poll_recorded
from crawler.site_selectors import site_drop_selectors

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 1800.0  # a URL this crawl queued is its own for this long (renewed while it waits)
RESUME_BATCH = 500


class ArchiveSpider(scrapy.Spider):
    """Base of the feed, sitemap, site, revisit and named-site spiders.

    ``sources`` (spider argument): comma-separated source ids to poll; without it every enabled
    source of the spider's ``source_kind`` is polled.
    """

    source_kind: str | None = None  # the kind of source polled when no ids are given
    drop_selectors: tuple[str, ...] = ()  # CSS selectors of furniture, for named-site spiders
    article_url: str | None = None  # a regular expression (searched) article URLs match; None: any

    def __init__(self, *args, sources: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.source_ids = [int(s) for s in str(sources).split(",") if s.strip()]
        self._options: dict[int, SourceOptions | None] = {}  # source id -> its request options (None: none)

    @property
    def db(self):
        return database_for(self.crawler)

    @cached_property
    def io(self):
        return archive_io_for(self.crawler)

    @cached_property
    def holder(self) -> str:
        """Who claims this crawl's URLs in the frontier (the engine names it; else host:pid:random)."""
        return self.crawler.settings.get("NEWSARCHIVE_HOLDER") or lease.new_holder()

    @cached_property
    def claim_seconds(self) -> float:
        return self.crawler.settings.getfloat("NEWSARCHIVE_CLAIM_SECONDS", CLAIM_SECONDS)

    @cached_property
    def poll_policy(self) -> polling.PollPolicy:
        return policy_from_settings(self.crawler.settings)

    # -- polls -------------------------------------------------------------------------------
    async def start(self):
        sources = await maybe_deferred_to_future(self.io.read(self.selected_sources))
        for source in sources or self.unregistered_sources():
            request = self.poll_request(source)
            if request is not None:
                yield request
        async for request in self.resume_pending([s.id for s in sources]):
            yield request

    def selected_sources(self) -> list[Source]:
        with self.db.session() as session:
            sources = list_sources(session)
        if self.source_ids:
            return [s for s in sources if s.id in self.source_ids]
        return [s for s in sources if s.enabled and s.kind == self.source_kind]

    def unregistered_sources(self) -> list[Source]:
        """What to poll when no source is registered for this spider (named sites: their own)."""
        return []

    def poll_request(self, source: Source) -> scrapy.Request | None:
        """The first request of a poll of ``source``, made by the mixin for its kind."""
        self.remember_options([source])
        poll = getattr(self, f"poll_{source.kind}", None)
        if poll is None:
            logger.error("source %s: spider %s does not poll %s sources", source.url, self.name, source.kind)
            return None
        return poll(source)

    # -- per-source request options ----------------------------------------------------------
    def remember_options(self, sources: list[Source]) -> None:
        """Note the request options of these sources (as read now: a poll reads its source again)."""
        for source in sources:
            if source.id is None:
                continue
            options = options_of(source)
            self._options[source.id] = SourceOptions(source.url, options) if options else None

    def request_options(self, source_id: int | None) -> dict:
        """The meta that gives a request of this source's polls or articles the source's headers,
        auth and proxy (applied per request by crawler/request_options.py); {} when it has none."""
        options = self._options.get(source_id) if source_id is not None else None
        return {OPTIONS_META: options} if options is not None else {}

    def record_poll(self, source_id: int | None, failure: FailedPoll | None = None, **success) -> Deferred:
        """Record a poll of a source (a success with archive.polling.record_success's fields, or a
        failure) in the archive's writer thread, then announce it (``poll_recorded``). Polls of
        unregistered sources (no id) are not recorded."""
        if source_id is None:
            return succeed(None)
        recorded = self.io.write(self._record_poll, source_id, failure, success)
        recorded.addCallback(lambda next_poll: self.crawler.signals.send_catch_log(
            signal=poll_recorded, spider=self, source_id=source_id, failure=failure, next_poll=next_poll,
            new_items=success.get("new_items", 0), not_modified=success.get("not_modified", False)))
        return recorded

    def _record_poll(self, source_id: int, failure: FailedPoll | None, success: dict) -> datetime | None:
        """In the writer thread; returns the source's next poll time."""
        if failure is not None:
            success = {"error": failure.error, "severity": failure.severity, "retry_after": failure.retry_after}
        next_poll, disabled = polling.record_poll(self.db, source_id, failed=failure is not None,
                                                  policy=self.poll_policy, **success)
        if disabled:
            logger.error("source %d disabled: %s", source_id, disabled)
        return next_poll

    def poll_failed(self, failure, what: str, *, later_are_errors: bool = True) -> None:
        """Errback of a poll's requests: log and count the failure, and record it on the source when
        it was the poll's first request (depth 0). ``later_are_errors``: whether a later request of
        the poll (a child sitemap, a section page) that failed is an error of the run, or a warning."""
        request = failure.request
        failed = failed_poll(failure)
        first = request.cb_kwargs.get("depth", 0) == 0
        if first or later_are_errors:
            self.crawler.stats.inc_value("newsarchive/errors")
        level = logging.ERROR if first or later_are_errors else logging.WARNING
        logger.log(level, "%s %s: %s", what, request.url, failed.error)
        if first:
            self.record_poll(request.cb_kwargs.get("source_id"), failed)

    async def closed(self, reason: str) -> None:
        """Give back the claims this crawl still holds (pages it could not archive, requests it
        never made), after the writes before it: the next crawl fetches them at once, not when
        the claims expire. (A worker's requests still on the shared queue are then taken by
        whichever worker pops them, or queued again by one: fetched once either way.)"""
        await maybe_deferred_to_future(self.io.write_later(frontier.release, self.db, self.holder,
                                                           what="the end of this crawl's claims"))

    # -- links and the frontier --------------------------------------------------------------
    async def resume_pending(self, source_ids: list[int | None]) -> AsyncIterator[scrapy.Request]:
        """Requests for every URL an earlier run discovered but did not archive (of these sources;
        None: of any), claimed in batches as the crawl asks for more (start requests are
        consumed lazily)."""
        for source_id in source_ids:
            after = 0
            while True:
                entries = await maybe_deferred_to_future(self.io.write(
                    frontier.claim, self.db, self.holder, source_id=source_id, limit=RESUME_BATCH,
                    ttl=self.claim_seconds, after_id=after))
                if not entries:
                    break
                await self._remember_options_of(entries)
                after = entries[-1].id
                for entry in entries:
                    self.crawler.stats.inc_value("newsarchive/resumed")
                    yield self.article_request(entry.url, entry.source_id, entry.feed_date)

    async def _remember_options_of(self, entries) -> None:
        """The options of the sources of pending entries that no poll of this crawl read yet."""
        unknown = {e.source_id for e in entries if e.source_id is not None and e.source_id not in self._options}
        if unknown:
            self.remember_options(await maybe_deferred_to_future(self.io.read(self._sources_with_options, unknown)))

    def _sources_with_options(self, source_ids: set[int]) -> list[Source]:
        with self.db.session() as session:
            return list(session.scalars(select(Source).where(Source.id.in_(source_ids))))

    @cached_property
    def allow_private(self) -> bool:
        return private_networks_allowed(self.crawler.settings)

    def fetchable(self, url: str) -> bool:
        """Whether a link may be requested: http(s), a valid host, not internal (the SSRF guard's
        checks of the URL itself). Refused links never reach the frontier."""
        try:
            check_public(url, allow_private=self.allow_private)
        except (PrivateNetworkRefused, InvalidURL) as exc:
            self.crawler.stats.inc_value("newsarchive/links_refused")
            logger.info("link refused: %s", exc)
            return False
        return True

    @cached_property
    def article_url_re(self) -> re.Pattern | None:
        return re.compile(self.article_url) if self.article_url else None

    def article_pattern(self, source_id: int | None = None) -> re.Pattern | None:
        """The pattern article URLs of this source match (None: any URL)."""
        return self.article_url_re

    def is_article_url(self, url: str, source_id: int | None = None) -> bool:
        pattern = self.article_pattern(source_id)
        return pattern is None or bool(pattern.search(url))

    async def discover(self, found: Mapping[str, datetime | None], source_id: int | None
                       ) -> tuple[int, list[scrapy.Request]]:
        """The article links a poll found: put in the frontier and claimed (off the reactor), then
        requested. Returns (how many were neither archived nor queued before, their requests).
        Links that do not look like articles of this source (``article_pattern``) are left out."""
        found = {url: date for url, date in found.items()
                 if self.fetchable(url) and self.is_article_url(url, source_id)}
        if not found:
            return 0, []
        new, claimed, known = await maybe_deferred_to_future(self.io.write(self._queue, found, source_id))
        self.crawler.stats.inc_value("newsarchive/links_seen", len(found))
        self.crawler.stats.inc_value("newsarchive/links_already_archived", known)
        return new, [self.article_request(url, source_id, found[url]) for url in claimed]

    def _queue(self, found: Mapping[str, datetime | None], source_id: int | None) -> tuple[int, list[str], int]:
        """In the writer thread: (new links, the links this crawl claimed, links already archived)."""
        return frontier.queue_found(self.db, self.holder, found, source_id, ttl=self.claim_seconds)

    # -- articles ----------------------------------------------------------------------------
    def drop_selectors_for(self, crawled: datetime | None = None) -> tuple[str, ...]:
        """The furniture selectors for a page crawled at that date (site spiders keep versions)."""
        return self.drop_selectors

    def page_drop_selectors(self, url: str, crawled: datetime | None = None,
                            source_id: int | None = None) -> tuple[str, ...]:
        """This spider's selectors, else those of the named-site spider of the URL's site."""
        return self.drop_selectors_for(crawled) or site_drop_selectors(url, crawled)

    def article_request(self, url: str, source_id: int | None, feed_date: datetime | None = None,
                        **kwargs) -> scrapy.Request:
        """The fetch of an article URL this crawl claimed (on a worker's shared queue, the request
        says who claimed it, for the worker that takes it: crawler/queue/middlewares.py), with
        its source's request options."""
        kwargs["meta"] = {**self.request_options(source_id), **kwargs.get("meta", {})}
        if self.crawler.settings.get("NEWSARCHIVE_QUEUE"):
            kwargs["meta"] = {CLAIM_META: self.holder, **kwargs["meta"]}
        return scrapy.Request(url, callback=self.parse_article, errback=self.article_failed,
                              cb_kwargs={"source_id": source_id, "feed_date": feed_date}, **kwargs)

    def parse_article(self, response, source_id=None, feed_date=None):
        requested = requested_url(response.request)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, values in response.headers.items() for v in values]
        yield PageItem(
            url=requested,
            final_url=response.url if response.url != requested else None,
            status=response.status,
            headers=headers,
            body=response.body,
            encoding=charset_of(headers),
            source_id=source_id,
            feed_date=feed_date,
            drop_selectors=self.page_drop_selectors(response.url, utcnow(), source_id),
        )

    def article_failed(self, failure):
        if failure.check(NotOurs):  # another copy of a queued request is fetched, or was archived
            return
        url = requested_url(failure.request)  # after a redirect too: the frontier's URL and claim
        response = getattr(failure.value, "response", None)  # an HttpError says only "non-200"
        reason = f"{failure.type.__name__}: " + (f"HTTP {response.status}" if response is not None
                                                  else failure.getErrorMessage())
        self.crawler.stats.inc_value("newsarchive/article_errors")
        logger.warning("could not fetch %s: %s", failure.request.url, reason)
        self.io.write_later(frontier.mark_failed, self.db, url, reason, what=f"the failure of {url}")


if TYPE_CHECKING:  # a mixin is checked as the spider it ends up in
    SpiderMixin = ArchiveSpider
else:
    SpiderMixin = object
