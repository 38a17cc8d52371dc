"""Registering 2,000 feeds: one `sources add URL...` call, one `sources import FILE.opml`, and
separate `sources add URL` processes (how it was done before), each into a fresh SQLite archive.

Usage: .venv/bin/python -m bench.registration [--feeds 2000] [--separate 20]

Every figure is the wall time of real `newsarchive` processes (python -m newsarchive), the
archive created and migrated beforehand. The separate processes are timed on --separate of the
URLs and scaled to --feeds (each process does the same work). The feeds are loopback URLs and
NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS=1 is set, as when the 0.85 s per process of issue 10 was
measured, so no DNS lookup is made (with the guard on, the hosts are looked up 32 at a time).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archive.db import Database
from newsarchive import opml

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS="1")


def newsarchive(db_url: str, *args: str) -> float:
    """Seconds one `newsarchive` process takes; raises when it fails."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "newsarchive", "--db", db_url, *args], cwd=ROOT, env=ENV, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def fresh(directory: Path, name: str) -> str:
    url = f"sqlite:///{directory / name}"
    Database(url).dispose()
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--separate", type=int, default=20, help="separate processes timed (then scaled)")
    args = parser.parse_args(argv)
    urls = [f"http://127.0.0.{1 + n // 250}:8080/feeds/{n}.xml" for n in range(args.feeds)]
    with tempfile.TemporaryDirectory(prefix="bench-registration-") as tmp:
        tmp = Path(tmp)
        one_call = newsarchive(fresh(tmp, "add.db"), "sources", "add", *urls)
        document = tmp / "feeds.opml"
        document.write_bytes(opml.write([(url, f"Feed {n}") for n, url in enumerate(urls)]))
        imported = newsarchive(fresh(tmp, "import.db"), "sources", "import", str(document))
        separate_db = fresh(tmp, "separate.db")
        each = [newsarchive(separate_db, "sources", "add", url) for url in urls[:args.separate]]
    per_process = sum(each) / len(each)
    separate = per_process * args.feeds
    print(f"{args.feeds} loopback feeds into a fresh SQLite archive (NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS=1: no DNS)")
    print(f"  one `sources add URL...` process        {one_call:8.2f} s   {separate / one_call:7.0f}x faster")
    print(f"  one `sources import FILE.opml` process  {imported:8.2f} s   {separate / imported:7.0f}x faster")
    print(f"  {args.feeds} separate `sources add URL`         {separate:8.1f} s   (measured on {len(each)} processes: "
          f"{per_process:.2f} s each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
