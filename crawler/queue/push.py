"""Putting poll orders on the shared queue (the scheduler with ``--queue``, `crawl --queue`) and
reading its depth (`stats`), through scrapy-redis's own queue class."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Iterable

import redis

from crawler.queue import jsonrequests
from crawler.queue.link import QueueError, connect, mask, order_request, queue_keys
from crawler.queue.scheduler import JsonPriorityQueue


def push_polls(url: str, sources: Iterable[tuple[int, str]], prefix: str | None = None, *,
               timeout: float | None = None) -> int:
    """Queue a poll order per (source id, URL), with a time limit in seconds (None: the worker's
    NEWSARCHIVE_POLL_TIMEOUT); how many were queued."""
    queue = JsonPriorityQueue(connect(url), SimpleNamespace(name="engine"), queue_keys(prefix).requests,
                              jsonrequests)
    count = 0
    try:
        for source_id, source_url in sources:
            queue.push(order_request(source_id, source_url, timeout))
            count += 1
    except redis.RedisError as exc:
        raise QueueError(f"the queue {mask(url)} could not be written: {mask(str(exc))}") from None
    return count


def depth(url: str, prefix: str | None = None) -> int:
    """How many requests wait in the queue."""
    try:
        return int(connect(url).zcard(queue_keys(prefix).requests))
    except redis.RedisError as exc:
        raise QueueError(f"the queue {mask(url)} could not be read: {mask(str(exc))}") from None
