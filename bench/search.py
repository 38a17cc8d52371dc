"""Search latency on a million archived articles: two-word queries of rare, mid-frequency and common words.

Usage: .venv/bin/python -m bench.search [--db URL] [--size 1000000] [--queries 100]

Fills the archive with bench/dedup.py's synthetic articles up to --size (reusing what is there:
run bench/dedup.py first with the same --db to share the fill), then times
archive.search.search(query, limit=20) end to end (match, rank, fetch, snippets) for three
classes of two-word queries:

- rare: the two rare words of one archived article (each in ~0.001% of articles)
- mid: two words each in 0.5-2% of articles
- common: two words each in 25-60% of articles (the pair matches ~10-30% of the archive)

and prints median and p95 per class, with the mean number of matching articles (counted apart,
untimed, on a sample). SQLite must keep p95 under 100 ms for all three classes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

import numpy as np
from sqlalchemy import func, select

from archive.db import Database
from archive.dedup import fold
from archive.models import Article, Revision
from archive.search import matching_ids_clause, parse_query, search
from bench.dedup import RARE, VOCAB, VOCABULARY, document_frequency, fill, percentile

BOUND_SECONDS = 0.100
COUNTED = 10


def words_with_df(low: float, high: float) -> list[str]:
    """Vocabulary words in this document-frequency range, one per accent-folded spelling."""
    by_folded = {fold(VOCAB[r]): VOCAB[r] for r in range(VOCABULARY) if low <= document_frequency(r) <= high}
    return list(by_folded.values())


def queries(db: Database, count: int, rng: np.random.Generator, synthetic: tuple[int, int]) -> dict[str, list[str]]:
    common, mid = words_with_df(0.25, 0.60), words_with_df(0.005, 0.02)
    rare_words = set(RARE)
    rare = []
    with db.session() as s:
        while len(rare) < count:
            body = s.scalar(select(Revision.text).where(
                Revision.article_id == int(rng.integers(synthetic[0], synthetic[1] + 1))))
            found = [w for w in (body or "").replace(".", " ").split() if w in rare_words][:2]
            if len(found) == 2:
                rare.append(" ".join(found))
    pick = lambda pool: [" ".join(rng.choice(pool, size=2, replace=False)) for _ in range(count)]  # noqa: E731
    return {"rare": rare, "mid": pick(mid), "common": pick(common)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=None, help="archive URL (default: a new SQLite file in a temp dir)")
    parser.add_argument("--size", type=int, default=1_000_000, help="archived articles to search")
    parser.add_argument("--queries", type=int, default=100, help="queries per class")
    args = parser.parse_args(argv)
    url = args.db or f"sqlite:///{tempfile.mkdtemp(prefix='bench-search-')}/archive.db"
    db = Database(url)
    synthetic = fill(db, args.size)
    with db.session() as s:
        archived = s.scalar(select(func.count(Article.id)))
    print(f"backend: {db.engine.dialect.name}  archived: {archived:,}")
    rng = np.random.default_rng(7)
    classes = queries(db, args.queries, rng, synthetic)
    ok = True
    print(f"{'class':8} {'median':>9} {'p95':>9} {'max':>9} {'matches (mean of ' + str(COUNTED) + ')':>22}")
    with db.session() as s:
        for q in classes["mid"][:5]:  # warm the caches a little
            search(s, q)
        for name, batch in classes.items():
            times = []
            for q in batch:
                started = time.perf_counter()
                search(s, q, limit=20)
                times.append(time.perf_counter() - started)
            matches = [s.scalar(select(func.count()).select_from(
                matching_ids_clause(s, parse_query(q)).columns().subquery())) for q in batch[:COUNTED]]
            median, p95 = statistics.median(times), percentile(times, 0.95)
            ok &= p95 < BOUND_SECONDS or not db.is_sqlite
            print(f"{name:8} {median * 1e3:>7.1f}ms {p95 * 1e3:>7.1f}ms {max(times) * 1e3:>7.1f}ms "
                  f"{statistics.mean(matches):>22,.0f}", flush=True)
    if db.is_sqlite:
        print("PASS" if ok else "FAIL", f"(p95 under {BOUND_SECONDS * 1e3:.0f} ms for every class on SQLite)")
    db.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
