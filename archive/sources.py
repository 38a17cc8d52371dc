"""The sources an operator registered: feeds, sitemaps and sites to poll, and when to poll them."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.lookup import parse_id
from archive.models import Source, utcnow
from archive.request_options import OptionChanges, apply_changes
from archive.urls import check_url

KINDS = ("feed", "sitemap", "site")
_DURATION = re.compile(r"^\s*([0-9]{1,9}(\.[0-9]{1,6})?)\s*([smhd]?)\s*$", re.ASCII)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_INTERVAL_SECONDS = 365 * 86400


class SourceError(ValueError):
    """A source request that cannot be carried out (unknown source, bad interval...)."""


def parse_duration(text: str, *, bare_unit: str = "s", fractions: bool = True) -> float | None:
    """'30s', '5m', '1.5h', '1d' or a bare number of ``bare_unit``, as seconds; None when it is not
    a duration (``fractions=False``: whole numbers only)."""
    match = _DURATION.match(text or "")
    if not match or (match.group(2) and not fractions):
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(3) or bare_unit]


def parse_interval(text: str) -> int:
    """'30m', '2h', '1d', '45s' or a bare number of minutes, as seconds (1 s to 365 days)."""
    duration = parse_duration(text, bare_unit="m", fractions=False)
    if not duration:
        raise SourceError(f"not an interval: {str(text)[:40]!r} (use e.g. 30m, 2h, 1d)")
    seconds = int(duration)
    if seconds > MAX_INTERVAL_SECONDS:
        raise SourceError(f"interval too long: {text!r} (at most 365d)")
    return seconds


def cron_trigger(expression: str, jitter: float | None = None) -> CronTrigger:
    """A crontab line (minute hour day month day-of-week) as a UTC trigger; ValueError if it is none."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 crontab fields (minute hour day month day-of-week, e.g. '*/30 * * * *'), "
                         f"got {len(fields)}: {expression[:60]!r}")
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week,
                       timezone=timezone.utc, jitter=jitter)


@dataclass(frozen=True)
class PollSchedule:
    """When a source is polled, as an APScheduler trigger (and the first run time of an interval)."""

    trigger: CronTrigger | IntervalTrigger
    next_run: datetime | None
    description: str  # "every 30m, next 12:00:00", "cron '*/5 * * * *'"


def poll_schedule(source: Source, *, max_jitter: float, after_run: bool = False,
                  now: datetime | None = None) -> PollSchedule:
    """A source's schedule: its crontab line, else its (adaptive) interval from its next_poll_at,
    jittered by at most 10% of the interval and ``max_jitter`` seconds. ``after_run``: the poll
    that just ended set no next poll (not a feed, or it crashed): wait one interval. ValueError
    for a crontab line that is none."""
    if source.cron:
        return PollSchedule(cron_trigger(source.cron, jitter=max_jitter), None, f"cron {source.cron!r}")
    now = now or utcnow()
    seconds = float(source.poll_seconds or source.every_seconds)
    jitter = min(max_jitter, 0.1 * seconds)
    due = max(now, source.next_poll_at or now)
    if after_run and due <= now:
        due = now + timedelta(seconds=seconds)
    next_run = due + timedelta(seconds=random.uniform(0, jitter))
    return PollSchedule(IntervalTrigger(seconds=seconds, jitter=jitter or None, timezone=timezone.utc), next_run,
                        f"every {format_interval(int(seconds))}, next {next_run:%H:%M:%S}")


def check_cron(expression: str) -> str:
    """A crontab line, checked and with its fields single-spaced; raises SourceError."""
    try:
        cron_trigger(expression)
    except (ValueError, TypeError) as exc:
        raise SourceError(f"not a crontab expression: {expression[:60]!r} ({exc})") from None
    return " ".join(expression.split())


def format_interval(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def add_source(session: Session, url: str, *, kind: str = "feed", every: int | None = None,
               spider: str | None = None, cron: str | None = None,
               options: OptionChanges | None = None) -> tuple[Source, bool]:
    """Register a source; adding it again updates what was given. Returns (source, created)."""
    return add_sources(session, [url], kind=kind, every=every, spider=spider, cron=cron, options=options)[0]


def add_sources(session: Session, urls: list[str], *, kind: str = "feed", every: int | None = None,
                spider: str | None = None, cron: str | None = None,
                options: OptionChanges | None = None) -> list[tuple[Source, bool]]:
    """Register many sources with the same settings (a URL given twice counts once), in the
    caller's transaction: the ones already registered are read in a few queries, not one each.
    ``options``: the request options to set or clear (archive/request_options.py).
    Returns (source, created) per distinct URL, in order. Raises InvalidURL or SourceError."""
    urls = list(dict.fromkeys(check_url(url) for url in urls))
    if cron is not None:
        cron = check_cron(cron)
    if kind not in KINDS:
        raise SourceError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    known: dict[str, Source] = {}
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
        if options:
            apply_changes(source, options)
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


def find_source(session: Session, key: str) -> Source | None:
    """A source by URL or id, if there is one."""
    source_id = parse_id(key)
    if source_id is not None:
        return session.get(Source, source_id)
    return session.scalars(select(Source).where(Source.url == key.strip())).first()


def get_source(session: Session, key: str) -> Source:
    """A source by URL or id; SourceError when there is none."""
    source = find_source(session, key)
    if source is None:
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
