"""Text identity: whitespace-insensitive hashes, and finding the earliest copy of a text."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Article

_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """One line per paragraph, runs of whitespace collapsed, empty paragraphs dropped."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def text_hash(text: str) -> str:
    """Hash of the normalized text: equal for texts that differ only in whitespace."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def find_original(session: Session, digest: str, *, exclude_id: int | None = None) -> Article | None:
    """The earliest archived article whose current text has this hash (an exact copy)."""
    query = select(Article).where(Article.text_hash == digest, Article.duplicate_of_id.is_(None))
    if exclude_id is not None:
        query = query.where(Article.id != exclude_id)
    return session.scalars(query.order_by(Article.first_seen, Article.id).limit(1)).first()
