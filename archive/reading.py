"""Reading one archived article whole: metadata, aliases, revisions, copies both ways, raw pages.

What `newsarchive show --json` prints and the web app's `/api/articles/ID` returns: one
function, so both give the same fields.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.lookup import referencing_duplicates
from archive.models import Article, RawPage, Revision


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def revisions_of(session: Session, article_id: int) -> list[Revision]:
    return list(session.scalars(select(Revision).where(Revision.article_id == article_id).order_by(Revision.number)))


def article_record(session: Session, article: Article) -> dict:
    """The article as plain JSON-ready data; `text` is its latest revision's."""
    revisions = revisions_of(session, article.id)
    original = article.duplicate_of
    copies = referencing_duplicates(session, article)
    return {
        "id": article.id, "url": article.canonical_url, "title": article.title, "author": article.author,
        "published": _iso(article.published), "updated": _iso(article.updated), "site": article.site,
        "language": article.language, "first_seen": _iso(article.first_seen), "last_seen": _iso(article.last_seen),
        "aliases": sorted(a.url for a in article.aliases),
        "duplicate_of": {"id": original.id, "url": original.canonical_url} if original else None,
        "duplicates": [{"id": c.id, "url": c.canonical_url, "first_seen": _iso(c.first_seen)} for c in copies],
        "revisions": [{"number": r.number, "fetched_at": _iso(r.fetched_at), "title": r.title,
                       "words": len(r.text.split()), "raw_page_id": r.raw_page_id} for r in revisions],
        "text": revisions[-1].text if revisions else "",
    }


def raw_page_of(session: Session, article_id: int, raw_page_id: int) -> RawPage | None:
    """A raw page, only if one of this article's revisions came from it."""
    return session.scalars(
        select(RawPage).join(Revision, Revision.raw_page_id == RawPage.id)
        .where(Revision.article_id == article_id, RawPage.id == raw_page_id)).first()
