"""Bytes per archived article: the raw page as zlib, zstd and zstd with per-site dictionaries, the
clean text and the indexes, beside the same pages as a WARC.gz.

Usage: .venv/bin/python -m bench.storage [--sites 8] [--pages 200] [--train-after 64]

Three samples, each said in the output:

1. Real pages alone: the 181 pages of ../shared/data/aeb (126 sites), each compressed on its own.
2. Real pages of one site: the aeb sites with two pages; each page compressed with zstd using the
   site's other page as a dictionary (raw content), against plain zstd: how much two real pages of
   one site share, which is what a trained dictionary can capture.
3. Sites through the archive. The aeb set has at most two pages per site, so each site here is one
   real aeb page (the first --sites by sha256 of their id) made into --pages pages: its template
   kept, every text node of 40+ characters outside scripts and styles replaced by other aeb
   articles' text, every digit run outside styles re-drawn (ids, dates, counters differ per page).
   They are archived through archive.batch.save_batch into a fresh SQLite archive;
   archive.dictionaries.train_site_dictionaries runs once each site has --train-after pages, and
   the figures are taken over the pages archived after it (never seen in training). Table sizes
   come from SQLite's dbstat, after recompress_site brought the training pages to the dictionary.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import random
import re
import sqlite3
import statistics
import tempfile
import zlib
from pathlib import Path

import lxml.html
import zstandard
from sqlalchemy import func, select
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive import dictionaries
from archive.batch import BatchItem, save_batch
from archive.db import Database
from archive.models import Article, RawDictionary, RawPage
from archive.rawpages import LEVEL
from archive.store import ArticleFields, Page
from archive.text import line_fingerprint
from bench.datasets import DATA

DIGITS = re.compile(rb"\d+")
HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Server", "nginx")]
TABLES = {"raw pages": ("raw_pages",), "clean text (revisions)": ("revisions",),
          "near-duplicate bands": ("article_bands", "ix_article_bands_article_id"),
          "full-text index (FTS5)": ("article_fts_data", "article_fts_idx", "article_fts_docsize",
                                     "article_fts_config"),
          "articles, aliases": ("articles", "aliases", "ix_articles_site", "ix_articles_published",
                                "ix_articles_text_hash", "ix_articles_duplicate_of_id", "ix_articles_next_revisit_at",
                                "sqlite_autoindex_articles_1", "sqlite_autoindex_aliases_1", "ix_aliases_article_id"),
          "dictionaries": ("raw_dictionaries", "ix_raw_dictionaries_site"),
          "furniture counts (site_lines: a sample of every line)": ("site_lines", "sqlite_autoindex_site_lines_1"),
          "frontier": ("frontier", "sqlite_autoindex_frontier_1", "ix_frontier_state_discovered_at",
                       "ix_frontier_state_id")}


def aeb() -> list[tuple[str, str, bytes, str]]:
    """(id, url, html, article text) of every aeb page."""
    root = DATA / "aeb"
    truth = json.loads((root / "ground-truth.json").read_text("utf-8"))
    return [(key, item["url"], gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes()), item["articleBody"])
            for key, item in truth.items()]


def warc_gz(pages: list[tuple[str, bytes]]) -> int:
    """Bytes of a WARC.gz holding these (url, body) responses (warcio, one gzip member a record)."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for url, body in pages:
        http = StatusAndHeaders("200 OK", HEADERS + [("Content-Length", str(len(body)))], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                                      http_headers=http))
    return out.tell()


def zstd_size(body: bytes, dictionary: zstandard.ZstdCompressionDict | None = None) -> int:
    compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary) if dictionary else \
        zstandard.ZstdCompressor(level=LEVEL)
    return len(compressor.compress(body))


def real_pages(pages) -> None:
    bodies = [html for _, _, html, _ in pages]
    n = len(bodies)
    sites = len({u.split('/')[2] for _, u, _, _ in pages})
    print(f"1. Real pages alone: {n} aeb pages, {sites} sites, each on its own")
    rows = [("uncompressed", sum(map(len, bodies)) / n), ("zlib 6 (archives before a10_storage)",
            sum(len(zlib.compress(b, 6)) for b in bodies) / n), (f"zstd {LEVEL} (now, before a site has a dictionary)",
            sum(zstd_size(b) for b in bodies) / n),
            ("WARC.gz of the same responses", warc_gz([(u, h) for _, u, h, _ in pages]) / n)]
    _table(rows, rows[3][1])


