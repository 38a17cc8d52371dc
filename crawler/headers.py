"""HTTP header values a crawl acts on: the declared charset, Retry-After, Cache-Control max-age."""

from __future__ import annotations

import email.utils
import re
from datetime import datetime, timezone
from email.message import Message

_MAX_AGE = re.compile(r"(?:^|[,\s])(s-maxage|max-age)\s*=\s*\"?(\d+)", re.I)


def content_type_charset(value: str | None) -> str | None:
    """The charset parameter of a Content-Type value ("text/html; charset=ISO-8859-1"), lowercased."""
    if not value:
        return None
    message = Message()
    message["Content-Type"] = value
    return message.get_content_charset()


def charset_of(headers: list[tuple[str, str]]) -> str | None:
    """The charset of the Content-Type header among (name, value) pairs, if any."""
    for name, value in headers:
        if name.lower() == "content-type":
            return content_type_charset(value)
    return None


def max_age(cache_control: str | None) -> float | None:
    """Seconds a response may be cached (s-maxage or max-age), None when absent or not cacheable."""
    if not cache_control or "no-cache" in cache_control.lower() or "no-store" in cache_control.lower():
        return None
    match = _MAX_AGE.search(cache_control)
    return float(match.group(2)) or None if match else None


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def response_header(response, name: bytes) -> str | None:
    """A Scrapy response's header as text (latin-1, as HTTP/1.1 defines it), or None."""
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
