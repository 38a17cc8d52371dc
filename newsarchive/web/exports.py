"""A search's result set to take away: JSONL, CSV or WARC (archive/export.py's writers, streamed)
and an Atom feed of its newest matches, so an archivist can subscribe to a search."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from feedgen.feed import FeedGenerator
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from archive import export as exporter
from archive.browse import latest
from archive.dedup import fold
from archive.models import Article
from archive.search import search
from newsarchive.web.params import read_search
from newsarchive.web.streaming import WriterStream, response_body

MEDIA_TYPES = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8",
               "warc": "application/warc"}
FEED_ENTRIES = 50
# Characters XML 1.0 cannot hold (an archived title may): dropped from the feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _refuse(errors: list[str]) -> JSONResponse:
    return JSONResponse({"error": "; ".join(errors)}, status_code=400)


def file_name(q: str, extension: str) -> str:
    """newsarchive-<the query, folded to ASCII words>.<extension>: safe in any header."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(q).encode("ascii", "ignore").decode()).strip("-")[:40]
    return f"newsarchive-{slug or 'archive'}.{extension}"


def export(request: Request):
    """/export.jsonl|csv|warc?q=…&filters: every matching article (not only the first pages)."""
    format_ = request.path_params["format"]
    if format_ not in exporter.FORMATS:
        return JSONResponse({"error": f"no export format {format_!r}: one of {', '.join(exporter.FORMATS)}"},
                            status_code=404)
    wanted = read_search(request.query_params)
    if wanted.errors:
        return _refuse(wanted.errors)
    db = request.app.state.db
    selection = {"filters": wanted.filters, "query": wanted.query}
    name = file_name(wanted.q, format_)

    def write(out) -> None:
        with db.session() as session:
            if format_ == "jsonl":
                exporter.write_jsonl(session, out, **selection)
            elif format_ == "csv":
                exporter.write_csv(session, out, **selection)
            else:
                exporter.write_warc(session, out, filename=name, **selection)

    body = response_body(WriterStream(write, binary=format_ == "warc"))
    return StreamingResponse(body, media_type=MEDIA_TYPES[format_],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _xml(value: str | None) -> str:
    return _NOT_XML.sub("", value or "")


def feed(request: Request):
    """/feed.atom?q=…&filters: the newest FEED_ENTRIES matches (or newest articles), Atom 1.0."""
    wanted = read_search(request.query_params)
    if wanted.errors:
        return _refuse(wanted.errors)
    with request.app.state.db.session() as session:
        if wanted.query is not None:
            hits = search(session, wanted.query, filters=wanted.filters, limit=FEED_ENTRIES, order="newest")
        else:
            hits = latest(session, filters=wanted.filters, limit=FEED_ENTRIES)
        seen = {row.id: row for row in session.execute(
            select(Article.id, Article.first_seen, Article.last_seen, Article.author)
            .where(Article.id.in_([h.id for h in hits])))}
    base = str(request.base_url).rstrip("/")
    page_url = base + wanted.selection_link("/")
    generator = FeedGenerator()
    generator.id(base + wanted.selection_link("/feed.atom"))
    generator.title(_xml(f"newsarchive: {wanted.q}" if wanted.q else "newsarchive: newest articles"))
    generator.link(href=base + wanted.selection_link("/feed.atom"), rel="self")
    generator.link(href=page_url, rel="alternate")
    generator.generator("newsarchive")
    newest = max((seen[h.id].last_seen for h in hits if h.id in seen), default=None)
    generator.updated(newest or datetime.now(timezone.utc))
    for hit in hits:
        row = seen.get(hit.id)
        entry = generator.add_entry(order="append")
        entry.id(f"{base}/articles/{hit.id}")
        entry.title(_xml(hit.title) or _xml(hit.url))
        # One link, to the archived article (it links the original): feedgen 1.0 drops the rel of
        # entry links, so a second one would make two "alternate" links.
        entry.link(href=f"{base}/articles/{hit.id}", rel="alternate")
        entry.summary(_xml(hit.snippet))
        if row is not None and row.author:
            entry.author(name=_xml(row.author))
        if hit.published:
            entry.published(hit.published)
        entry.updated(row.last_seen if row is not None else hit.published or datetime.now(timezone.utc))
    return Response(generator.atom_str(pretty=True), media_type="application/atom+xml; charset=utf-8")
