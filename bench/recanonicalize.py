"""Migration a14_canonical's pass (archive/recanonicalize.py) over archives of growing size.

Usage: .venv/bin/python -m bench.recanonicalize [--sizes 10000,100000] [--batch 1000]

Each archive (a fresh SQLite file) is filled with articles as the old URL rules left them: 80 %
already canonical, 18 % that only change URL (query order, itm_/mtm_ parameters) and 2 % in
pairs that now coincide and merge, each with one revision and its full-text and band entries
(band keys only for the merging ones: the pass never reads the others' texts). Printed per
size: the time of the pass, its time per 1000 articles as a ratio to the smallest size (flat
when the pass is linear), the baseline of the same run (one keyset scan canonicalizing every
URL: the pass's unavoidable part) and the pass's peak Python memory (tracemalloc) as a ratio to
the smallest size's (flat when batching keeps memory bounded).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text

from archive import dedup, search
from archive.db import Database
from archive.recanonicalize import recanonicalize
from archive.urls import clean_url

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
WORDS = " ".join(f"mot{i}" for i in range(40))


def old_url(i: int) -> str:
    kind = i % 100
    if kind < 80:
        return f"https://news{i % 50}.test/2024/{i}/article/?a=1&id={i}"
    if kind < 98:
        return f"https://news{i % 50}.test/2024/{i}/article/?id={i}&a=1&itm_source=home"
    pair = i - (kind % 2)  # 98 and 99 share one article under the new rules
    query = "id={0}&a=1" if kind == 98 else "a=1&id={0}&mtm_x=1"
    return f"https://news{pair % 50}.test/2024/{pair}/article/?" + query.format(pair)


def fill(db: Database, size: int) -> None:
    with db.engine.begin() as conn:
        for start in range(0, size, 5000):
            ids = range(start + 1, min(size, start + 5000) + 1)
            conn.execute(text("INSERT INTO articles (id, canonical_url, site, text_hash, first_seen, last_seen, "
                              "revision_count, revisit_step) VALUES (:id, :url, 'news.test', :h, :t, :t, 1, 0)"),
                         [{"id": i, "url": old_url(i), "h": f"{i:064d}", "t": T0 + timedelta(seconds=i)} for i in ids])
            conn.execute(text("INSERT INTO revisions (article_id, number, fetched_at, title, text, text_hash) "
                              "VALUES (:id, 1, :t, :title, :body, :h)"),
                         [{"id": i, "t": T0 + timedelta(seconds=i), "title": f"t{i}", "body": f"a{i} {WORDS}",
                           "h": f"{i:064d}"} for i in ids])
            conn.execute(text("INSERT INTO article_fts(rowid, title, text) VALUES (:id, :title, :body)"),
                         [{"id": i, "title": f"t{i}", "body": f"a{i} {WORDS}"} for i in ids])
            conn.execute(text("INSERT INTO article_bands (band_key, article_id) VALUES (:k, :id)"),
                         [{"k": k, "id": i} for i in ids if i % 100 >= 98
                          for k in set(dedup.text_band_keys(f"a{i} {WORDS}"))])


def baseline(db: Database, batch: int) -> float:
    started, last = time.perf_counter(), 0
    with db.engine.connect() as conn:
        while True:
            rows = conn.execute(text("SELECT id, canonical_url FROM articles WHERE id > :last ORDER BY id LIMIT :n"),
                                {"last": last, "n": batch}).all()
            if not rows:
                return time.perf_counter() - started
            last = rows[-1][0]
            for _, url in rows:
                clean_url(url)


def measure(size: int, batch: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        timed, traced = Path(folder) / "timed.db", Path(folder) / "traced.db"
        db = Database(f"sqlite:///{timed}")
        fill(db, size)
        db.dispose()
        shutil.copy(timed, traced)  # memory is traced on a copy: tracemalloc slows Python down
        db = Database(f"sqlite:///{timed}")
        base = baseline(db, batch)
        started = time.perf_counter()
        with db.engine.begin() as conn:
            summary = recanonicalize(conn, batch=batch)
        seconds = time.perf_counter() - started
        with db.session() as session:
            assert search.search(session, "mot3", limit=1)  # the index still answers
        db.dispose()
        db = Database(f"sqlite:///{traced}")
        tracemalloc.start()
        with db.engine.begin() as conn:
            recanonicalize(conn, batch=batch)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        db.dispose()
    return {"size": size, "seconds": seconds, "baseline": base, "peak": peak, **summary.as_dict()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args(argv)
    results = [measure(int(size), args.batch) for size in args.sizes.split(",")]
    first = results[0]
    print(f"{'articles':>9} {'changed':>8} {'merged':>7} {'pass s':>7} {'x base':>7} "
          f"{'s/1k vs first':>13} {'peak MiB':>9} {'peak vs first':>13}")
    for r in results:
        per_k = (r["seconds"] / r["size"]) / (first["seconds"] / first["size"])
        print(f"{r['size']:>9} {r['changed']:>8} {r['merged']:>7} {r['seconds']:>7.1f} "
              f"{r['seconds'] / r['baseline']:>7.2f} {per_k:>13.2f} {r['peak'] / 2**20:>9.1f} "
              f"{r['peak'] / first['peak']:>13.2f}")


if __name__ == "__main__":
    main()
