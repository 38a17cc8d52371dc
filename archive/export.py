"""Exporting the archive: JSON Lines, CSV, and WARC (the stored raw responses plus the clean text).

Everything streams: one query over the articles in id order, read in partitions (a server-side
cursor on PostgreSQL, SQLite's own stepping cursor), with each partition's aliases (and raw pages
for WARC) fetched by one more query. Memory stays flat whatever the size of the archive.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from io import BytesIO
from typing import BinaryIO, Callable, Iterator, TextIO

from sqlalchemy import Integer, column, func, select
from sqlalchemy.orm import Session, aliased

from archive.models import Alias, Article, RawPage, Revision, Source
from archive.rawpages import decompress
from archive.search import Filters, Query, matching_ids_clause, parse_query

FIELDS = ("id", "url", "title", "text", "author", "published", "site", "language", "first_seen", "last_seen",
          "revisions", "duplicate_of", "aliases", "source")
FORMATS = ("jsonl", "csv", "warc")
PARTITION = 500
# Headers that described the body on the wire; the stored body is already decoded.
WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


@dataclass
class ExportedArticle:
    record: dict  # the JSONL fields, in order
    raw_page_id: int | None  # the raw page of the latest revision
    replayed_at: str | None = None  # WARC only: the WARC-Date its canonical URL replays at


# Called once per article written (progress, page lists).
OnArticle = Callable[[ExportedArticle], None]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def iter_articles(session: Session, *, filters: Filters | None = None, query: str | Query | None = None,
                  partition: int = PARTITION) -> Iterator[list[ExportedArticle]]:
    """The matching articles in id order, as partitions of at most `partition` articles."""
    original = aliased(Article)
    statement = (
        select(Article.id, Article.canonical_url, Article.title, Revision.text, Article.author, Article.published,
               Article.site, Article.language, Article.first_seen, Article.last_seen, Article.revision_count,
               original.canonical_url.label("duplicate_of"), Source.url.label("source"), Revision.raw_page_id)
        .join(Revision, (Revision.article_id == Article.id) & (Revision.number == Article.revision_count))
        .outerjoin(original, original.id == Article.duplicate_of_id)
        .outerjoin(Source, Source.id == Article.source_id)
        .order_by(Article.id)
    )
    statement = (filters or Filters()).apply(statement)
    if query is not None:
        parsed = parse_query(query) if isinstance(query, str) else query
        statement = statement.where(Article.id.in_(matching_ids_clause(session, parsed).columns(column("id", Integer))))
    result = session.execute(statement.execution_options(yield_per=partition))
    for rows in result.partitions():
        ids = [row.id for row in rows]
        aliases: dict[int, list[str]] = {}
        for article_id, url in session.execute(select(Alias.article_id, Alias.url)
                                               .where(Alias.article_id.in_(ids)).order_by(Alias.id)):
            aliases.setdefault(article_id, []).append(url)
        yield [ExportedArticle({
            "id": row.id, "url": row.canonical_url, "title": row.title, "text": row.text, "author": row.author,
            "published": _iso(row.published), "site": row.site, "language": row.language,
            "first_seen": _iso(row.first_seen), "last_seen": _iso(row.last_seen), "revisions": row.revision_count,
            "duplicate_of": row.duplicate_of, "aliases": aliases.get(row.id, []), "source": row.source,
        }, row.raw_page_id) for row in rows]


def count_articles(session: Session, *, filters: Filters | None = None, query: str | Query | None = None) -> int:
    """How many articles an export of this selection writes (for progress)."""
    statement = (filters or Filters()).apply(select(func.count(Article.id)))
    if query is not None:
        parsed = parse_query(query) if isinstance(query, str) else query
        statement = statement.where(Article.id.in_(matching_ids_clause(session, parsed).columns(column("id", Integer))))
    return session.scalar(statement) or 0


def write_jsonl(session: Session, out: TextIO, *, on_article: OnArticle | None = None, **selection) -> int:
    count = 0
    for part in iter_articles(session, **selection):
        for article in part:
            out.write(json.dumps(article.record, ensure_ascii=False) + "\n")
            count += 1
            if on_article is not None:
                on_article(article)
    return count


def write_csv(session: Session, out: TextIO, *, on_article: OnArticle | None = None, **selection) -> int:
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    count = 0
    for part in iter_articles(session, **selection):
        for article in part:
            record = dict(article.record, aliases=" ".join(article.record["aliases"]))
            writer.writerow(["" if record[f] is None else record[f] for f in FIELDS])
            count += 1
            if on_article is not None:
                on_article(article)
    return count


def http_headers_of(raw: RawPage, body_length: int) -> list[tuple[str, str]]:
    """The stored headers, minus those describing the wire encoding, with the decoded length."""
    try:
        headers = [(str(k), str(v)) for k, v in json.loads(raw.headers or "[]")]
    except (ValueError, TypeError):
        headers = []
    kept = [(k, v) for k, v in headers if k.lower() not in WIRE_HEADERS]
    return kept + [("Content-Length", str(body_length))]


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def write_warc(session: Session, out: BinaryIO, *, gzip: bool = False, filename: str = "newsarchive.warc",
               on_article: OnArticle | None = None, **selection) -> int:
    """WARC 1.1 as replay tools read it. Per article, in id order:

    * a `response` record for each stored raw page of its revisions, under the URL fetched;
    * where that URL is not the canonical one (tracking parameters, AMP, a redirect), a `revisit`
      record under the canonical URL (identical-payload-digest profile, WARC-Refers-To-Target-URI
      and -Date naming the response), so the canonical URL replays without fuzzy matching;
    * a `conversion` record with the clean text of the latest revision (text/plain, as Common
      Crawl's WET files), WARC-Refers-To the response it was extracted from.

    Each article handed to ``on_article`` carries the WARC-Date its canonical URL replays at (its
    latest stored page's) as ``replayed_at``, None when it has no stored page."""
    from warcio.warcwriter import WARCWriter

    writer = WARCWriter(out, gzip=gzip, warc_version="1.1")
    writer.write_record(writer.create_warcinfo_record(filename, {
        "software": "newsarchive", "format": "WARC File Format 1.1",
        "description": "raw responses as archived (bodies decoded), revisits under the canonical URLs, "
                       "and the clean text of each article as conversion records",
    }))
    count = 0
    for part in iter_articles(session, partition=100, **selection):
        pages = _raw_pages(session, [a.record["id"] for a in part])
        for article in part:
            canonical = article.record["url"]
            captures = {raw.id: _write_capture(writer, raw, canonical) for raw in pages.get(article.record["id"], [])}
            latest = captures.get(article.raw_page_id) if article.raw_page_id is not None else None
            _write_text(writer, article, latest)
            count += 1
            if on_article is not None:
                article.replayed_at = latest[1] if latest else None
                on_article(article)
    return count


def _raw_pages(session: Session, ids: list[int]) -> dict[int, list[RawPage]]:
    """Each article's raw pages, once each, in revision order."""
    pages: dict[int, list[RawPage]] = {}
    for article_id, raw in session.execute(
            select(Revision.article_id, RawPage).join(RawPage, RawPage.id == Revision.raw_page_id)
            .where(Revision.article_id.in_(ids)).order_by(Revision.article_id, Revision.number)):
        listed = pages.setdefault(article_id, [])
        if all(p.id != raw.id for p in listed):
            listed.append(raw)
    return pages


def _write_capture(writer, raw: RawPage, canonical: str) -> tuple[str, str]:
    """The response record of a raw page, and a revisit under the canonical URL when it differs;
    returns (the response's WARC-Record-ID, its WARC-Date)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.timeutils import datetime_to_iso_date

    body = decompress(raw)
    date = datetime_to_iso_date(raw.fetched_at)

    def http():
        return StatusAndHeaders(status_line(raw.status), http_headers_of(raw, len(body)), protocol="HTTP/1.1")

    response = writer.create_warc_record(raw.url, "response", payload=BytesIO(body), length=len(body),
                                         http_headers=http(), warc_headers_dict={"WARC-Date": date})
    writer.write_record(response)
    record_id = response.rec_headers.get_header("WARC-Record-ID")
    if raw.url != canonical:
        writer.write_record(writer.create_revisit_record(
            canonical, response.rec_headers.get_header("WARC-Payload-Digest"), raw.url, date, http_headers=http(),
            warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": record_id}))
    return record_id, date


def _write_text(writer, article: ExportedArticle, latest: tuple[str, str] | None) -> None:
    """The clean text as a conversion record of the response it came from (its date)."""
    from warcio.timeutils import datetime_to_iso_date

    text = (article.record["title"] or "") + "\n\n" + article.record["text"]
    payload = text.encode("utf-8")
    headers = {"WARC-Date": latest[1] if latest else
               datetime_to_iso_date(datetime.fromisoformat(article.record["last_seen"]))}
    if latest:
        headers["WARC-Refers-To"] = latest[0]
    conversion = writer.create_warc_record(
        article.record["url"], "conversion", payload=BytesIO(payload), length=len(payload),
        warc_content_type="text/plain; charset=utf-8", warc_headers_dict=headers)
    writer.write_record(conversion)
