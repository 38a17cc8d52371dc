"""Polls RSS and Atom feeds with conditional GET and archives the articles they link to.

Each poll is recorded on its source (archive/polling.py): the validators for the next
conditional GET, the feed body's hash, how many links were new, what the server and the feed
say about polling (Retry-After, Cache-Control max-age, <ttl>, sy:updatePeriod) and, on failure,
how bad it was. New links go to the frontier before the poll is recorded, so a crawl killed in
between still fetches them next time.
"""

from __future__ import annotations

import hashlib
import logging
from calendar import timegm
from datetime import datetime, timedelta, timezone

import feedparser
import scrapy
from scrapy.spidermiddlewares.httperror import HttpError
from sqlalchemy import select

from archive import polling
from archive.models import FrontierURL, Source
from archive.store import archived_urls
from archive.urls import join_url
from crawler.spiders.base import ArchiveSpider

logger = logging.getLogger(__name__)


def policy_from_settings(settings) -> polling.PollPolicy:
    """Polling bounds and thresholds; NEWSARCHIVE_POLL_* settings override the defaults (tests)."""
    return polling.PollPolicy(
        min_seconds=settings.getfloat("NEWSARCHIVE_POLL_MIN_SECONDS", polling.MIN_POLL_SECONDS),
        max_seconds=settings.getfloat("NEWSARCHIVE_POLL_MAX_SECONDS", polling.MAX_POLL_SECONDS),
        disable_score=settings.getfloat("NEWSARCHIVE_DISABLE_SCORE", polling.DISABLE_SCORE),
        disable_after=timedelta(seconds=settings.getfloat(
            "NEWSARCHIVE_DISABLE_AFTER_SECONDS", polling.DISABLE_AFTER.total_seconds())),
    )


class FeedSpider(ArchiveSpider):
    name = "feeds"
    source_kind = "feed"

    async def start(self):
        self.policy = policy_from_settings(self.crawler.settings)
        sources = self.selected_sources()
        for source in sources:
            yield self.feed_request(source)
        for request in self.resume_pending([s.id for s in sources]):
            yield request

    def feed_request(self, source: Source) -> scrapy.Request:
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"}
        if source.etag and source.etag != polling.UNTRUSTED_VALIDATORS:
            headers["If-None-Match"] = source.etag
        if source.last_modified and source.etag != polling.UNTRUSTED_VALIDATORS:
            headers["If-Modified-Since"] = source.last_modified
        # No immediate retries: a failed poll is scored and backed off by the scheduler instead
        # (retrying a 429 or 503 at once is what Retry-After asks us not to do).
        return scrapy.Request(source.url, headers=headers, callback=self.parse_feed, errback=self.feed_failed,
                              cb_kwargs={"source_id": source.id}, dont_filter=True,
                              meta={"handle_httpstatus_list": [304], "dont_retry": True,
                                    "previous_body_hash": source.body_hash})

    def parse_feed(self, response, source_id):
        cache_control = _header(response, b"Cache-Control")
        if response.status == 304:
            self.crawler.stats.inc_value("newsarchive/not_modified")
            self._record(source_id, polling.record_success, not_modified=True,
                         hints=polling.PollHints(max_age=polling.parse_max_age(cache_control)))
            return
        # Bytes, never a URL: feedparser must not fetch anything itself.
        parsed = feedparser.parse(response.body, response_headers={
            "content-type": response.headers.get(b"Content-Type", b"").decode("latin-1")})
        if not parsed.entries and (parsed.bozo or not parsed.feed):
            error = f"MalformedFeed: not a feed: {getattr(parsed, 'bozo_exception', 'no entries')}"
            self.crawler.stats.inc_value("newsarchive/errors")
            logger.error("source %s: %s", response.url, error)
            self._record(source_id, polling.record_failure, error=error, weight=polling.HARD)
            return
        body_hash = hashlib.sha256(response.body).hexdigest()
        requests = []
        if body_hash == response.meta.get("previous_body_hash"):
            self.crawler.stats.inc_value("newsarchive/feed_unchanged")
            new_items = 0
        else:
            links = ((join_url(response.url, entry.link), entry) for entry in parsed.entries if entry.get("link"))
            found = {url: _entry_date(entry) for url, entry in links if url}
            new_items = self._count_new(found)
            requests = list(self.new_article_requests(found, source_id))  # in the frontier from here on
        self._record(source_id, polling.record_success,
                     etag=_header(response, b"ETag"), last_modified=_header(response, b"Last-Modified"),
                     body_hash=body_hash, new_items=new_items,
                     hints=polling.feed_hints(parsed.feed, cache_control=cache_control))
        logger.info("source %s: %d entries, %d new", response.url, len(parsed.entries), new_items)
        yield from requests

    def feed_failed(self, failure):
        request = failure.request
        source_id = request.cb_kwargs["source_id"]
        status = retry_after = None
        if failure.check(HttpError):
            response = failure.value.response
            status = response.status
            retry_after = polling.parse_retry_after(_header(response, b"Retry-After"))
            error = f"HTTP {status}" + (f" (Retry-After {retry_after:.0f} s)" if retry_after is not None else "")
        else:
            error = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        self.crawler.stats.inc_value("newsarchive/errors")
        logger.error("source %s: %s", request.url, error)
        self._record(source_id, polling.record_failure, error=error, retry_after=retry_after,
                     weight=polling.severity(status=status, error=error, retry_after=retry_after))

    def _count_new(self, found: dict[str, datetime | None]) -> int:
        """Links neither archived nor already in the frontier: what this poll brought."""
        with self.db.session() as session:
            fresh = set(found) - archived_urls(session, found)
            if fresh:
                fresh -= set(session.scalars(select(FrontierURL.url).where(FrontierURL.url.in_(fresh))))
        return len(fresh)

    def _record(self, source_id: int, record, **kwargs) -> None:
        with self.db.transaction() as session:
            source = session.get(Source, source_id)
            if source is not None:
                record(session, source, policy=self.policy, **kwargs)
                if not source.enabled:
                    logger.error("source %s disabled: %s", source.url, source.disabled_reason)


def _entry_date(entry) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(timegm(parsed), tz=timezone.utc) if parsed else None


def _header(response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
