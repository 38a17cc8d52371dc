"""Scrapy components that keep a crawler healthy when it runs for months, not minutes.

* ExpiringRobotsTxt: Scrapy's robots.txt middleware keeps each site's rules for the crawler's
  whole life; a site that changes its robots.txt would never be heard. Rules are re-fetched
  after NEWSARCHIVE_ROBOTSTXT_TTL seconds (a day), and at most ROBOTS_HOSTS sites are kept.
* BoundedDupeFilter: Scrapy's duplicate filter remembers every request fingerprint forever, a
  set that grows with every page crawled. This one remembers the most recent DUPEFILTER_SIZE
  (the frontier in the archive is what prevents refetching archived pages; this filter only
  keeps one crawl from queueing the same request twice in a short while).
"""

from __future__ import annotations

import time
from collections import OrderedDict

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

ROBOTSTXT_TTL = 24 * 3600.0
ROBOTS_HOSTS = 20_000
DUPEFILTER_SIZE = 200_000


class ExpiringRobotsTxt(RobotsTxtMiddleware):
    def __init__(self, crawler):
        super().__init__(crawler)
        self.ttl = crawler.settings.getfloat("NEWSARCHIVE_ROBOTSTXT_TTL", ROBOTSTXT_TTL)
        self._fetched: OrderedDict[str, float] = OrderedDict()

    async def robot_parser(self, request):
        netloc = urlparse_cached(request).netloc
        now = time.monotonic()
        fetched = self._fetched.get(netloc)
        if fetched is not None and now - fetched > self.ttl and not isinstance(self._parsers.get(netloc), Deferred):
            self._parsers.pop(netloc, None)  # stale: the next request fetches robots.txt again
            fetched = None
        if fetched is None:
            self._fetched[netloc] = now
            while len(self._fetched) > ROBOTS_HOSTS:
                oldest, _ = self._fetched.popitem(last=False)
                if not isinstance(self._parsers.get(oldest), Deferred):
                    self._parsers.pop(oldest, None)
        return await super().robot_parser(request)


class BoundedDupeFilter(RFPDupeFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._recent: OrderedDict[bytes, None] = OrderedDict()

    def request_seen(self, request) -> bool:
        fingerprint = self._fingerprint(request)
        if fingerprint in self._recent:
            self._recent.move_to_end(fingerprint)
            return True
        self._recent[fingerprint] = None
        if len(self._recent) > DUPEFILTER_SIZE:
            self._recent.popitem(last=False)
        return False
