"""The search and export filters as users type them (CLI flags, web query parameters), checked.

One reading of dates and ranges for `search`, `export` and `serve`, so a filter means the same
thing wherever it is given. Errors are FilterError with a message a user can act on.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from archive.search import Filters


class FilterError(ValueError):
    """A filter value that cannot be used (not a date, an empty range...)."""


def parse_date(value: str | None, *, end: bool = False) -> datetime | None:
    """ISO 8601 date or date-time (UTC unless an offset is given). A bare date as an upper bound
    means the end of that day."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise FilterError(f"not a date: {value!r} (expected YYYY-MM-DD or an ISO 8601 date-time)") from None
    bare_date = len(value.strip()) <= 10
    try:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        if end and bare_date:
            parsed = datetime.combine(parsed.date(), time(), tzinfo=parsed.tzinfo) + timedelta(days=1)
        parsed.astimezone(timezone.utc)  # an offset that takes it past year 1 or 9999
    except OverflowError:
        raise FilterError(f"date out of range: {value!r}") from None
    return parsed


def build_filters(site: str | None, since: str | None, until: str | None, lang: str | None,
                  has_revisions: bool | None, no_duplicates: bool) -> Filters:
    start, stop = parse_date(since), parse_date(until, end=True)
    if start and stop and start >= stop:
        raise FilterError("--since must be before --until")
    return Filters(site=site, language=lang, since=start, until=stop, has_revisions=has_revisions,
                   include_duplicates=not no_duplicates)
