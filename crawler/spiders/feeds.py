"""Polls RSS and Atom feeds with conditional GET and archives the articles they link to."""

from __future__ import annotations

import hashlib
import logging
from calendar import timegm
from datetime import datetime, timezone

import feedparser
import scrapy

from archive import polling
from archive.models import Source
from crawler.spiders.base import ArchiveSpider

logger = logging.getLogger(__name__)


class FeedSpider(ArchiveSpider):
    name = "feeds"
    source_kind = "feed"

    async def start(self):
        sources = self.selected_sources()
        for source in sources:
            yield self.feed_request(source)
        for request in self.resume_pending([s.id for s in sources]):
            yield request

    def feed_request(self, source: Source) -> scrapy.Request:
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"}
        if source.etag:
            headers["If-None-Match"] = source.etag
        if source.last_modified:
            headers["If-Modified-Since"] = source.last_modified
        return scrapy.Request(source.url, headers=headers, callback=self.parse_feed, errback=self.feed_failed,
                              cb_kwargs={"source_id": source.id}, dont_filter=True,
                              meta={"handle_httpstatus_list": [304]})

    def parse_feed(self, response, source_id):
        if response.status == 304:
            self.crawler.stats.inc_value("newsarchive/not_modified")
            self._record(source_id, polling.record_success, not_modified=True)
            return
        # Bytes, never a URL: feedparser must not fetch anything itself.
        parsed = feedparser.parse(response.body, response_headers={
            "content-type": response.headers.get(b"Content-Type", b"").decode("latin-1")})
        if not parsed.entries and (parsed.bozo or not parsed.feed):
            error = f"not a feed: {getattr(parsed, 'bozo_exception', 'no entries')}"
            self.crawler.stats.inc_value("newsarchive/errors")
            logger.error("source %s: %s", response.url, error)
            self._record(source_id, polling.record_failure, error=error)
            return
        found = {response.urljoin(entry.link): _entry_date(entry)
                 for entry in parsed.entries if entry.get("link")}
        self._record(source_id, polling.record_success,
                     etag=_header(response, b"ETag"), last_modified=_header(response, b"Last-Modified"),
                     body_hash=hashlib.sha256(response.body).hexdigest(), new_items=len(found))
        yield from self.new_article_requests(found, source_id)

    def feed_failed(self, failure):
        source_id = failure.request.cb_kwargs["source_id"]
        error = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        self.crawler.stats.inc_value("newsarchive/errors")
        logger.error("source %s: %s", failure.request.url, error)
        self._record(source_id, polling.record_failure, error=error)

    def _record(self, source_id: int, record, **kwargs) -> None:
        with self.db.transaction() as session:
            source = session.get(Source, source_id)
            if source is not None:
                record(session, source, **kwargs)


def _entry_date(entry) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(timegm(parsed), tz=timezone.utc) if parsed else None


def _header(response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
