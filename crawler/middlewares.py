"""Downloader middlewares."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest

from crawler.netguard import PrivateNetworkRefused, check_public, private_networks_allowed


class PrivateNetworkGuard:
    """Drop requests to loopback and private networks, redirects included (SSRF guard).

    Allowed by the setting NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS or the environment variable of
    the same name (the demo and the tests crawl a loopback server).
    """

    def __init__(self, allow_private: bool, stats):
        self.allow_private = allow_private
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        allow = crawler.settings.getbool("NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS") or private_networks_allowed()
        return cls(allow, crawler.stats)

    def process_request(self, request, spider=None):
        try:
            check_public(request.url, allow_private=self.allow_private)
        except PrivateNetworkRefused as exc:
            self.stats.inc_value("newsarchive/refused_private_network")
            raise IgnoreRequest(str(exc)) from None
        return None
