"""The archive's tables, as SQLAlchemy 2 typed models.

Schema changes go through Alembic (``archive/migrations``); CI runs ``alembic check`` so these
models and the migrations cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


Timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
CreatedAt = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]
URL = Annotated[str, mapped_column(String(2048))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), str: String()}


class Source(Base):
    """A feed, sitemap or site that the crawler polls."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[URL] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="feed")
    spider: Mapped[str | None] = mapped_column(String(64))
    every_seconds: Mapped[int] = mapped_column(default=1800)
    cron: Mapped[str | None] = mapped_column(String(128))
    enabled: Mapped[bool] = mapped_column(default=True)
    added_at: Mapped[CreatedAt]
    # conditional GET state
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    # adaptive polling and health
    poll_seconds: Mapped[int | None]
    next_poll_at: Mapped[Timestamp | None] = mapped_column(index=True)  # the scheduler asks for due ones
    last_polled_at: Mapped[Timestamp | None]
    last_success_at: Mapped[Timestamp | None]
    last_error_at: Mapped[Timestamp | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    failure_score: Mapped[float] = mapped_column(default=0.0)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # how long after it was due the last poll was started (capacity, a busy site, a stopped scheduler)
    last_poll_late_seconds: Mapped[float | None]
    # what every request of its polls and articles carries (archive/request_options.py); secrets:
    # never shown, only described. Headers as a JSON list of [name, value] pairs.
    request_headers: Mapped[str | None] = mapped_column(Text)
    request_auth: Mapped[str | None] = mapped_column(Text)  # "user:password" (HTTP basic auth)
    request_proxy: Mapped[str | None] = mapped_column(String(4096))


class Article(Base):
    """One article per canonical URL; its text lives in its revisions."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[URL] = mapped_column(unique=True)
    site: Mapped[str] = mapped_column(String(255), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[Timestamp | None] = mapped_column(index=True)
    updated: Mapped[Timestamp | None]
    language: Mapped[str | None] = mapped_column(String(8))
    first_seen: Mapped[CreatedAt]
    last_seen: Mapped[CreatedAt]
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    revision_count: Mapped[int] = mapped_column(default=1)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    # revisit schedule and conditional GET state of the article page itself
    next_revisit_at: Mapped[Timestamp | None] = mapped_column(index=True)
    revisit_step: Mapped[int] = mapped_column(default=0)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))

    revisions: Mapped[list[Revision]] = relationship(
        back_populates="article", order_by="Revision.number", cascade="all, delete-orphan"
    )
    aliases: Mapped[list[Alias]] = relationship(back_populates="article", cascade="all, delete-orphan")
    duplicate_of: Mapped[Article | None] = relationship(remote_side="Article.id")
    source: Mapped[Source | None] = relationship()


class Alias(Base):
    """Every other URL seen for an article: tracking, AMP and mobile variants."""

    __tablename__ = "aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[URL] = mapped_column(unique=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)

    article: Mapped[Article] = relationship(back_populates="aliases")


class RawPage(Base):
    """A raw HTTP response, body compressed, kept so the archive can be re-extracted."""

    __tablename__ = "raw_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[URL]
    fetched_at: Mapped[CreatedAt]
    status: Mapped[int]
    headers: Mapped[str] = mapped_column(Text)  # JSON list of [name, value] pairs, in order
    compression: Mapped[str] = mapped_column(String(16))  # zstd | zlib (before a10_storage) | identity
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # zstd with its site's dictionary: which one (a dictionary row is never changed or deleted)
    dictionary_id: Mapped[int | None] = mapped_column(ForeignKey("raw_dictionaries.id"))


class RawDictionary(Base):
    """A zstd dictionary trained from one site's stored pages (archive/dictionaries.py)."""

    __tablename__ = "raw_dictionaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(255), index=True)
    trained_at: Mapped[CreatedAt]
    samples: Mapped[int]  # pages it was trained from
    site_pages: Mapped[int]  # the site's archived articles then: retraining waits for many more
    zstd_id: Mapped[int] = mapped_column(BigInteger)  # the id zstd writes in every frame it compresses
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Revision(Base):
    """One version of an article's clean text, with the raw page it came from."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    number: Mapped[int]
    fetched_at: Mapped[CreatedAt]
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    raw_page_id: Mapped[int | None] = mapped_column(ForeignKey("raw_pages.id", ondelete="SET NULL"))

    article: Mapped[Article] = relationship(back_populates="revisions")
    raw_page: Mapped[RawPage | None] = relationship()


class SiteLine(Base):
    """A paragraph seen on a site, counted over distinct pages, to learn page furniture."""

    __tablename__ = "site_lines"

    site: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sample: Mapped[str] = mapped_column(Text)
    pages: Mapped[int] = mapped_column(default=0)
    # None: decided by the count; True: always furniture; False: never furniture
    pinned: Mapped[bool | None]


class BlockedFetch(Base):
    """A page that answered with a block (challenge, consent or login wall) instead of an article."""

    __tablename__ = "blocked_fetches"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[URL]
    site: Mapped[str] = mapped_column(String(255), index=True)
    reason: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None]
    fetched_at: Mapped[CreatedAt]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))


class CrawlRun(Base):
    """One crawl engine's life (a `crawl`, a `revisit`, a `schedule` or a `worker` process) and what
    it did. A running engine writes its figures and a heartbeat every minute or so: a run whose
    heartbeat stopped is shown "abandoned", whichever host looks."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"), index=True)
    started_at: Mapped[CreatedAt]
    finished_at: Mapped[Timestamp | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(16))  # crawl | revisit | schedule | worker
    heartbeat_at: Mapped[Timestamp | None]
    requests: Mapped[int] = mapped_column(default=0)
    not_modified: Mapped[int] = mapped_column(default=0)
    new_articles: Mapped[int] = mapped_column(default=0)
    new_revisions: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    dropped: Mapped[str | None] = mapped_column(Text)  # JSON {reason: count}
    error: Mapped[str | None] = mapped_column(Text)


class FrontierURL(Base):
    """An article URL discovered but not yet archived: the crawl frontier survives any crash."""

    __tablename__ = "frontier"
    __table_args__ = (Index("ix_frontier_state_discovered_at", "state", "discovered_at"),
                      Index("ix_frontier_state_id", "state", "id"))  # claims take pending URLs in id order

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[URL] = mapped_column(unique=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    discovered_at: Mapped[CreatedAt]
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | failed
    attempts: Mapped[int] = mapped_column(default=0)
    feed_date: Mapped[Timestamp | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # who is fetching it and until when (archive/frontier.py: claims); others skip it meanwhile
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_until: Mapped[Timestamp | None]


class SchedulerLease(Base):
    """Who runs the scheduler of this archive: one holder at a time, kept alive by heartbeats."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[Timestamp]
    heartbeat_at: Mapped[Timestamp]
    expires_at: Mapped[Timestamp]


class ArticleBand(Base):
    """One LSH band key of an article's MinHash signature: the near-duplicate index (archive/dedup.py)."""

    __tablename__ = "article_bands"
    # SQLite: a clustered (WITHOUT ROWID) table, so each key is stored once, in key order.
    __table_args__ = ({"sqlite_with_rowid": False},)

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True,
                                            autoincrement=False, index=True)
