"""Polling cost of the long-running engine: many loopback feeds, most answering 304, on a
schedule compressed in time, against one `newsarchive schedule` process.

Usage: .venv/bin/python -m bench.polls [--feeds 2000] [--interval 60] [--minutes 4] [--changing 0.05]

* A loopback server (threads) serves ``--feeds`` feeds with ETags: a conditional GET of an
  unchanged feed gets 304; ``--changing`` of them gain one new item (and article page) per poll.
* Every feed is registered with ``--interval`` seconds between polls (a 30-minute schedule
  compressed ``1800/interval`` times), the adaptive interval pinned to it.
* The scheduler runs ``--minutes``; every 10 s the archive is asked how late the polls started
  (sources.last_poll_late_seconds), every minute the process's RSS is printed.
* Baseline, in the same run: one `newsarchive crawl SOURCE` process per unchanged poll, the
  design before the engine, CPU-seconds per poll.

Prints: CPU per poll in the engine process (ms; also with its extraction pool) against the
process per poll (ms) and their ratio; the latest start of any poll; polls made against polls
due (none dropped); RSS per minute.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.procstat import cpu_seconds, rss_mb, tree_cpu

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS="1")
ARTICLE = ("<html><head><title>Article {n}</title></head><body><article><h1>Article {n} of feed {f}</h1>"
           + "<p>{text}</p>" * 6 + "</article></body></html>")


class Feeds:
    """The feeds' state: how many items each has (changing feeds grow on every full fetch)."""

    def __init__(self, count: int, changing: float):
        self.items = [1] * count
        self.changing = set(range(0, count, max(1, round(1 / changing)))) if changing > 0 else set()
        self.hits: Counter[int] = Counter()
        self.lock = threading.Lock()

    def body(self, feed: int) -> bytes:
        items = "".join(f"<item><title>Item {n}</title><link>/a/{feed}/{n}.html</link>"
                        f"<guid>{feed}-{n}</guid></item>" for n in range(self.items[feed]))
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
                f"<link>/</link><description>bench</description>{items}</channel></rss>").encode()


