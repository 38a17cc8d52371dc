"""Putting a source's request options (archive/request_options.py) on its requests: a downloader
middleware, so redirected requests and robots.txt requests are handled the same way.

The spider marks each request of a source's polls and articles with the source's options
(``ArchiveSpider.request_options``, meta ``OPTIONS_META``). Here, for every request that passes:

* the proxy goes into ``request.meta["proxy"]`` (unless one is set): Scrapy's HttpProxyMiddleware
  turns its credentials into Proxy-Authorization, and crawler/middlewares.py ``ProxiedTargetGuard``
  allows the proxy's host and still checks the target, as for a proxy set in the environment;
* the headers and the basic auth (Authorization) are set when the request is for the source's
  own host, and removed when it is not (a redirect elsewhere carries the request's headers);
* the options are remembered per host, so the robots.txt request Scrapy makes for a host (which
  carries no meta of ours) goes through the same proxy with the same headers; the last source
  seen on a host decides for its robots.txt.

Runs before the robots.txt middleware (100), which makes its request while ours waits.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from scrapy.utils.httpobj import urlparse_cached
from w3lib.http import basic_auth_header

from archive.request_options import RequestOptions, same_host

OPTIONS_META = "newsarchive_options"
HOSTS = 10_000  # hosts whose options are remembered for their robots.txt


@dataclass(frozen=True)
class SourceOptions:
    """A source's options and the URL whose host they belong to."""

    source_url: str
    options: RequestOptions

    def headers(self) -> dict[str, bytes]:
        """The headers for a request to the source's own host (auth as Authorization)."""
        headers = {name: value.encode("latin-1", "replace") for name, value in self.options.headers}
        if self.options.auth:
            user, _, password = self.options.auth.partition(":")
            headers["Authorization"] = basic_auth_header(user, password)
        return headers


class SourceRequestOptions:
    def __init__(self) -> None:
        self._by_host: OrderedDict[str, SourceOptions] = OrderedDict()

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def process_request(self, request, spider=None):
        marked: SourceOptions | None = request.meta.get(OPTIONS_META)
        netloc = urlparse_cached(request).netloc
        if marked is None and request.meta.get("dont_obey_robotstxt"):
            marked = self._by_host.get(netloc)  # robots.txt, asked for because of a request of ours
        if marked is None:
            return None
        self._by_host[netloc] = marked
        self._by_host.move_to_end(netloc)
        while len(self._by_host) > HOSTS:
            self._by_host.popitem(last=False)
        if marked.options.proxy and not request.meta.get("proxy"):
            request.meta["proxy"] = marked.options.proxy
        own = same_host(marked.source_url, request.url)
        for name, value in marked.headers().items():
            if own:
                request.headers[name] = value
            elif request.headers.get(name) == value:  # ours, copied by a redirect to another host
                del request.headers[name]
        return None
