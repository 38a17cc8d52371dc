"""Following a site's links from its source URL (a home or section page): the ``LinkFollowing``
mixin and the `site` spider.

Listing pages are followed within the source's host, up to ``depth`` link hops (spider argument,
default ``DEFAULT_DEPTH``), restricted by the ``allow`` / ``deny`` regular expressions when given;
links that look like articles (``article`` regex, default: dated paths or long slugs) go to the
frontier and are archived, and are not followed further.
"""

from __future__ import annotations

import logging
from functools import cached_property
from urllib.parse import urlsplit

import scrapy
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.defer import maybe_deferred_to_future

from archive.models import Source
from crawler.spiders.base import ArchiveSpider, SpiderMixin

logger = logging.getLogger(__name__)

DEFAULT_DEPTH = 2
# /2024/11/12/slug/, /2024/11/slug.html, or a slug of at least four words: /un-titre-assez-long/
DEFAULT_ARTICLE_URL = (r"/(?:19|20)\d\d/\d\d?/(?:\d\d?/)?[^/?#]+"
                       r"|/[^/?#]*[^\W_]-[^\W_]+-[^\W_]+-[^\W_]+[^/?#]*/?(?:[?#]|$)")


class LinkFollowing(SpiderMixin):
    """Polls sources of kind ``site`` (a mixin of ArchiveSpider). Spider arguments: ``depth`` (link
    hops from the source URL; else the setting NEWSARCHIVE_SITE_DEPTH), ``allow`` and ``deny``
    (regular expressions for the listing pages to follow), ``article`` (article URL regex)."""

    follow_depth: int | None = None  # None: the setting NEWSARCHIVE_SITE_DEPTH, else DEFAULT_DEPTH

    def __init__(self, *args, depth: str | int = "", allow: str = "", deny: str = "", article: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if str(depth).strip():
            self.follow_depth = int(depth)
        if article:
            self.article_url = article
        self.allow = [allow] if allow else []
        self.deny = [deny] if deny else []

    @cached_property
    def depth_limit(self) -> int:
        if self.follow_depth is not None:
            return self.follow_depth
        return self.crawler.settings.getint("NEWSARCHIVE_SITE_DEPTH", DEFAULT_DEPTH)

    def poll_site(self, source: Source) -> scrapy.Request:
        return self.listing_request(source.url, source.id, 0)

    def listing_request(self, url: str, source_id: int | None, depth: int) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_listing, errback=self.listing_failed, dont_filter=depth == 0,
                              cb_kwargs={"source_id": source_id, "depth": depth},
                              meta={"dont_retry": depth == 0, "listing_host": urlsplit(url).hostname,
                                    **self.request_options(source_id)})

    async def parse_listing(self, response, source_id, depth):
        if not hasattr(response, "text"):  # not HTML: nothing to follow
            return
        host = response.meta.get("listing_host") or urlsplit(response.url).hostname
        # filtered by hostname here: LinkExtractor's allow_domains compares host:port
        links = [link for link in LinkExtractor(unique=True).extract_links(response) if _host(link.url) == host]
        articles = {link.url: None for link in links if self.is_article_url(link.url, source_id)}
        _, requests = await self.discover(articles, source_id)
        if depth == 0:
            await maybe_deferred_to_future(self.record_poll(source_id, new_items=len(requests)))
        logger.info("listing %s: %d links, %d articles, %d new", response.url, len(links), len(articles),
                    len(requests))
        for request in requests:
            yield request
        if depth >= self.depth_limit:
            return
        follow = LinkExtractor(allow=self.allow, deny=self.deny, unique=True)
        for link in follow.extract_links(response):
            if link.url not in articles and _host(link.url) == host and self.fetchable(link.url):
                request = self.listing_request(link.url, source_id, depth + 1)
                request.meta["listing_host"] = host
                yield request

    def listing_failed(self, failure):
        self.poll_failed(failure, "listing", later_are_errors=False)


class SiteLinksSpider(LinkFollowing, ArchiveSpider):
    name = "site"
    source_kind = "site"
    article_url = DEFAULT_ARTICLE_URL


def _host(url: str) -> str | None:
    return urlsplit(url).hostname
