"""One article (`/articles/ID`, `/api/articles/ID`) and its raw captures (`/articles/ID/raw/RAW`).

The page shows the metadata, copies both ways, aliases, every revision, an inline diff between
two of them (archive/diff.py) and the raw capture. A raw capture is archived HTML from anywhere:
it is served with `Content-Security-Policy: sandbox; default-src 'none'` (no script runs, nothing
is fetched, not even an image, and it gets an opaque origin) and shown in an iframe sandboxed
the same way; `?as=source` shows it as plain text instead.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from archive import diff as textdiff
from archive.models import Article
from archive.rawpages import decompress
from archive.reading import article_record, raw_page_of, revisions_of
from crawler.headers import charset_of
from newsarchive.web.params import read_number
from newsarchive.web.render import page

RAW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
RAW_HEADERS = {"Content-Security-Policy": RAW_CSP, "X-Frame-Options": "SAMEORIGIN",
               "X-DNS-Prefetch-Control": "off", "Cache-Control": "private, no-store"}
HTML_TYPES = ("text/html", "application/xhtml+xml", "")  # "": stored without a Content-Type


def _article(session, key: str) -> Article:
    number = read_number(key)
    article = session.get(Article, number) if number is not None else None
    if article is None:
        raise HTTPException(404, f"no archived article {key[:40]!r}")
    return article


def _revision_number(request: Request, name: str, default: int, latest: int, errors: list[str]) -> int:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    number = read_number(value)
    if number is None or number > latest:
        errors.append(f"{name} must be a revision number from 1 to {latest}")
        return default
    return number


def article_page(request: Request):
    errors: list[str] = []
    with request.app.state.db.session() as session:
        article = _article(session, request.path_params["key"])
        record = article_record(session, article)
        revisions = revisions_of(session, article.id)
    latest = len(revisions)
    shown = _revision_number(request, "rev", latest, latest, errors)
    new = _revision_number(request, "to", latest, latest, errors)
    old = _revision_number(request, "from", max(1, new - 1), latest, errors)
    comparison = None
    if latest > 1 and old != new and revisions:
        before, after = revisions[old - 1], revisions[new - 1]
        comparison = {"old": before, "new": after,
                      "lines": textdiff.diff_paragraphs(before.text, after.text),
                      "title": textdiff.word_changes(before.title or "", after.title or "")
                      if (before.title or "") != (after.title or "") else None}
    text_revision = revisions[shown - 1] if revisions else None
    context = {"article": record, "revisions": revisions, "comparison": comparison, "old": old, "new": new,
               "shown": text_revision, "errors": errors,
               "capture": next((r for r in reversed(revisions) if r.raw_page_id), None)}
    return page(request, "article.html", context, status_code=400 if errors else 200)


def article_api(request: Request):
    with request.app.state.db.session() as session:
        try:
            article = _article(session, request.path_params["key"])
        except HTTPException as exc:
            return JSONResponse({"error": exc.detail}, status_code=404)
        return JSONResponse(article_record(session, article))


def _content_type(headers_json: str) -> tuple[str, str | None]:
    """(media type, charset) of a stored response, from its Content-Type header."""
    try:
        headers = [(str(k), str(v)) for k, v in json.loads(headers_json or "[]")]
    except (ValueError, TypeError):
        headers = []
    media = next((v.split(";")[0].strip().lower() for k, v in headers if k.lower() == "content-type"), "")
    try:
        charset = charset_of(headers)
    except (ValueError, LookupError):
        charset = None
    if charset and not all(c.isalnum() or c in "-_.:" for c in charset):
        charset = None
    return media, charset


def raw_capture(request: Request):
    """The stored response body, unable to run anything or fetch anything."""
    with request.app.state.db.session() as session:
        article = _article(session, request.path_params["key"])
        raw_id = read_number(request.path_params["raw"])
        raw = raw_page_of(session, article.id, raw_id) if raw_id is not None else None
        if raw is None:
            raise HTTPException(404, f"article {article.id} has no raw capture {request.path_params['raw'][:20]!r}")
        body, headers_json = decompress(raw), raw.headers
    media, charset = _content_type(headers_json)
    as_source = request.query_params.get("as") == "source" or media not in HTML_TYPES
    media_type = ("text/plain" if as_source else "text/html") + (f"; charset={charset}" if charset else "")
    return Response(body, headers={**RAW_HEADERS, "Content-Type": media_type})
