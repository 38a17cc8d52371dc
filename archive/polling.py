"""Recording each poll of a source: conditional GET validators, health, and the next poll time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from archive.models import Source, utcnow
from archive.sources import interval


def record_success(session: Session, source: Source, *, etag: str | None = None,
                   last_modified: str | None = None, body_hash: str | None = None,
                   not_modified: bool = False, new_items: int = 0, now: datetime | None = None) -> None:
    now = now or utcnow()
    source.last_polled_at = source.last_success_at = now
    if not not_modified:
        source.etag = etag
        source.last_modified = last_modified
        source.body_hash = body_hash or source.body_hash
    source.consecutive_failures = 0
    source.failure_score = 0.0
    source.next_poll_at = now + interval(source)


def record_failure(session: Session, source: Source, error: str, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    source.last_polled_at = source.last_error_at = now
    source.last_error = error[:1000]
    source.consecutive_failures += 1
    source.failure_score += 1.0
    source.next_poll_at = now + interval(source)
