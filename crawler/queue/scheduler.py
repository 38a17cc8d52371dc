"""scrapy-redis's scheduler and priority queue, thinly adapted for newsarchive workers.

scrapy-redis 0.9 works with Scrapy 2.19 as it is, with these adaptations (and no queue of our own):

* Entries are JSON (crawler/queue/jsonrequests.py), and a popped entry is checked before it becomes
  a request: no ``_class`` (scrapy-redis would import and call any class it names), callbacks only
  among the spider's ``parse*`` methods and ``*_failed`` errbacks, no meta that changes how it is
  fetched (a proxy, robots.txt, size limits: ``UNTRUSTED_META``). A malformed entry (bad JSON, a
  pickle, a forged callback) is one log line, counted, and dropped; the worker goes on.
* The queue is shared and outlives every worker: never flushed on open or close (persist).
* Duplicates are filtered per worker by the project's bounded filter (crawler/longrun.py), not a
  Redis set that grows forever: the frontier in the archive is what keeps pages from being
  fetched twice.
* Redis being unreachable is a logged error, not a crash: what could not be queued stays claimed
  in the frontier and goes back on the queue when its claim expires (crawler/worker.py).
"""

from __future__ import annotations

import logging
import time

import redis
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.request import request_from_dict
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler.queue import jsonrequests
from crawler.queue.jsonrequests import MalformedEntry
from crawler.queue.link import connect, mask, queue_keys

logger = logging.getLogger(__name__)

# request.meta keys that would let whoever writes to Redis change how a worker fetches (through a
# proxy of theirs, past robots.txt, past the size limits): dropped from every popped entry; the
# worker's own middlewares set them again where they belong (HttpProxyMiddleware from its environment)
UNTRUSTED_META = frozenset({"proxy", "_auth_proxy", "dont_obey_robotstxt", "bindaddress", "download_maxsize",
                            "download_warnsize", "download_timeout", "dont_proxy", "cookiejar"})
MALFORMED_PER_POP = 100  # bad entries dropped in one pop before giving the reactor back
ERROR_LOG_SECONDS = 30.0


def allowed_callback(spider, name) -> bool:
    """Callbacks a queued request may name: the spider's parsers and errbacks, nothing else."""
    if not isinstance(name, str) or not (name.startswith("parse") or name.endswith("_failed")):
        return False
    return callable(getattr(spider, name, None))


class JsonPriorityQueue(PriorityQueue):
    """scrapy-redis's priority queue (a sorted set, popped atomically), checking what it pops."""

    def _decode_request(self, encoded_request):
        obj = self.serializer.loads(encoded_request)
        if "_class" in obj:
            raise MalformedEntry("an entry naming a request class")
        for key in ("callback", "errback"):
            if obj.get(key) is not None and not allowed_callback(self.spider, obj[key]):
                raise MalformedEntry(f"an unknown {key} {str(obj[key])[:60]!r}")
        meta = obj.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise MalformedEntry("a meta that is not an object")
        if meta:
            obj["meta"] = {key: value for key, value in meta.items() if key not in UNTRUSTED_META}
        if not isinstance(obj.get("cb_kwargs", {}), dict):
            raise MalformedEntry("cb_kwargs that are not an object")
        try:
            return request_from_dict(obj, spider=self.spider)
        except (TypeError, ValueError, AttributeError) as exc:
            raise MalformedEntry(f"not a valid request ({type(exc).__name__})") from None

    def pop(self, timeout=0):
        for _ in range(MALFORMED_PER_POP):
            try:
                return super().pop(timeout)
            except MalformedEntry as exc:
                logger.warning("dropped a malformed queue entry: %s", exc)
                stats = getattr(getattr(self.spider, "crawler", None), "stats", None)
                if stats is not None:
                    stats.inc_value("newsarchive/queue_malformed")
        return None


class RedisScheduler(Scheduler):
    """The scrapy-redis scheduler on the queue named by NEWSARCHIVE_QUEUE (see the module's notes)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._last_error = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        url = settings.get("NEWSARCHIVE_QUEUE")
        keys = queue_keys(settings.get("NEWSARCHIVE_QUEUE_PREFIX"))
        dupefilter = build_from_crawler(load_object(settings["DUPEFILTER_CLASS"]), crawler)
        instance = cls(server=connect(url), persist=True, queue_key=keys.requests,
                       queue_cls="crawler.queue.scheduler.JsonPriorityQueue", dupefilter=dupefilter,
                       serializer=jsonrequests)
        instance.url = url
        instance.stats = crawler.stats
        return instance

    def close(self, reason):
        return None  # the queue is shared: it stays for the other workers

    def _redis_failed(self, exc: Exception) -> None:
        if self.stats is not None:
            self.stats.inc_value("newsarchive/queue_errors")
        now = time.monotonic()
        if now - self._last_error >= ERROR_LOG_SECONDS:
            self._last_error = now
            logger.error("the queue %s could not be reached: %s", mask(self.url), mask(str(exc)))

    def enqueue_request(self, request):
        try:
            return super().enqueue_request(request)
        except TypeError as exc:  # something in meta or cb_kwargs that JSON cannot hold
            logger.error("could not queue %s: %s", request.url, exc)
        except redis.RedisError as exc:
            self._redis_failed(exc)
        return False

    def next_request(self):
        try:
            return super().next_request()
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return None

    def has_pending_requests(self):
        try:
            return super().has_pending_requests()
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return False
