"""The sources an operator registered: feeds, sitemaps and sites to poll."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from apscheduler.triggers.cron import CronTrigger

from archive.models import Source, parse_id, utcnow
from archive.urls import check_url

KINDS = ("feed", "sitemap", "site")
_DURATION = re.compile(r"^\s*([0-9]{1,9})\s*([smhd]?)\s*$", re.ASCII)
_UNIT_SECONDS = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_INTERVAL_SECONDS = 365 * 86400


class SourceError(ValueError):
    """A source request that cannot be carried out (unknown source, bad interval...)."""


def parse_interval(text: str) -> int:
    """'30m', '2h', '1d', '45s' or a bare number of minutes, as seconds (1 s to 365 days)."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise SourceError(f"not an interval: {str(text)[:40]!r} (use e.g. 30m, 2h, 1d)")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds > MAX_INTERVAL_SECONDS:
        raise SourceError(f"interval too long: {text!r} (at most 365d)")
    return seconds


def check_cron(expression: str) -> str:
    """A crontab line (minute hour day month day-of-week), checked; raises SourceError."""
    fields = expression.split()
    if len(fields) != 5:
        raise SourceError(f"not a crontab expression: {expression[:60]!r} (5 fields: minute hour day month "
                          "day-of-week, e.g. '*/30 * * * *')")
    try:
        CronTrigger.from_crontab(" ".join(fields), timezone="UTC")
    except (ValueError, TypeError) as exc:
        raise SourceError(f"not a crontab expression: {expression[:60]!r} ({exc})") from None
    return " ".join(fields)


def format_interval(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def add_source(session: Session, url: str, *, kind: str = "feed", every: int | None = None,
               spider: str | None = None, cron: str | None = None) -> tuple[Source, bool]:
    """Register a source; adding it again updates what was given. Returns (source, created)."""
    return add_sources(session, [url], kind=kind, every=every, spider=spider, cron=cron)[0]


def add_sources(session: Session, urls: list[str], *, kind: str = "feed", every: int | None = None,
                spider: str | None = None, cron: str | None = None) -> list[tuple[Source, bool]]:
    """Register many sources with the same settings (a URL given twice counts once), in the
    caller's transaction: the ones already registered are read in a few queries, not one each.
    Returns (source, created) per distinct URL, in order. Raises InvalidURL or SourceError."""
    urls = list(dict.fromkeys(check_url(url) for url in urls))
    if cron is not None:
        cron = check_cron(cron)
    if kind not in KINDS:
        raise SourceError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    known = {}
    for start in range(0, len(urls), 500):
        known.update((s.url, s) for s in session.scalars(select(Source).where(Source.url.in_(urls[start:start + 500]))))
    added = []
    for url in urls:
        source = known.get(url)
        if source is None:
            source = Source(url=url, kind=kind, enabled=True, every_seconds=every or 1800)
            session.add(source)
        else:
            _update(source, kind, every)
        if spider is not None:
            source.spider = spider
        if cron is not None:
            source.cron = cron
        added.append((source, url not in known))
    session.flush()
    return added


def _update(source: Source, kind: str, every: int | None) -> None:
    source.kind = kind
    if every and every != source.every_seconds:
        # the operator's new interval replaces what adaptive polling had learnt
        source.every_seconds, source.poll_seconds = every, None
        soonest = utcnow() + timedelta(seconds=every)
        if source.next_poll_at is not None and source.next_poll_at > soonest:
            source.next_poll_at = soonest


def get_source(session: Session, key: str, *, required: bool = True) -> Source | None:
    """A source by URL or id."""
    source_id = parse_id(key)
    source = session.get(Source, source_id) if source_id is not None else session.scalars(
        select(Source).where(Source.url == key.strip())
    ).first()
    if source is None and required:
        raise SourceError(f"unknown source: {key[:200]}")
    return source


def list_sources(session: Session, *, enabled_only: bool = False) -> list[Source]:
    query = select(Source).order_by(Source.id)
    if enabled_only:
        query = query.where(Source.enabled.is_(True))
    return list(session.scalars(query))


def set_enabled(session: Session, key: str, enabled: bool) -> Source:
    source = get_source(session, key)
    source.enabled = enabled
    if enabled:
        # an operator bringing a source back wants it polled now, with a clean slate
        source.disabled_reason = None
        source.failure_score = 0.0
        source.consecutive_failures = 0
        source.next_poll_at = None
    return source


def remove_source(session: Session, key: str) -> Source:
    source = get_source(session, key)
    session.delete(source)
    return source


def interval(source: Source) -> timedelta:
    return timedelta(seconds=source.poll_seconds or source.every_seconds)
