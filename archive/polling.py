"""Recording each poll of a source: conditional GET validators, health, and the next poll time.

Adaptive interval (``Source.poll_seconds``), aiming at about one new item per poll:
  * no new item (304, same body, or only known links): interval x SLOW_DOWN (1.5);
  * exactly one new item: unchanged;
  * two or more: interval x SPEED_UP (0.5);
  * kept within [min(policy.min_seconds, every_seconds), max(policy.max_seconds, every_seconds)]
    (5 min .. 24 h by default; an operator's explicit shorter ``--every`` is honoured), and never
    below what the server asks for (``PollHints``: RSS ``<ttl>``, ``sy:updatePeriod``,
    ``Cache-Control: max-age``, read by crawler/polls.py), capped at the upper bound.

Failures add to ``Source.failure_score`` by their ``Severity`` -- HARD 1 (404/410/other 4xx,
malformed feed, DNS failure), SOFT 0.5 (5xx, timeouts, refused connections), TEMPORARY 0.25 (429,
or 503 with Retry-After) -- and back off exponentially: interval x 2^(failures-1), jittered by +-20%,
capped at the upper bound (so a dead feed is still tried daily and picked up again when it
comes back), or exactly the server's Retry-After. A source is disabled, with the reason in
``Source.disabled_reason``, only when its score reaches DISABLE_SCORE (10) *and* it has been
failing for DISABLE_AFTER (3 days) since its last success; ``sources enable`` brings it back.
A success resets the score.

Servers that send the same ETag for changed content are caught by the feed body's hash
(``Source.body_hash``): such a server's validators are no longer sent (UNTRUSTED_VALIDATORS),
and a full response whose body is identical counts as unchanged.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Callable

from sqlalchemy.orm import Session

from archive.db import Database
from archive.models import Source, utcnow

MIN_POLL_SECONDS = 5 * 60
MAX_POLL_SECONDS = 24 * 3600
SLOW_DOWN = 1.5
SPEED_UP = 0.5
BACKOFF_JITTER = 0.2
DISABLE_SCORE = 10.0
DISABLE_AFTER = timedelta(days=3)

# Stored in Source.etag for a server caught sending the same ETag for changed content.
UNTRUSTED_VALIDATORS = "!untrusted"


class Severity(float, Enum):
    """How much a failed poll adds to its source's failure score (crawler/polls.py judges it)."""

    HARD = 1.0  # it will not get better by itself: 404, 410, a name that does not resolve, not a feed
    SOFT = 0.5  # it may: 5xx, timeouts, refused connections
    TEMPORARY = 0.25  # the server asked us to come back later: 429, 503 with Retry-After


@dataclass(frozen=True)
class PollPolicy:
    """Bounds and thresholds; the defaults are the module constants, tests use shorter ones."""

    min_seconds: float = MIN_POLL_SECONDS
    max_seconds: float = MAX_POLL_SECONDS
    disable_score: float = DISABLE_SCORE
    disable_after: timedelta = DISABLE_AFTER
    jitter: float = BACKOFF_JITTER

    def bounds(self, source: Source) -> tuple[float, float]:
        every = source.every_seconds or self.min_seconds
        return min(self.min_seconds, every), max(self.max_seconds, every)


DEFAULT_POLICY = PollPolicy()


@dataclass(frozen=True)
class PollHints:
    """What the server and the feed say about how often to poll, in seconds."""

    ttl: float | None = None  # RSS <ttl> (given in minutes by the feed)
    update_period: float | None = None  # sy:updatePeriod / sy:updateFrequency
    max_age: float | None = None  # Cache-Control

    def floor(self) -> float:
        return max([v for v in (self.ttl, self.update_period, self.max_age) if v] or [0.0])


def current_interval(source: Source, policy: PollPolicy = DEFAULT_POLICY) -> float:
    low, high = policy.bounds(source)
    return min(high, max(low, float(source.poll_seconds or source.every_seconds or low)))


def record_success(session: Session, source: Source, *, etag: str | None = None,
                   last_modified: str | None = None, body_hash: str | None = None,
                   not_modified: bool = False, new_items: int = 0, hints: PollHints | None = None,
                   policy: PollPolicy = DEFAULT_POLICY, now: datetime | None = None) -> None:
    now = now or utcnow()
    source.last_polled_at = source.last_success_at = now
    if not not_modified:
        lying = etag and etag == source.etag and body_hash and source.body_hash and body_hash != source.body_hash
        if lying or source.etag == UNTRUSTED_VALIDATORS:
            # Same ETag, different content: this server's validators cannot be trusted, so from now
            # on the feed is fetched in full and its body hash tells whether it changed.
            source.etag, source.last_modified = UNTRUSTED_VALIDATORS, None
        else:
            source.etag = etag
            source.last_modified = last_modified
        source.body_hash = body_hash or source.body_hash
    source.consecutive_failures = 0
    source.failure_score = 0.0
    low, high = policy.bounds(source)
    factor = SLOW_DOWN if new_items == 0 else 1.0 if new_items == 1 else SPEED_UP
    seconds = min(high, max(low, current_interval(source, policy) * factor))
    if hints is not None:
        seconds = max(seconds, min(high, hints.floor()))
    source.poll_seconds = max(1, round(seconds))
    source.next_poll_at = now + timedelta(seconds=source.poll_seconds)


def record_failure(session: Session, source: Source, error: str, *, severity: Severity = Severity.SOFT,
                   retry_after: float | None = None, policy: PollPolicy = DEFAULT_POLICY,
                   now: datetime | None = None, rand: Callable[[], float] = random.random) -> None:
    now = now or utcnow()
    source.last_polled_at = source.last_error_at = now
    source.last_error = error[:1000]
    source.consecutive_failures += 1
    source.failure_score = round(source.failure_score + float(severity), 4)
    _, high = policy.bounds(source)
    if retry_after is not None:
        delay = min(high, max(1.0, retry_after))
    else:
        steps = min(source.consecutive_failures - 1, 32)
        delay = min(high, current_interval(source, policy) * 2 ** steps)
        delay *= 1 + policy.jitter * (2 * rand() - 1)
    source.next_poll_at = now + timedelta(seconds=max(1.0, delay))
    failing_since = source.last_success_at or source.added_at or now
    if source.failure_score >= policy.disable_score and now - failing_since >= policy.disable_after:
        days = (now - failing_since).total_seconds() / 86400
        source.enabled = False
        source.disabled_reason = (
            f"disabled {now:%Y-%m-%d %H:%M} UTC after {source.consecutive_failures} failed polls over "
            f"{days:.1f} days (failure score {source.failure_score:g}); last error: {error[:300]}")


def record_poll(db: Database, source_id: int, *, failed: bool, policy: PollPolicy = DEFAULT_POLICY, error: str = "",
                severity: Severity = Severity.SOFT, retry_after: float | None = None,
                **success) -> tuple[datetime | None, str | None]:
    """Record a poll of a source in one transaction: a success (record_success's fields) or a
    failure. Returns (its next poll time, the reason when this poll disabled it); (None, None)
    when the source is gone."""
    with db.transaction() as session:
        source = session.get(Source, source_id)
        if source is None:
            return None, None
        was_enabled = source.enabled
        if failed:
            record_failure(session, source, error, severity=severity, retry_after=retry_after, policy=policy)
        else:
            record_success(session, source, policy=policy, **success)
        return source.next_poll_at, source.disabled_reason if was_enabled and not source.enabled else None
