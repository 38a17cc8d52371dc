"""Reading XML sitemaps (sitemap indexes, Google News sitemaps, robots.txt `Sitemap:` lines): the
``SitemapReading`` mixin and the `sitemap` spider, which archive the articles they list.

A source URL ending in ``robots.txt`` is read for its ``Sitemap:`` lines; a source URL that
does not answer with a sitemap is given a second chance through its host's robots.txt. The date
a sitemap gives for an URL (``news:publication_date``, else ``lastmod``) is passed on as the
page's feed date. Sitemaps are parsed with lxml without entities or network access.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import scrapy
from lxml import etree
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import sitemap_urls_from_robots

from archive.models import Source
from archive.urls import join_url
from crawler.spiders.base import ArchiveSpider, SpiderMixin

logger = logging.getLogger(__name__)

MAX_DEPTH = 3  # robots.txt -> sitemap index -> sitemap index -> urlset
_PARSER = dict(resolve_entities=False, no_network=True, remove_comments=True, recover=True, huge_tree=False)


def parse_date(value: str | None) -> datetime | None:
    """A W3C datetime ("2024-11-12", "2024-11-12T18:40:00+01:00", "...Z") as an aware datetime."""
    if not value or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def parse_sitemap(body: bytes) -> tuple[str | None, dict[str, datetime | None]]:
    """("urlset" | "sitemapindex" | None, {loc: date}) of a sitemap document."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(**_PARSER))
    except etree.XMLSyntaxError:
        return None, {}
    if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
        return None, {}
    entries: dict[str, datetime | None] = {}
    for entry in root:
        if _local(entry.tag) not in ("url", "sitemap"):
            continue
        loc = lastmod = published = None
        for child in entry.iter():
            name = _local(child.tag)
            if name == "loc" and loc is None:
                loc = (child.text or "").strip()
            elif name == "lastmod":
                lastmod = parse_date(child.text)
            elif name == "publication_date":  # <news:news><news:publication_date>
                published = parse_date(child.text)
        if loc:
            entries[loc] = published or lastmod
    return _local(root.tag), entries


def sitemaps_in_robots(text: bytes | str, base_url: str | None = None) -> list[str]:
    """The Sitemap: lines of a robots.txt, by Scrapy's own reader (relative ones joined to
    ``base_url``), each once."""
    body = text.encode("utf-8") if isinstance(text, str) else text
    return list(dict.fromkeys(sitemap_urls_from_robots(body, base_url=base_url)))


class SitemapReading(SpiderMixin):
    """Polls sources of kind ``sitemap`` (a mixin of ArchiveSpider)."""

    def poll_sitemap(self, source: Source) -> scrapy.Request:
        return self.sitemap_request(source.url, source.id)

    def sitemap_request(self, url: str, source_id: int | None, depth: int = 0) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_sitemap, errback=self.sitemap_failed, dont_filter=depth == 0,
                              cb_kwargs={"source_id": source_id, "depth": depth},
                              meta={"dont_retry": depth == 0, **self.request_options(source_id)})

    async def parse_sitemap(self, response, source_id, depth):
        body = response.body
        if body[:2] == b"\x1f\x8b":
            body = gunzip(body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        kind: str | None
        entries: dict[str, datetime | None]
        if response.url.endswith("/robots.txt"):
            children = sitemaps_in_robots(body, response.url)
            kind, entries = "robots", {}
        else:
            kind, entries = parse_sitemap(body)
            children = list(entries) if kind == "sitemapindex" else []
        if kind is None:
            if depth == 0:  # not a sitemap: try what the host's robots.txt lists
                yield self.sitemap_request(response.urljoin("/robots.txt"), source_id, depth + 1)
                return
            logger.warning("not a sitemap: %s", response.url)
            return
        for child in filter(None, (join_url(response.url, c) for c in children)):
            if depth < MAX_DEPTH and self.fetchable(child):
                yield self.sitemap_request(child, source_id, depth + 1)
        joined = ((join_url(response.url, loc), date) for loc, date in entries.items()) if kind == "urlset" else ()
        found = {url: date for url, date in joined if url}
        _, requests = await self.discover(found, source_id)
        if depth == 0:
            # an index or robots.txt: its children bring the news, so keep the pace steady
            await maybe_deferred_to_future(self.record_poll(source_id, new_items=len(requests) if found else 1))
        logger.info("sitemap %s: %s, %d links, %d new", response.url, kind, len(entries) or len(children),
                    len(requests))
        for request in requests:
            yield request

    def sitemap_failed(self, failure):
        self.poll_failed(failure, "sitemap")


class SitemapSpider(SitemapReading, ArchiveSpider):
    name = "sitemap"
    source_kind = "sitemap"
