"""Run by tests/test_worker_queue.py in a process of its own (it runs a reactor): the worker's
shared-politeness middleware against the Redis at the given port and db (keys under the given
prefix), three requests to one site
with a 0.3 s delay. Prints JSON: the reactor's ticks (every 0.05 s) while the first request
waited, the times the three requests were let go, and the middleware's stats."""

from __future__ import annotations

import json
import sys
import time

import redis
import scrapy
from redis.backoff import NoBackoff
from redis.retry import Retry
from scrapy.utils.test import get_crawler
from twisted.internet import defer, reactor, task

from crawler.queue.politeness import SharedPoliteness


async def probe(port: int, db: int, prefix: str) -> dict:
    crawler = get_crawler(scrapy.Spider, {"DOWNLOAD_DELAY": 0.3})
    crawler.spider = crawler._create_spider("probe")
    client = redis.Redis(host="127.0.0.1", port=port, db=db, socket_timeout=1, socket_connect_timeout=1,
                         retry=Retry(NoBackoff(), 0))
    middleware = SharedPoliteness(crawler, client, prefix)
    ticks = []
    loop = task.LoopingCall(lambda: ticks.append(time.monotonic()))
    loop.start(0.05)
    released = []
    for n in range(3):
        await middleware.process_request(scrapy.Request(f"http://site.example/{n}"), crawler.spider)
        released.append(time.monotonic())
        if n == 0:
            first_ticks = len(ticks)
    loop.stop()
    return {"ticks_during_first": first_ticks, "released": released, "stats": crawler.stats.get_stats()}


def main() -> None:
    out = {}

    def done(result):
        out.update(result)
        reactor.stop()

    def failed(failure):
        out["error"] = failure.getErrorMessage()
        reactor.stop()

    port, db, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    reactor.callWhenRunning(lambda: defer.Deferred.fromCoroutine(probe(port, db, prefix)).addCallbacks(done, failed))
    reactor.run()
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
