"""What a poll's responses tell archive/polling.py, as the numbers and the severity it takes.

* ``policy_from_settings``: the polling bounds and thresholds, NEWSARCHIVE_POLL_* settings first.
* ``feed_hints``: how often the server and the feed say to poll (Cache-Control max-age, RSS
  ``<ttl>``, ``sy:updatePeriod``/``sy:updateFrequency``), in seconds.
* ``failed_poll``: a failed request as an error line, a severity and the server's Retry-After:
  HARD for an answer that will not change by itself (404, 410, other 4xx, a name that does not
  resolve, not a feed), TEMPORARY when the server asks to come back later (429, or 503 with
  Retry-After), SOFT for the rest (5xx, timeouts, refused or reset connections).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError

from archive import polling
from archive.polling import Severity
from archive.urls import InvalidURL
from crawler.headers import max_age, response_header, retry_after

_SY_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400,
               "yearly": 365 * 86400}
# Errors that a retry will not cure: the name does not resolve, the URL cannot be fetched.
HARD_ERRORS = (DNSLookupError, InvalidURL)


def policy_from_settings(settings) -> polling.PollPolicy:
    """Polling bounds and thresholds; NEWSARCHIVE_POLL_* settings override the defaults (tests)."""
    return polling.PollPolicy(
        min_seconds=settings.getfloat("NEWSARCHIVE_POLL_MIN_SECONDS", polling.MIN_POLL_SECONDS),
        max_seconds=settings.getfloat("NEWSARCHIVE_POLL_MAX_SECONDS", polling.MAX_POLL_SECONDS),
        disable_score=settings.getfloat("NEWSARCHIVE_DISABLE_SCORE", polling.DISABLE_SCORE),
        disable_after=timedelta(seconds=settings.getfloat(
            "NEWSARCHIVE_DISABLE_AFTER_SECONDS", polling.DISABLE_AFTER.total_seconds())),
    )


def feed_hints(feed: dict, *, cache_control: str | None = None) -> polling.PollHints:
    """Hints from a parsed feed's channel (feedparser's ``parsed.feed``) and its response."""
    ttl = _positive(feed.get("ttl"))
    period = None
    if feed.get("sy_updateperiod") or feed.get("sy_updatefrequency"):
        base = _SY_PERIODS.get(str(feed.get("sy_updateperiod") or "daily").strip().lower(), 86400)
        period = base / (_positive(feed.get("sy_updatefrequency")) or 1)
    return polling.PollHints(ttl=ttl * 60 if ttl else None, update_period=period, max_age=max_age(cache_control))


@dataclass(frozen=True)
class FailedPoll:
    error: str  # one line for the operator: "HTTP 503 (Retry-After 120 s)", "DNSLookupError: ..."
    severity: Severity
    retry_after: float | None = None


def severity(*, status: int | None = None, retry_after: float | None = None,
             exception: BaseException | None = None) -> Severity:
    """How bad a failed poll is, from its HTTP status, else from the exception it failed with."""
    if status is not None:
        if status == 429 or (status == 503 and retry_after is not None):
            return Severity.TEMPORARY
        return Severity.SOFT if status >= 500 else Severity.HARD
    return Severity.HARD if isinstance(exception, HARD_ERRORS) else Severity.SOFT


def failed_poll(failure) -> FailedPoll:
    """A Twisted failure of a poll's request (an errback's argument) as archive/polling.py records it."""
    if failure.check(HttpError):
        response = failure.value.response
        wait = retry_after(response_header(response, b"Retry-After"))
        error = f"HTTP {response.status}" + (f" (Retry-After {wait:.0f} s)" if wait is not None else "")
        return FailedPoll(error, severity(status=response.status, retry_after=wait), wait)
    return FailedPoll(f"{failure.type.__name__}: {failure.getErrorMessage()}", severity(exception=failure.value))


def not_a_feed(reason: object) -> FailedPoll:
    """A response that is no feed at all: its URL will not turn into one by itself."""
    return FailedPoll(f"MalformedFeed: not a feed: {reason}", Severity.HARD)


def _positive(value) -> float | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 and math.isfinite(number) else None
