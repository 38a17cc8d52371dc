"""Archive writes: one page at a time (today's pipeline) against batches of 50, on SQLite and PostgreSQL.

Usage: .venv/bin/python -m bench.writes [--items 300] [--batch 50] [--pg URL] [--no-pg]

Both modes write the same items into a fresh archive of their own: real news pages of
../shared/data/aeb as raw bodies, bench/dedup.py's synthetic 600-word articles as clean texts
(distinct articles, so near-duplicate lookups run and find nothing) with their band keys made
beforehand, as the crawl's extraction pool makes them, 10 sites, each page's
lines (plus a sign-off every page of a site carries) for furniture learning, every URL in the
frontier first. Timed:

- single: what crawler/pipelines.py does per page: store.save_article, frontier.mark_done and
  furniture.learn_page, three transactions;
- batch: archive.batch.save_batch on --batch items at a time (one transaction for all of it:
  articles, frontier marks, furniture counts, and the furniture removed before writing).

Items per second of each (the median of --rounds runs, the two modes alternating so that the
machine's noise falls on both) and the ratio batch / single are printed per backend, measured in
the same run. PostgreSQL gets a database created for the run at --pg's server and dropped after.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

from archive import frontier, furniture
from archive.batch import BatchItem, save_batch
from archive.db import Database
from archive.dedup import BandKeys
from archive.store import ArticleFields, Outcome, Page, save_article
from archive.text import line_fingerprint
from archive.urls import site_of
from bench.datasets import load_aeb
from bench.dedup import article_text

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SITES = 10
SIGN_OFF = "Retrouvez toute l'actualité de notre rédaction dans notre newsletter quotidienne."


def make_items(count: int, seed: int = 20261205) -> list[BatchItem]:
    rng = np.random.default_rng(seed)
    pages, _ = load_aeb()
    items = []
    for n in range(count):
        title, body = article_text(rng)
        body = f"{body}\n{SIGN_OFF}"
        url = f"https://site{n % SITES}.test/articles/{n}"
        html = pages[n % len(pages)].body + f"<!-- {n} -->".encode()
        items.append(BatchItem(page=Page(url=url, status=200, headers=[("Content-Type", "text/html")], body=html),
                               fields=ArticleFields(text=body, title=title, language="fr",
                                                    band_keys=BandKeys.of(body)),  # as the pool makes them
                               frontier_url=url,
                               lines={line_fingerprint(line): line for line in body.splitlines()}))
    return items


def run_single(db: Database, items: list[BatchItem]) -> None:
    for item in items:
        saved = save_article(db, item.page, item.fields, source_id=item.source_id)
        frontier.mark_done(db, item.frontier_url)
        if saved.outcome is Outcome.NEW:
            furniture.learn_page(db, site_of(saved.canonical_url), item.lines)


def run_batches(db: Database, items: list[BatchItem], size: int) -> None:
    for start in range(0, len(items), size):
        results = save_batch(db, items[start:start + size], fingerprint=line_fingerprint)
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]


def timed(open_archive, items, run) -> float:
    """Items per second of ``run`` over a fresh archive holding ``items`` in its frontier."""
    db = open_archive()
    try:
        frontier.enqueue(db, [(item.frontier_url, None) for item in items], None)
        start = time.perf_counter()
        run(db, items)
        return len(items) / (time.perf_counter() - start)
    finally:
        db.dispose()


def sqlite_archive(directory: Path):
    def open_archive():
        return Database(f"sqlite:///{directory / f'{uuid.uuid4().hex}.db'}")
    return open_archive


class PostgresArchives:
    """Fresh databases on a PostgreSQL server, dropped at the end."""

    def __init__(self, admin_url: str):
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.base = admin_url.rsplit("/", 1)[0]
        self.names: list[str] = []

    def __call__(self) -> Database:
        name = f"bench_writes_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return Database(f"{self.base}/{name}")

    def close(self) -> None:
        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", default=PG_ADMIN, help="a PostgreSQL server's admin URL")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    items = make_items(args.items)
    print(f"{args.items} items: aeb pages as raw bodies (median {int(np.median([len(i.page.body) for i in items]))} "
          f"bytes), synthetic 600-word texts, {SITES} sites; batch = {args.batch} items")
    backends = [("sqlite", None)] + ([] if args.no_pg else [("postgresql", PostgresArchives(args.pg))])
    with tempfile.TemporaryDirectory(prefix="bench-writes-") as tmp:
        for name, pg in backends:
            open_archive = pg or sqlite_archive(Path(tmp))
            singles, batches = [], []
            try:
                for _ in range(args.rounds):
                    singles.append(timed(open_archive, items, run_single))
                    batches.append(timed(open_archive, items, lambda db, its: run_batches(db, its, args.batch)))
            finally:
                if pg is not None:
                    pg.close()
            single, batched = statistics.median(singles), statistics.median(batches)
            print(f"{name:<11} single {single:7.1f} items/s   batches of {args.batch} {batched:7.1f} items/s   "
                  f"ratio {batched / single:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
