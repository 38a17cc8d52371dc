"""Finding archived articles: by canonical URL or any alias, by id, and their copies."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Alias, Article
from archive.urls import MAX_URL_LENGTH, clean_url

MAX_ID = 2**63 - 1  # the largest row id any backend stores


def parse_id(key: str) -> int | None:
    """A row id typed by a user ("42"), or None when the text is not one (a URL, "²", 10**20)."""
    key = key.strip()
    if not (key.isascii() and key.isdigit()):
        return None
    value = int(key)
    return value if 0 < value <= MAX_ID else None


def find_article(session: Session, url: str) -> Article | None:
    """The article an URL belongs to, by canonical URL or by any alias."""
    candidates = {url}
    try:
        candidates.add(clean_url(url))
    except ValueError:
        pass
    article = session.scalars(select(Article).where(Article.canonical_url.in_(candidates))).first()
    if article is None:
        article = session.scalars(
            select(Article).join(Alias).where(Alias.url.in_(candidates))
        ).first()
    return article


def archived_urls(session: Session, urls: Iterable[str]) -> set[str]:
    """Which of these URLs are already archived (as canonical URL or alias)."""
    by_variant: dict[str, str] = {}
    for url in urls:
        by_variant[url] = url
        try:
            by_variant.setdefault(clean_url(url), url)
        except ValueError:
            continue
    if not by_variant:
        return set()
    variants = list(by_variant)
    found = set(session.scalars(select(Article.canonical_url).where(Article.canonical_url.in_(variants))))
    found |= set(session.scalars(select(Alias.url).where(Alias.url.in_(variants))))
    return {by_variant[v] for v in found}


def referencing_duplicates(session: Session, article: Article) -> list[Article]:
    """Articles archived as copies of this one."""
    return list(session.scalars(select(Article).where(Article.duplicate_of_id == article.id).order_by(Article.id)))


def article_by_url_or_id(session: Session, key: str) -> Article | None:
    article_id = parse_id(key)
    if article_id is not None:
        return session.get(Article, article_id)
    return find_article(session, key.strip()) if len(key) <= MAX_URL_LENGTH else None
