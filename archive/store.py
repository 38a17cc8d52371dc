"""Writing to the archive: one article per canonical URL, revisions, aliases, raw pages.

The archive knows nothing of Scrapy: the crawler hands it a fetched `Page` and the
`ArticleFields` it extracted; `save_article` decides whether that is a new article, a new
revision, an unchanged re-fetch or a copy of an article already archived (an exact copy by text
hash, a near copy through the MinHash band index of archive/dedup.py). Each new text is indexed
for near-duplicate lookup and full-text search in the same transaction as the revision itself.
`save_in` is that decision inside a caller's transaction: archive/batch.py writes many pages
in one. Raw bodies are compressed before the write transaction starts (archive/rawpages.py), so
the write lock is never held while compressing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive import dedup, search
from archive.db import Database
from archive.lookup import find_article
from archive.models import Alias, Article, RawPage, Revision, utcnow
from archive.rawpages import compressors_for
from archive.revisits import schedule_next_revisit
from archive.text import normalize_text, normalized_hash
from archive.urls import MAX_URL_LENGTH, InvalidURL, clean_url, site_of

SAVE_ATTEMPTS = 3
# A title or byline longer than this is junk a page put there (the whole page, a keyword list).
MAX_TITLE_CHARS = 500
MAX_AUTHOR_CHARS = 300


@dataclass(frozen=True)
class Page:
    """An HTTP response as fetched."""

    url: str  # as requested (may carry tracking parameters)
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    final_url: str | None = None  # after redirects, when different
    fetched_at: datetime = field(default_factory=utcnow)

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


@dataclass(frozen=True)
class ArticleFields:
    """What the extractor found in a page."""

    text: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    language: str | None = None
    canonical_url: str | None = None  # the page's rel=canonical, already checked to be on the same site
    band_keys: dedup.BandKeys | None = None  # near-duplicate keys computed off the writer's thread


class Outcome(str, Enum):
    NEW = "new"
    DUPLICATE = "duplicate"  # new URL, but its text is a copy of an archived article
    REVISION = "revision"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Saved:
    outcome: Outcome
    article_id: int
    canonical_url: str
    revision: int
    duplicate_of: str | None = None


def canonical_url_for(page: Page, fields: ArticleFields) -> str:
    """The first of rel=canonical, the final URL and the requested URL that is a valid URL, cleaned."""
    candidates = [u for u in (fields.canonical_url, page.final_url, page.url) if u]
    for url in candidates:
        try:
            return clean_url(url)
        except InvalidURL:
            continue
    return clean_url(page.url)  # raises: not even the requested URL is valid


def clip(text: str | None, limit: int) -> str | None:
    """Text cut to at most ``limit`` characters, at a word boundary, with an ellipsis."""
    if text is None or len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(None, 1)[0] if " " in cut[limit // 2:] else cut) + "…"


# A raw body as stored: (compression, bytes, dictionary id or None)
StoredBody = tuple[str, bytes, "int | None"]


def site_for(page: Page, fields: ArticleFields) -> str:
    """The site a page is archived under (its canonical URL's). Raises InvalidURL."""
    return site_of(canonical_url_for(page, fields))


def compress_bodies(db: Database, pages: list[tuple[str, Page]]) -> list[StoredBody]:
    """Each (site, page) body compressed with its site's newest dictionary (one short read)."""
    with db.session() as session:
        compressors = compressors_for(session, [site for site, _ in pages])
    return [compressors[site].compress(page.body) for site, page in pages]


def save_article(db: Database, page: Page, fields: ArticleFields, *, source_id: int | None = None) -> Saved:
    """Archive one extracted page in its own write transaction.

    Unique constraints guard canonical URLs, aliases and revision numbers; a writer that loses a
    race on PostgreSQL retries and then finds the row the winner wrote.
    """
    stored = compress_bodies(db, [(site_for(page, fields), page)])[0]
    for attempt in range(SAVE_ATTEMPTS):
        try:
            with db.transaction() as session:
                return save_in(session, page, fields, source_id=source_id, stored=stored)
        except IntegrityError:
            if attempt == SAVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def save_in(session: Session, page: Page, fields: ArticleFields, *, source_id: int | None,
            stored: StoredBody, known_new: bool = False, known: dedup.KnownKeys | None = None) -> Saved:
    """Archive one extracted page in the caller's transaction; ``stored``: its body, compressed.
    ``known_new``: the caller has just looked its URLs up and found none archived (a writer that
    raced it there hits the unique constraints: the caller's retry then looks again).
    ``known``: the hashes and band keys the caller's batch looked up (its texts are added)."""
    canonical = canonical_url_for(page, fields)
    body = normalize_text(fields.text)
    digest = normalized_hash(body)
    article = None if known_new else find_article(session, canonical) or find_article(session, page.url)
    if article is None:
        return _save_new(session, page, fields, body, canonical, digest, source_id, stored, known)

    _add_aliases(session, article, page)
    article.last_seen = page.fetched_at
    _remember_validators(article, page)
    schedule_next_revisit(article, page.fetched_at)
    if digest == article.text_hash:
        return Saved(Outcome.UNCHANGED, article.id, article.canonical_url, article.revision_count)

    raw = _store_raw(session, page, stored)
    _update_metadata(article, fields)
    keys = dedup.keys_for(fields.text, body, fields.band_keys)
    revision = add_revision(session, article, text=body, title=fields.title, raw_page=raw,
                            fetched_at=page.fetched_at, band_keys=keys)
    if known is not None:
        known.add(digest, keys)
    return Saved(Outcome.REVISION, article.id, article.canonical_url, revision.number)


def latest_revision(session: Session, article: Article) -> Revision | None:
    return session.scalars(select(Revision).where(Revision.article_id == article.id,
                                                  Revision.number == article.revision_count)).first()


def add_revision(session: Session, article: Article, *, text: str, title: str | None,
                 raw_page: RawPage | None = None, raw_page_id: int | None = None,
                 fetched_at: datetime | None = None, band_keys: list[int] | None = None) -> Revision:
    """Record a new text of an archived article and re-index it (near-duplicate bands, full text;
    ``band_keys``: the new text's, when the caller has them).

    The caller has checked that the text differs from the current one (by text_hash).
    """
    previous = latest_revision(session, article)
    body = normalize_text(text)
    title = clip(title, MAX_TITLE_CHARS)
    revision = Revision(article=article, number=article.revision_count + 1, fetched_at=fetched_at or utcnow(),
                        title=title, text=body, text_hash=normalized_hash(body))
    if raw_page is not None:
        revision.raw_page = raw_page
    else:
        revision.raw_page_id = raw_page_id
    session.add(revision)
    article.revision_count = revision.number
    article.text_hash = revision.text_hash
    session.flush()
    dedup.reindex_bands(session, article.id, body, keys=band_keys)
    search.index_article(session, article.id, title, body,
                         previous=(previous.title, previous.text) if previous is not None else None)
    return revision


def _find_copy(session, digest, body, keys, known: dedup.KnownKeys | None) -> Article | None:
    """The article ``body`` is an exact or near copy of; no query where ``known`` says none can be."""
    original = None
    if known is None or known.may_have_copy(digest):
        original = dedup.find_original(session, digest)
    if original is None and (known is None or known.may_have_near_copy(keys)):
        original = dedup.find_near_original(session, body, keys=keys)
    return original


def _save_new(session, page, fields, body, canonical, digest, source_id, stored, known) -> Saved:
    keys = dedup.keys_for(fields.text, body, fields.band_keys)
    original = _find_copy(session, digest, body, keys, known)
    article = Article(
        canonical_url=canonical,
        site=site_of(canonical),
        text_hash=digest,
        first_seen=page.fetched_at,
        last_seen=page.fetched_at,
        revision_count=1,
        duplicate_of=original,
        source_id=source_id,
    )
    _update_metadata(article, fields)
    _remember_validators(article, page)
    schedule_next_revisit(article, page.fetched_at, first=True)
    session.add(article)
    raw = _store_raw(session, page, stored)
    session.add(Revision(article=article, number=1, fetched_at=page.fetched_at,
                         title=clip(fields.title, MAX_TITLE_CHARS), text=body, text_hash=digest, raw_page=raw))
    _add_aliases(session, article, page)
    session.flush()
    dedup.index_bands(session, article.id, keys)
    if known is not None:
        known.add(digest, keys)
    search.index_article(session, article.id, article.title, body)
    outcome = Outcome.DUPLICATE if original else Outcome.NEW
    return Saved(outcome, article.id, canonical, 1, original.canonical_url if original else None)


def _update_metadata(article: Article, fields: ArticleFields) -> None:
    # Keep what an earlier fetch found when this one found nothing.
    for name in ("title", "author", "published", "updated", "language"):
        value = getattr(fields, name)
        if value is not None:
            setattr(article, name, value)
    article.title = clip(article.title, MAX_TITLE_CHARS)
    article.author = clip(article.author, MAX_AUTHOR_CHARS)


def _remember_validators(article: Article, page: Page) -> None:
    article.etag = page.header("ETag") or article.etag
    article.last_modified = page.header("Last-Modified") or article.last_modified


def _add_aliases(session: Session, article: Article, page: Page) -> None:
    known = {article.canonical_url, *(alias.url for alias in article.aliases)}
    for url in dict.fromkeys(filter(None, (page.url, page.final_url))):
        if url in known or len(url) > MAX_URL_LENGTH:
            continue
        if session.scalars(select(Alias.id).where(Alias.url == url)).first() is None:
            session.add(Alias(url=url, article=article))
        known.add(url)


def _store_raw(session: Session, page: Page, stored: StoredBody) -> RawPage:
    compression, body, dictionary_id = stored
    url = page.final_url if page.final_url and len(page.final_url) <= MAX_URL_LENGTH else page.url
    raw = RawPage(url=url, fetched_at=page.fetched_at, status=page.status, headers=json.dumps(page.headers),
                  compression=compression, body=body, dictionary_id=dictionary_id)
    session.add(raw)
    return raw