def same_site_pairs(pages) -> None:
    by_site: dict[str, list[bytes]] = {}
    for _, url, html, _ in pages:
        by_site.setdefault(url.split("/")[2], []).append(html)
    pairs = [bodies[:2] for bodies in by_site.values() if len(bodies) >= 2]
    plain = with_other = 0
    for a, b in pairs:
        for page, other in ((a, b), (b, a)):
            plain += zstd_size(page)
            raw = zstandard.ZstdCompressionDict(other, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
            with_other += zstd_size(page, raw)
    n = 2 * len(pairs)
    print(f"\n2. Real pages of one site: {len(pairs)} aeb sites with two pages ({n} pages)")
    _table([(f"zstd {LEVEL}", plain / n), (f"zstd {LEVEL}, the site's other page as dictionary", with_other / n)],
           plain / n, against="vs zstd")


def variants(template: bytes, count: int, rng: random.Random, words: list[str]) -> list[tuple[bytes, str]]:
    """(html, article text) of ``count`` pages made from one real page (see the module doc)."""
    doc = lxml.html.fromstring(template)
    slots = [(el, attr) for el in doc.iter() if isinstance(el.tag, str) and el.tag not in ("script", "style")
             for attr in ("text", "tail") if len((getattr(el, attr) or "").strip()) >= 40]
    lengths = [len(getattr(el, attr).split()) for el, attr in slots]
    pages = []
    for _ in range(count):
        paragraphs = []
        for (el, attr), length in zip(slots, lengths):
            start = rng.randrange(len(words) - length)
            paragraph = " ".join(words[start:start + length])
            setattr(el, attr, paragraph)
            paragraphs.append(paragraph)
        html = lxml.html.tostring(doc, encoding="utf-8")
        parts = re.split(rb"(<style.*?</style>|style=\"[^\"]*\")", html, flags=re.S | re.I)
        html = b"".join(p if i % 2 else DIGITS.sub(lambda m: str(rng.randrange(10 ** len(m.group()))).encode(), p)
                        for i, p in enumerate(parts))
        pages.append((html, "\n".join(paragraphs)))
    return pages


def item(site: str, n: int, html: bytes, body: str) -> BatchItem:
    url = f"https://{site}/articles/{n}"
    return BatchItem(page=Page(url=url, status=200, headers=HEADERS, body=html),
                     fields=ArticleFields(text=body, title=f"{site} {n}"), frontier_url=url,
                     lines={line_fingerprint(line): line for line in body.splitlines()})


def through_the_archive(pages, *, sites: int, per_site: int, train_after: int) -> None:
    rng = random.Random(20261205)
    words = [w for *_, body in pages for w in body.split()]
    chosen = sorted(pages, key=lambda p: hashlib.sha256(p[0].encode()).hexdigest())[:sites]
    made = {f"site{k}.{url.split('/')[2]}": variants(html, per_site, rng, words)
            for k, (_, url, html, _) in enumerate(chosen)}
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        path = Path(tmp) / "archive.db"
        db = Database(f"sqlite:///{path}")
        for site, site_pages in made.items():
            for start in range(0, train_after, 32):
                save_batch(db, [item(site, n, *site_pages[n]) for n in range(start, min(train_after, start + 32))],
                           fingerprint=line_fingerprint)
        trained = dictionaries.train_site_dictionaries(db, min_pages=train_after)
        held_out = [(site, n) for site in made for n in range(train_after, per_site)]
        for start in range(0, len(held_out), 50):
            save_batch(db, [item(site, n, *made[site][n]) for site, n in held_out[start:start + 50]],
                       fingerprint=line_fingerprint)
        bodies = [made[site][n][0] for site, n in held_out]
        with db.session() as session:
            stored = session.scalars(select(func.length(RawPage.body)).where(RawPage.dictionary_id.is_not(None))).all()
            dictionary_bytes = session.scalar(select(func.sum(func.length(RawDictionary.data)))) or 0
        count = len(bodies)
        print(f"\n3. Sites through the archive: {len(made)} sites of {per_site} pages, each made from one real aeb "
              f"page (median {int(statistics.median(len(p[2]) for p in chosen)):,} bytes); {len(trained)} "
              f"dictionaries trained at {train_after} pages ({dictionary_bytes // max(1, len(trained)):,} bytes each); "
              f"figures over the {count} pages archived after training")
        warc = warc_gz([(f"https://{site}/articles/{n}", made[site][n][0]) for site, n in held_out]) / count
        amortized = dictionary_bytes / (len(made) * per_site)
        rows = [("uncompressed", sum(map(len, bodies)) / count),
                ("zlib 6", sum(len(zlib.compress(b, 6)) for b in bodies) / count),
                (f"zstd {LEVEL}", sum(zstd_size(b) for b in bodies) / count),
                (f"zstd {LEVEL} + site dictionary (as stored)", sum(stored) / max(1, len(stored))),
                (f"  + its dictionary over the site's {per_site} pages", sum(stored) / max(1, len(stored)) + amortized),
                ("WARC.gz of the same responses", warc)]
        _table(rows, warc)
        for site in made:
            dictionaries.recompress_site(db, site)
        _tables(db, path, warc)


def _tables(db: Database, path: Path, warc: float) -> None:
    with db.session() as session:
        articles = session.scalar(select(func.count(Article.id)))
    db.dispose()
    conn = sqlite3.connect(path)
    conn.execute("VACUUM")  # the file as a copy of it would be: no free pages, WAL folded in
    sizes = dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
    conn.close()
    print(f"\n   The whole archive, per article ({articles} articles, training pages recompressed with their "
          f"dictionary; after VACUUM):")
    rows = [(label, sum(sizes.get(name, 0) for name in names) / articles) for label, names in TABLES.items()]
    listed = {name for names in TABLES.values() for name in names}
    others = sorted(((size, name) for name, size in sizes.items() if name not in listed), reverse=True)
    rows.append((f"the rest ({', '.join(name for _, name in others[:2])}...)",
                 sum(size for size, _ in others) / articles))
    rows.append(("everything (the SQLite file)", path.stat().st_size / articles))
    _table(rows, warc)


def _table(rows, base: float, against: str = "vs WARC.gz") -> None:
    for label, value in rows:
        print(f"   {label:<56} {value:>10,.0f} bytes   {value / base:5.2f} {against}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=8)
    parser.add_argument("--pages", type=int, default=200, help="pages per site")
    parser.add_argument("--train-after", type=int, default=dictionaries.MIN_PAGES)
    args = parser.parse_args(argv)
    pages = aeb()
    real_pages(pages)
    same_site_pairs(pages)
    through_the_archive(pages, sites=args.sites, per_site=args.pages, train_after=args.train_after)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
