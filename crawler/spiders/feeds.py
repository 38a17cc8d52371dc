"""Polling RSS and Atom feeds with conditional GET: the ``FeedPolling`` mixin and the `feeds` spider.

Each poll is recorded on its source (archive/polling.py): the validators for the next
conditional GET, the feed body's hash, how many links were new, what the server and the feed
say about polling (crawler/polls.py) and, on failure, how bad it was.
"""

from __future__ import annotations

import hashlib
import logging
from calendar import timegm
from datetime import datetime, timezone

import feedparser
import scrapy
from scrapy.utils.defer import maybe_deferred_to_future

from archive import polling
from archive.models import Source
from archive.urls import join_url
from crawler.headers import max_age, response_header
from crawler.polls import feed_hints, not_a_feed
from crawler.spiders.base import ArchiveSpider, SpiderMixin

logger = logging.getLogger(__name__)

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"


class FeedPolling(SpiderMixin):
    """Polls sources of kind ``feed`` (a mixin of ArchiveSpider)."""

    def poll_feed(self, source: Source) -> scrapy.Request:
        headers = {"Accept": ACCEPT}
        if source.etag and source.etag != polling.UNTRUSTED_VALIDATORS:
            headers["If-None-Match"] = source.etag
        if source.last_modified and source.etag != polling.UNTRUSTED_VALIDATORS:
            headers["If-Modified-Since"] = source.last_modified
        # No immediate retries: a failed poll is scored and backed off by the scheduler instead
        # (retrying a 429 or 503 at once is what Retry-After asks us not to do).
        return scrapy.Request(source.url, headers=headers, callback=self.parse_feed, errback=self.feed_failed,
                              cb_kwargs={"source_id": source.id}, dont_filter=True,
                              meta={"handle_httpstatus_list": [304], "dont_retry": True,
                                    "previous_body_hash": source.body_hash, **self.request_options(source.id)})

    async def parse_feed(self, response, source_id):
        cache_control = response_header(response, b"Cache-Control")
        if response.status == 304:
            self.crawler.stats.inc_value("newsarchive/not_modified")
            await maybe_deferred_to_future(self.record_poll(
                source_id, not_modified=True, hints=polling.PollHints(max_age=max_age(cache_control))))
            return
        body_hash = hashlib.sha256(response.body).hexdigest()
        if body_hash == response.meta.get("previous_body_hash"):
            # Byte for byte the body of the last successful poll (a server that ignores conditional
            # requests): nothing new, and no parse on the reactor (20 ms for a 100-item feed). Like
            # a 304, only Cache-Control is read: the feed's own <ttl> already set the interval,
            # which an unchanged poll only lengthens.
            self.crawler.stats.inc_value("newsarchive/feed_unchanged")
            await maybe_deferred_to_future(self.record_poll(
                source_id, etag=response_header(response, b"ETag"), body_hash=body_hash,
                last_modified=response_header(response, b"Last-Modified"),
                hints=polling.PollHints(max_age=max_age(cache_control))))
            logger.info("source %s: unchanged", response.url)
            return
        # Bytes, never a URL: feedparser must not fetch anything itself.
        parsed = feedparser.parse(response.body, response_headers={
            "content-type": response_header(response, b"Content-Type") or ""})
        if not parsed.entries and (parsed.bozo or not parsed.feed):
            failed = not_a_feed(getattr(parsed, "bozo_exception", "no entries"))
            self.crawler.stats.inc_value("newsarchive/errors")
            logger.error("source %s: %s", response.url, failed.error)
            await maybe_deferred_to_future(self.record_poll(source_id, failed))
            return
        links = ((join_url(response.url, entry.link), entry) for entry in parsed.entries if entry.get("link"))
        found = {url: _entry_date(entry) for url, entry in links if url}
        new_items, requests = await self.discover(found, source_id)  # in the frontier from here on
        await maybe_deferred_to_future(self.record_poll(
            source_id, etag=response_header(response, b"ETag"), body_hash=body_hash,
            last_modified=response_header(response, b"Last-Modified"), new_items=new_items,
            hints=feed_hints(parsed.feed, cache_control=cache_control)))
        logger.info("source %s: %d entries, %d new", response.url, len(parsed.entries), new_items)
        for request in requests:
            yield request

    def feed_failed(self, failure):
        self.poll_failed(failure, "source")


class FeedSpider(FeedPolling, ArchiveSpider):
    name = "feeds"
    source_kind = "feed"


def _entry_date(entry) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(timegm(parsed), tz=timezone.utc) if parsed else None
