"""The shared queue's address and keys, and what the scheduler and `crawl --queue` put on it.

The queue is a Redis URL (``redis://``, ``rediss://`` for TLS, ``unix://``) from ``--queue`` or
NEWSARCHIVE_QUEUE; its password is never shown (``mask``). Several archives, or test runs, can
share one Redis by giving each its own key prefix (NEWSARCHIVE_QUEUE_PREFIX, else "newsarchive").

A poll is queued as a *poll order*: a request for the source's URL carrying only the source's
id (``ORDER_META``). Whichever worker pops it reads the source from the archive and turns it into
the poll's real first request (crawler/queue/orders.py), so the enqueuer needs no spider and a
worker always polls with the source's latest state (ETag, Last-Modified, named-site spider).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import redis
import scrapy

from archive.redact import redact

QUEUE_ENV = "NEWSARCHIVE_QUEUE"
PREFIX_ENV = "NEWSARCHIVE_QUEUE_PREFIX"
DEFAULT_PREFIX = "newsarchive"
SCHEMES = ("redis://", "rediss://", "unix://")
ORDER_META = "newsarchive_poll_order"  # request.meta of a poll order: the source id
TIMEOUT_META = "newsarchive_poll_timeout"  # request.meta of a poll order: its time limit in seconds, if given
CLAIM_META = "newsarchive_claimed_by"  # request.meta of an article fetch: who holds its frontier claim
POLL_PRIORITY = 100  # polls before article fetches: a feed's new entries are found early


class QueueError(Exception):
    """The queue URL is not one, or the queue cannot be reached (the message is masked)."""


@dataclass(frozen=True)
class QueueKeys:
    requests: str  # scrapy-redis's sorted set of requests
    seeded: str  # present while the queue holds what the frontier put on it (see crawler/worker.py)
    slots: str  # the prefix of each site's politeness slot (crawler/queue/politeness.py)


def queue_keys(prefix: str | None = None) -> QueueKeys:
    prefix = prefix or os.environ.get(PREFIX_ENV) or DEFAULT_PREFIX
    return QueueKeys(requests=f"{prefix}:requests", seeded=f"{prefix}:seeded", slots=f"{prefix}:slot:")


def mask(text: str | None) -> str:
    """Text with any password in it replaced by ***."""
    return redact(text or "")


def queue_url(flag: str | None) -> str | None:
    """The queue's URL from the flag, else NEWSARCHIVE_QUEUE; None: no queue (crawl here)."""
    url = (flag or os.environ.get(QUEUE_ENV) or "").strip()
    if not url:
        return None
    if not url.startswith(SCHEMES):
        raise QueueError(f"not a Redis URL: {mask(url)[:80]!r} (use redis://HOST:6379/0, rediss:// for TLS)")
    return url


def connect(url: str, *, check: bool = False) -> redis.Redis:
    """A client of the queue (connections are made on first use; ``check``: ping it now)."""
    try:
        client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10, retry_on_timeout=True,
                                      health_check_interval=30)
        if check:
            client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise QueueError(f"the queue {mask(url)} could not be reached: {mask(str(exc))}") from None
    return client


def order_request(source_id: int, url: str, timeout: float | None = None) -> scrapy.Request:
    meta: dict[str, object] = {ORDER_META: source_id}
    if timeout is not None:
        meta[TIMEOUT_META] = timeout
    return scrapy.Request(url, meta=meta, priority=POLL_PRIORITY, dont_filter=True)
