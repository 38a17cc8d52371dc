"""Near-duplicate check and archive write at 10k, 100k and 1M archived articles.

Usage: .venv/bin/python -m bench.dedup [--db URL] [--sizes 10000,100000,1000000] [--probes 200]

The archive is filled with synthetic ~600-word articles (a Zipf vocabulary of invented French-like
words, plus two rare words each), bulk-loaded straight into the tables the archive keeps
(articles, revisions, raw pages, MinHash band keys, full-text index; executemany on SQLite,
COPY on PostgreSQL), computed with the archive's own functions. At each size it then measures,
over `--probes` new unrelated articles:

- check: archive.dedup.find_near_original on the new text (signature, band lookup, verification)
- write: archive.store.save_article of the new article, commit included

and the recall of `--probes` copies of archived articles with 1% of their words edited, a
"(Avec AFP)" lead and a "Source : AFP" line: a copy counts when duplicate_of is its original;
any unrelated probe marked as a copy, or a copy pointing elsewhere, is a false match.
Ratios are against the first size, measured in the same run. Without --db a fresh SQLite file
in a temporary directory is used; give an empty database for PostgreSQL (it is migrated).
The filled archive can be reused by bench/search.py (same --db).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from io import StringIO

import numpy as np
from sqlalchemy import func, select, text

from archive import dedup
from archive.db import Database
from archive.models import Article
from archive.store import ArticleFields, Outcome, Page, save_article
from archive.text import normalize_text, text_hash

WORDS_PER_ARTICLE = 600
PARAGRAPH_WORDS = 100
VOCABULARY = 60_000
RARE_VOCABULARY = 200_000
ZIPF = 1.0
CHUNK = 2_000
SEED = 20261127
SITES = [f"site{i}.test" for i in range(50)]
EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)
SYLLABLES = ("ba be bé bo ca ce ché co di do du fa fé fo ga gè go la le lé li lo ma me mé mi mo na né no "
             "pa pe pi po ra re ré ri ro sa se si so ta te té ti to va ve vi vo za").split()


# ---------------------------------------------------------------------------- synthetic corpus

def _word(index: int) -> str:
    n = len(SYLLABLES)
    parts = []
    index += n * n  # at least three syllables
    while index:
        index, digit = divmod(index, n)
        parts.append(SYLLABLES[digit])
    return "".join(parts)


VOCAB = np.array([_word(i) for i in range(VOCABULARY)], dtype=object)
RARE = np.array([_word(VOCABULARY + i) + "x" for i in range(RARE_VOCABULARY)], dtype=object)
_P = 1.0 / np.arange(1, VOCABULARY + 1) ** ZIPF
PROBABILITIES = _P / _P.sum()
CUMULATIVE = np.cumsum(PROBABILITIES)


def document_frequency(rank: int) -> float:
    """Expected share of articles containing the word of this rank (0-based)."""
    return 1.0 - (1.0 - PROBABILITIES[rank]) ** WORDS_PER_ARTICLE


def article_text(rng: np.random.Generator) -> tuple[str, str]:
    """(title, text) of one synthetic article: 600 Zipf words in paragraphs, two rare words."""
    picks = np.searchsorted(CUMULATIVE, rng.random(WORDS_PER_ARTICLE))
    picks = np.minimum(picks, VOCABULARY - 1)
    words = VOCAB[picks]
    rare = RARE[rng.integers(0, RARE_VOCABULARY, size=2)]
    words[rng.integers(0, WORDS_PER_ARTICLE, size=2)] = rare
    paragraphs = [" ".join(words[i:i + PARAGRAPH_WORDS]).capitalize() + "."
                  for i in range(0, WORDS_PER_ARTICLE, PARAGRAPH_WORDS)]
    title = " ".join(words[:6]).capitalize()
    return title, "\n".join(paragraphs)


def edit_words(body: str, share: float, rng: np.random.Generator) -> str:
    """`share` of the words replaced by other vocabulary words (the copy's small edits)."""
    tokens = body.split(" ")
    for i in rng.choice(len(tokens), size=max(1, round(len(tokens) * share)), replace=False):
        tokens[i] = VOCAB[rng.integers(0, 5000)]
    return " ".join(tokens)


def make_chunk(args: tuple[int, int]) -> list[tuple]:
    """Rows for articles first_id .. first_id+count-1 (deterministic per id range)."""
    first_id, count = args
    rng = np.random.default_rng([SEED, first_id])
    rows = []
    for article_id in range(first_id, first_id + count):
        title, body = article_text(rng)
        body = normalize_text(body)
        site = SITES[article_id % len(SITES)]
        slug = hashlib.md5(str(article_id).encode()).hexdigest()[:12]
        rows.append((article_id, f"https://{site}/{article_id // 1000}/{slug}",
                     site, title, body, text_hash(body), dedup.text_band_keys(body),
                     EPOCH + timedelta(minutes=3 * article_id)))
    return rows


# ---------------------------------------------------------------------------- bulk loading

def _sqlite_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def fill(db: Database, target: int, *, workers: int = 2, log=print) -> tuple[int, int]:
    """Bulk-load synthetic articles until the archive holds `target` of them.

    Returns the lowest and highest ids of the synthetic articles (probes are interleaved)."""
    with db.session() as s:
        count = s.scalar(select(func.count(Article.id)))
        next_id = (s.scalar(select(func.max(Article.id))) or 0) + 1
        next_raw = (s.scalar(text("SELECT max(id) FROM raw_pages")) or 0) + 1
        next_rev = (s.scalar(text("SELECT max(id) FROM revisions")) or 0) + 1
    missing = target - count
    if missing > 0:
        _fill(db, missing, next_id, next_raw, next_rev, workers, log, count)
    with db.session() as s:  # synthetic articles are the ones with a /NNN/ path on a site*.test host
        bounds = s.execute(select(func.min(Article.id), func.max(Article.id))
                           .where(Article.canonical_url.like("https://site%.test/%"))).one()
    return bounds


def _fill(db, missing, next_id, next_raw, next_rev, workers, log, count) -> None:
    started = time.perf_counter()
    jobs = [(next_id + i, min(CHUNK, missing - i)) for i in range(0, missing, CHUNK)]
    loader = _fill_sqlite if db.is_sqlite else _fill_postgresql
    done = 0
    with ProcessPoolExecutor(workers) as pool:
        for rows in _bounded_map(pool, make_chunk, jobs, ahead=2 * workers):
            loader(db, rows, next_raw, next_rev)
            next_raw += len(rows)
            next_rev += len(rows)
            done += len(rows)
            if done % 50_000 < CHUNK:
                rate = done / (time.perf_counter() - started)
                log(f"  filled {count + done:>9,} articles ({rate:,.0f}/s)", file=sys.stderr)
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            for table in ("articles", "revisions", "raw_pages"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _bounded_map(pool, fn, jobs, ahead: int):
    """pool.map in order, with at most `ahead` chunks generated but not yet loaded (flat memory)."""
    pending = deque()
    for job in jobs:
        pending.append(pool.submit(fn, job))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


RAW_BODY = b"<html><body><p>synthetic filler</p></body></html>"
RAW_HEADERS = '[["Content-Type", "text/html; charset=utf-8"]]'


def _fill_sqlite(db: Database, rows, first_raw: int, first_rev: int) -> None:
    import zlib

    raw_body = zlib.compress(RAW_BODY)
    conn = db.engine.raw_connection()
    try:
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.executemany(
            "INSERT INTO articles (id, canonical_url, site, title, published, language, first_seen, last_seen,"
            " text_hash, revision_count, revisit_step) VALUES (?, ?, ?, ?, ?, 'fr', ?, ?, ?, 1, 5)",
            [(r[0], r[1], r[2], r[3], _sqlite_time(r[7]), _sqlite_time(r[7]), _sqlite_time(r[7]), r[5]) for r in rows])
        cur.executemany(
            "INSERT INTO raw_pages (id, url, fetched_at, status, headers, compression, body)"
            " VALUES (?, ?, ?, 200, ?, 'zlib', ?)",
            [(first_raw + i, r[1], _sqlite_time(r[7]), RAW_HEADERS, raw_body) for i, r in enumerate(rows)])
        cur.executemany(
            "INSERT INTO revisions (id, article_id, number, fetched_at, title, text, text_hash, raw_page_id)"
            " VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
            [(first_rev + i, r[0], _sqlite_time(r[7]), r[3], r[4], r[5], first_raw + i) for i, r in enumerate(rows)])
        cur.executemany("INSERT INTO article_bands (band_key, article_id) VALUES (?, ?)",
                        [(k, r[0]) for r in rows for k in set(r[6])])
        cur.executemany("INSERT INTO article_fts (rowid, title, text) VALUES (?, ?, ?)",
                        [(r[0], r[3], r[4]) for r in rows])
        cur.execute("COMMIT")
    finally:
        conn.close()


def _copy(cursor, sql: str, rows) -> None:
    with cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _fill_postgresql(db: Database, rows, first_raw: int, first_rev: int) -> None:
    import zlib

    raw_body = zlib.compress(RAW_BODY)
    conn = db.engine.raw_connection()
    try:
        cur = conn.cursor()
        _copy(cur, "COPY articles (id, canonical_url, site, title, published, language, first_seen, last_seen,"
                   " text_hash, revision_count, revisit_step) FROM STDIN",
              ((r[0], r[1], r[2], r[3], r[7], "fr", r[7], r[7], r[5], 1, 5) for r in rows))
        _copy(cur, "COPY raw_pages (id, url, fetched_at, status, headers, compression, body) FROM STDIN",
              ((first_raw + i, r[1], r[7], 200, RAW_HEADERS, "zlib", raw_body) for i, r in enumerate(rows)))
        _copy(cur, "COPY revisions (id, article_id, number, fetched_at, title, text, text_hash, raw_page_id)"
                   " FROM STDIN",
              ((first_rev + i, r[0], 1, r[7], r[3], r[4], r[5], first_raw + i) for i, r in enumerate(rows)))
        _copy(cur, "COPY article_bands (band_key, article_id) FROM STDIN", ((k, r[0]) for r in rows for k in set(r[6])))
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS bench_search_stage (id integer, title text, body text)")
        _copy(cur, "COPY bench_search_stage (id, title, body) FROM STDIN",
              ((r[0], " ".join(dedup.words(r[3])), " ".join(dedup.words(r[4]))) for r in rows))
        cur.execute("INSERT INTO article_search (article_id, document) SELECT id, "
                    "setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'D') "
                    "FROM bench_search_stage")
        cur.execute("TRUNCATE bench_search_stage")
        conn.commit()
    finally:
        conn.close()


# ---------------------------------------------------------------------------- measuring

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(db: Database, size: int, probes: int, rng: np.random.Generator, synthetic: tuple[int, int],
            warmup: int = 20) -> dict:
    checks, writes, false_matches = [], [], 0
    for i in range(warmup + probes):
        title, body = article_text(rng)
        url = f"https://probe.test/{size}/{i}"
        started = time.perf_counter()
        with db.session() as s:
            found = dedup.find_near_original(s, body)
        checked = time.perf_counter() - started
        started = time.perf_counter()
        saved = save_article(db, Page(url=url, status=200, headers=[], body=RAW_BODY),
                             ArticleFields(text=body, title=title, language="fr"))
        written = time.perf_counter() - started
        false_matches += found is not None or saved.outcome is not Outcome.NEW
        if i >= warmup:
            checks.append(checked)
            writes.append(written)

    # copies of archived articles: 1% of words edited, a lead-in and a source line
    found = wrong = n = 0
    while n < probes:
        with db.session() as s:
            row = s.execute(text("SELECT a.canonical_url, r.text FROM articles a JOIN revisions r "
                                 "ON r.article_id = a.id AND r.number = a.revision_count "
                                 "WHERE a.id = :id AND a.canonical_url LIKE 'https://site%'"),
                            {"id": int(rng.integers(synthetic[0], synthetic[1] + 1))}).first()
        if row is None:  # a probe or a copy written between two fills
            continue
        n += 1
        copy = "(Avec AFP)\n" + edit_words(row.text, 0.01, rng) + "\nSource : AFP"
        saved = save_article(db, Page(url=f"https://copies.test/{size}/{n}", status=200, headers=[], body=RAW_BODY),
                             ArticleFields(text=copy, title="Copie", language="fr"))
        if saved.duplicate_of == row.canonical_url:
            found += 1
        elif saved.duplicate_of is not None:
            wrong += 1
    return {"size": size, "check_median": statistics.median(checks), "check_p95": percentile(checks, 0.95),
            "write_median": statistics.median(writes), "write_p95": percentile(writes, 0.95),
            "recall": found / probes, "false_matches": false_matches + wrong, "probes": probes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=None, help="archive URL (default: a new SQLite file in a temp dir)")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated archive sizes")
    parser.add_argument("--probes", type=int, default=200, help="articles measured (and copies) per size")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    tmp = None
    url = args.db
    if url is None:
        tmp = tempfile.mkdtemp(prefix="bench-dedup-")
        url = f"sqlite:///{tmp}/archive.db"
    db = Database(url)
    print(f"backend: {db.engine.dialect.name}  ({db.safe_url})")
    rng = np.random.default_rng(SEED + 1)
    results = []
    for size in sizes:
        started = time.perf_counter()
        synthetic = fill(db, size, workers=args.workers)
        print(f"filled to {size:,} in {time.perf_counter() - started:,.0f} s", file=sys.stderr)
        results.append(measure(db, size, args.probes, rng, synthetic))
        _print(results)
    base = results[0]
    ok = all(r["recall"] >= 0.9 and r["false_matches"] == 0 for r in results)
    ok &= results[-1]["check_median"] <= 1.3 * base["check_median"]
    ok &= results[-1]["write_median"] <= 2.0 * base["write_median"]
    print("PASS" if ok else "FAIL", "(check <= 1.3x, write <= 2x the first size; recall >= 0.9, no false match)")
    db.dispose()
    return 0 if ok else 1


def _print(results: list[dict]) -> None:
    base = results[0]
    out = StringIO()
    out.write(f"{'archived':>10} {'check med':>10} {'p95':>8} {'ratio':>6} {'write med':>10} {'p95':>8} {'ratio':>6}"
              f" {'recall':>7} {'false':>6}\n")
    for r in results:
        out.write(f"{r['size']:>10,} {r['check_median'] * 1e3:>8.2f}ms {r['check_p95'] * 1e3:>6.2f}ms"
                  f" {r['check_median'] / base['check_median']:>5.2f}x {r['write_median'] * 1e3:>8.2f}ms"
                  f" {r['write_p95'] * 1e3:>6.2f}ms {r['write_median'] / base['write_median']:>5.2f}x"
                  f" {r['recall']:>7.3f} {r['false_matches']:>6}\n")
    print(out.getvalue(), end="", flush=True)


if __name__ == "__main__":
    sys.exit(main())
