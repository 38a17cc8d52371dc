"""The newest archived articles, filtered but without a query: the web app's search page before
anything is typed. One walk down the articles' primary key, stopped after `offset + limit`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Article, Revision
from archive.search import Filters, Hit
from archive.snippets import render_snippet, snippet_pieces


def latest(session: Session, *, filters: Filters | None = None, limit: int = 20, offset: int = 0) -> list[Hit]:
    """The most recently archived articles passing `filters`, newest first, as search hits
    (score 0, the snippet is the start of the text)."""
    statement = (select(Article, Revision.text)
                 .join(Revision, (Revision.article_id == Article.id) & (Revision.number == Article.revision_count))
                 .order_by(Article.id.desc()).offset(max(0, int(offset))).limit(max(1, int(limit))))
    hits = []
    for article, body in session.execute((filters or Filters()).apply(statement)):
        pieces = snippet_pieces(body, set())
        hits.append(Hit(id=article.id, url=article.canonical_url, title=article.title, site=article.site,
                        published=article.published, language=article.language, score=0.0,
                        snippet=render_snippet(pieces), duplicate_of_id=article.duplicate_of_id,
                        revisions=article.revision_count, pieces=pieces))
    return hits
