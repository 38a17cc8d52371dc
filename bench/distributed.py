"""Workers of the shared queue on the realistic loopback site: 1, 2 and 4 `newsarchive worker`s,
one PostgreSQL archive, one Redis, in one run.

Usage: .venv/bin/python -m bench.distributed [--pages 600] [--workers 1,2,4]

For each count: a fresh PostgreSQL database, the site's feed queued with `crawl --queue --wait`,
politeness lifted (no delay, no AutoThrottle, 32 concurrent requests per worker). The benchmark
runs a Redis of its own on a free loopback port (no persistence), so its command count is the
workers' alone.

Prints, per worker count: pages archived per second (from queueing the poll to the last page
archived; pages the extractor rejects are retried by the workers and counted apart), the ratio
to one worker, the CPU-seconds per page of the workers (each with its extraction pool; summed
over workers: the cost of a page wherever it is fetched, so the scaling to N machines can be
computed), Redis commands per archived page (each one round trip) and
PostgreSQL transactions per archived page (the archive's commits and reads; the waiting
`crawl --wait` polls twice a second and is counted too).

On a machine with C cores the figure flattens at about C workers: beyond that the workers share
the same cores (extraction is most of a page's cost).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import redis
from sqlalchemy import create_engine, text

from bench.procstat import tree_cpu
from bench.realistic_site import Served, build, write_feed

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("NEWSARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LIFTED = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=32",
          "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32", "-s", "LOG_LEVEL=ERROR"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of the benchmark's own, on loopback, without persistence."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 15
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def commands(self) -> int:
        return int(self.client.info("stats")["total_commands_processed"])

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def fresh_database() -> tuple[str, str]:
    name = f"newsarchive_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def transactions(name: str) -> int:
    time.sleep(1.5)  # PostgreSQL publishes its counters at most every second
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        count = conn.execute(text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :n"),
                             {"n": name}).scalar()
    admin.dispose()
    return int(count or 0)


def newsarchive(db_url: str, *args: str, env: dict[str, str], **kwargs):
    return subprocess.run([sys.executable, "-m", "newsarchive", "--db", db_url, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, **kwargs)


def measure(count: int, feed: str, queue: PrivateRedis, logs: Path) -> dict:
    name, db_url = fresh_database()
    env = dict(os.environ, NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS="1", NEWSARCHIVE_QUEUE=queue.url,
               NEWSARCHIVE_QUEUE_PREFIX=f"bench{count}")
    workers = []
    try:
        newsarchive(db_url, "sources", "add", feed, env=env, check=True)
        for i in range(count):
            log = open(logs / f"workers{count}-{i}.log", "w")
            workers.append((subprocess.Popen([sys.executable, "-m", "newsarchive", "--db", db_url, "worker",
                                              "--requeue-every=2s", *LIFTED],
                                             cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True), log))
        for proc, log in workers:
            path = Path(log.name)
            while "taking work" not in path.read_text():
                if proc.poll() is not None:
                    raise SystemExit(f"a worker exited: {path.read_text()[-2000:]}")
                time.sleep(0.2)
        cpu0 = sum(tree_cpu(proc.pid) for proc, _ in workers)
        redis0, pg0 = queue.commands(), transactions(name)
        started = datetime.now(timezone.utc)
        done = newsarchive(db_url, "crawl", "--wait", "--json", env=env, timeout=3600)
        if not done.stdout.strip():
            raise SystemExit(f"crawl --wait failed: {done.stderr[-2000:]}")
        errors = json.loads(done.stdout)["errors"]  # pages the extractor rejects, tried 3 times
        cpu = sum(tree_cpu(proc.pid) for proc, _ in workers) - cpu0
        redis_calls, pg_calls = queue.commands() - redis0, transactions(name) - pg0
        engine = create_engine(db_url)
        with engine.connect() as conn:
            pages = int(conn.execute(text("SELECT count(*) FROM articles")).scalar() or 0)
            last = conn.execute(text("SELECT max(first_seen) FROM articles")).scalar()
        engine.dispose()
    finally:
        for proc, log in workers:
            proc.terminate()
        for proc, log in workers:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
        drop_database(name)
    seconds = (last.replace(tzinfo=last.tzinfo or timezone.utc) - started).total_seconds()
    return {"workers": count, "pages": pages, "errors": errors, "seconds": seconds, "rate": pages / seconds,
            "cpu_per_page": cpu / max(pages, 1), "redis_per_page": redis_calls / max(pages, 1),
            "pg_per_page": pg_calls / max(pages, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.workers.split(",")]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        paths = build(root, args.pages)
        site = Served(root, free_port())
        queue = PrivateRedis(Path(tmp))
        try:
            feed = write_feed(root, site.base, paths)
            for count in counts:
                results.append(measure(count, feed, queue, Path(tmp)))
        finally:
            queue.close()
            site.close()
    cores = os.cpu_count() or 1
    print(f"site: {args.pages} unique pages from the Zyte benchmark's 181, on loopback; {cores} cores; "
          "PostgreSQL archive, Redis queue")
    print("workers  pages  rejected  pages/s  x one  CPU/page   Redis cmds/page  PG xacts/page")
    one = results[0]["rate"]
    for r in results:
        print(f"{r['workers']:7d}  {r['pages']:5d}  {r['errors']:8d}  {r['rate']:7.1f}  {r['rate'] / one:5.2f}"
              f"  {r['cpu_per_page'] * 1000:6.1f} ms"
              f"  {r['redis_per_page']:15.1f}  {r['pg_per_page']:13.1f}")
    print(f"({cores} cores: the figure flattens at about {cores} workers, which then share the same cores; "
          "N machines of this kind do about N x the best figure while the archive keeps up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