def handler_for(feeds: Feeds):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            parts = self.path.strip("/").split("/")
            if parts == ["robots.txt"]:
                return self.send(200, b"User-agent: *\nAllow: /\n", "text/plain")
            if len(parts) == 2 and parts[0] == "feed":
                feed = int(parts[1].removesuffix(".xml"))
                with feeds.lock:
                    feeds.hits[feed] += 1
                    body = feeds.body(feed)
                    etag = '"' + hashlib.md5(body).hexdigest() + '"'
                    if self.headers.get("If-None-Match") == etag:
                        if feed in feeds.changing:  # the next fetch finds a new item
                            feeds.items[feed] += 1
                        return self.send(304, b"", None, etag)
                return self.send(200, body, "application/rss+xml", etag)
            if len(parts) == 3 and parts[0] == "a":
                text = " ".join(["Lorem ipsum dolor sit amet, consectetur adipiscing elit."] * 8)
                page = ARTICLE.format(n=parts[2], f=parts[1], text=text).encode()
                return self.send(200, page, "text/html; charset=utf-8")
            return self.send(404, b"not found", "text/plain")

        def send(self, status, body, content_type, etag=None):
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def newsarchive(db: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsarchive", "--db", str(db), *args], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, **kwargs)


def baseline(db: Path, base: str, runs: int = 5) -> float:
    """CPU-seconds of one `newsarchive crawl` process polling one unchanged feed (304)."""
    newsarchive(db, "sources", "add", f"{base}/feed/0.xml", check=True)
    newsarchive(db, "crawl", "1", "-s", "LOG_LEVEL=ERROR")  # the first poll fetches it in full
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        newsarchive(db, "crawl", "1", "-s", "LOG_LEVEL=ERROR")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--interval", type=int, default=60, help="seconds between polls of a feed")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--changing", type=float, default=0.05, help="share of feeds with a new item per poll")
    args = parser.parse_args(argv)

    feeds = Feeds(args.feeds, args.changing)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(feeds))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    with tempfile.TemporaryDirectory() as folder:
        per_process = baseline(Path(folder) / "baseline.db", base)
        feeds.hits.clear()
        db = Path(folder) / "engine.db"
        urls = Path(folder) / "feeds.txt"
        urls.write_text("".join(f"{base}/feed/{i}.xml\n" for i in range(args.feeds)))
        register(db, urls, args.interval)
        log = open(Path(folder) / "schedule.log", "wb")
        pinned = [f"NEWSARCHIVE_POLL_MIN_SECONDS={args.interval}", f"NEWSARCHIVE_POLL_MAX_SECONDS={args.interval}",
                  "DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS=64",
                  "CONCURRENT_REQUESTS_PER_DOMAIN=64", "NEWSARCHIVE_EXTRACT_PROCESSES=1"]
        proc = subprocess.Popen([sys.executable, "-m", "newsarchive", "--db", str(db), "schedule", "--workers", "64",
                                 "--log-level", "WARNING", *[a for s in pinned for a in ("-s", s)]],
                                cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=log)
        started = time.monotonic()
        worst_late, rss, steady = 0.0, [], None
        try:
            while (elapsed := time.monotonic() - started) < args.minutes * 60:
                time.sleep(10)
                if proc.poll() is not None:
                    sys.exit(f"the scheduler ended with status {proc.returncode}: see {log.name}")
                with sqlite3.connect(db) as conn:
                    late = conn.execute("SELECT max(last_poll_late_seconds) FROM sources").fetchone()[0] or 0.0
                worst_late = max(worst_late, late)
                if steady is None and elapsed >= args.interval + 10:  # the first round (full fetches) done
                    steady = (time.monotonic(), cpu_seconds(proc.pid), sum(feeds.hits.values()),
                              tree_cpu(proc.pid))
                if int(elapsed // 60) > len(rss) - 1:
                    rss.append(rss_mb(proc.pid))
                    print(f"  minute {len(rss) - 1}: RSS {rss[-1]:.0f} MB, {sum(feeds.hits.values())} polls so far",
                          flush=True)
            end = (time.monotonic(), cpu_seconds(proc.pid), sum(feeds.hits.values()),
                   tree_cpu(proc.pid))
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            server.shutdown()
        if steady is None:
            sys.exit("run longer than one interval (--minutes)")
        polls = end[2] - steady[2]
        if polls <= 0 or end[1] <= steady[1]:
            sys.exit("no steady-state polls measured: run longer (--minutes) or with a shorter --interval")
        per_poll = (end[1] - steady[1]) / max(1, polls)
        with_pool = (end[3] - steady[3]) / max(1, polls)
        due = args.feeds * (args.minutes * 60) / args.interval
        made = sum(feeds.hits.values())
        print(f"feeds {args.feeds}, every {args.interval} s ({1800 / args.interval:.0f}x compressed), "
              f"{args.minutes:g} min, {len(feeds.changing)} with a new item per poll")
        print(f"process per poll (baseline): {per_process * 1000:.0f} ms CPU per unchanged poll")
        print(f"engine: {per_poll * 1000:.1f} ms CPU per poll over {polls} steady-state polls "
              f"(goal <= 20 ms): {per_process / per_poll:.0f}x cheaper; {with_pool * 1000:.1f} ms with the "
              "extraction pool's CPU (the new articles of the changing feeds)")
        print(f"latest poll start: {worst_late:.1f} s after its time (goal <= 60 s)")
        print(f"polls made {made}, due about {due:.0f} (none dropped: every feed polled "
              f"{min(feeds.hits.values())}-{max(feeds.hits.values())} times)")
        print("RSS per minute (MB): " + ", ".join(f"{r:.0f}" for r in rss))


def register(db: Path, urls: Path, interval: int) -> None:
    """`sources add URL...` in chunks (one process per chunk, not per URL)."""
    lines = urls.read_text().split()
    for i in range(0, len(lines), 500):
        newsarchive(db, "sources", "add", "--every", f"{interval}s", *lines[i:i + 500], check=True)


if __name__ == "__main__":
    main()
