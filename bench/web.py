"""Search page latency of `newsarchive serve`: rare, mid-frequency and common two-word queries on
the demo archive and on a 100,000-article archive.

Usage: .venv/bin/python -m bench.web [--size 100000] [--queries 100] [--db URL]

Two archives, each served by a real `newsarchive serve` process on a loopback port:

- demo: the bundled demo site crawled by `newsarchive demo` (7 articles); rare = two words of
  one article, mid = words in 2-4 articles, common = words in every article but one or more;
- bulk: bench/dedup.py's synthetic articles bulk-loaded up to --size (bench/search.py's fill
  and query classes, reused: rare ~0.001%, mid 0.5-2%, common 25-60% of the articles).

For each query the whole search page is fetched over HTTP (`GET /?q=...`: ranked search,
facet counts, snippets, template, transfer), on one kept-alive connection as a browser does.
The baseline, measured in the same run on the same queries, is archive.search.search() alone
(limit 20) in this process: the ratio says what the page adds to the bare search (facets,
rendering, HTTP). Prints median and p95 per class; PASS when the common class's p95 on the bulk
archive is under 200 ms.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from urllib.parse import quote, urlsplit

import numpy as np
from sqlalchemy import func, select

from archive.db import Database
from archive.dedup import words
from archive.models import Article, Revision
from archive.search import search
from bench.dedup import fill, percentile
from bench.search import queries as bulk_queries
from tests.serve_helpers import serving

BOUND_SECONDS = 0.200
WARMUP = 5


def demo_archive(folder: str) -> str:
    url = f"sqlite:///{folder}/demo.db"
    result = subprocess.run([sys.executable, "-m", "newsarchive", "--db", url, "demo", "--port", "0"],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"newsarchive demo failed: {result.stderr[-1000:]}")
    return url


def demo_queries(db: Database, count: int, rng: np.random.Generator) -> dict[str, list[str]]:
    """Two-word queries from the demo archive's own words, by how many articles hold them."""
    with db.session() as s:
        texts = list(s.scalars(select(Revision.text).join(Article, (Revision.article_id == Article.id)
                                                           & (Revision.number == Article.revision_count))))
    frequency = Counter(w for text in texts for w in set(words(text)) if len(w) > 2)
    total = len(texts)
    pools = {"rare": [w for w, n in frequency.items() if n == 1],
             "mid": [w for w, n in frequency.items() if 2 <= n <= 4],
             "common": [w for w, n in frequency.items() if n >= total - 1]}
    by_article = {}
    for text in texts:
        own = [w for w in set(words(text)) if frequency[w] == 1 and len(w) > 2]
        if len(own) >= 2:
            by_article[len(by_article)] = sorted(own)
    rare = []
    for i in range(count):
        own = by_article[i % len(by_article)]
        rare.append(" ".join(rng.choice(own, size=2, replace=False)))
    pick = lambda pool: [" ".join(rng.choice(sorted(pool), size=2, replace=False)) for _ in range(count)]  # noqa: E731
    return {"rare": rare, "mid": pick(pools["mid"]), "common": pick(pools["common"])}


def time_pages(base: str, batch: list[str]) -> list[float]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    times = []
    try:
        for i, q in enumerate(batch[:WARMUP] + batch):
            started = time.perf_counter()
            conn.request("GET", "/?q=" + quote(q))
            response = conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200 or b"li class=\"hit\"" not in body and b"0 matches" not in body:
                raise SystemExit(f"unexpected page for {q!r}: {response.status}")
            if i >= WARMUP:
                times.append(elapsed)
    finally:
        conn.close()
    return times


def time_searches(db: Database, batch: list[str]) -> list[float]:
    times = []
    with db.session() as s:
        for q in batch[:WARMUP]:
            search(s, q)
        for q in batch:
            started = time.perf_counter()
            search(s, q, limit=20)
            times.append(time.perf_counter() - started)
    return times


def measure(name: str, url: str, classes: dict[str, list[str]]) -> dict[str, float]:
    db = Database(url, readonly=True)
    with db.session() as s:
        archived = s.scalar(select(func.count(Article.id)))
    print(f"\n{name}: {archived:,} articles ({db.engine.dialect.name})")
    print(f"{'class':8} {'search() med':>13} {'p95':>9} {'page med':>10} {'p95':>9} {'page/search p95':>16}")
    p95s = {}
    with serving(url) as served:
        for label, batch in classes.items():
            baseline = time_searches(db, batch)
            pages = time_pages(served.base, batch)
            base_p95, page_p95 = percentile(baseline, 0.95), percentile(pages, 0.95)
            p95s[label] = page_p95
            print(f"{label:8} {statistics.median(baseline) * 1e3:>11.1f}ms {base_p95 * 1e3:>7.1f}ms "
                  f"{statistics.median(pages) * 1e3:>8.1f}ms {page_p95 * 1e3:>7.1f}ms {page_p95 / base_p95:>15.1f}x",
                  flush=True)
    db.dispose()
    return p95s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=None, help="bulk archive URL (default: a new SQLite file in a temp dir)")
    parser.add_argument("--size", type=int, default=100_000, help="articles in the bulk archive")
    parser.add_argument("--queries", type=int, default=100, help="queries per class")
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="bench-web-")
    rng = np.random.default_rng(13)

    demo_url = demo_archive(folder)
    demo_db = Database(demo_url, readonly=True)
    demo_classes = demo_queries(demo_db, args.queries, rng)
    demo_db.dispose()
    measure("demo archive", demo_url, demo_classes)

    bulk_url = args.db or f"sqlite:///{folder}/bulk.db"
    writer = Database(bulk_url)
    synthetic = fill(writer, args.size)
    bulk_classes = bulk_queries(writer, args.queries, rng, synthetic)
    writer.dispose()
    p95s = measure(f"bulk archive (--size {args.size:,})", bulk_url, bulk_classes)
    ok = p95s["common"] < BOUND_SECONDS
    print("\nPASS" if ok else "\nFAIL", f"(search page p95 for common words under {BOUND_SECONDS * 1e3:.0f} ms on "
                                        f"{args.size:,} articles)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
