"""Helpers of the worker tests: a loopback news site that counts and times every request, the
test's own Redis queue (a dedicated db index, a key prefix per test), and worker processes.

The site is served by a thread of the test process (the workers are processes of their own), on an
ephemeral 127.0.0.1 port: robots.txt, /feed.xml listing every article, and N article pages, each
with text of its own (random words, so no two are near-duplicates).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("NEWSARCHIVE_TEST_REDIS", "redis://127.0.0.1:6379/11")
WORDS = ("council budget river bridge mayor vote school market weather harbour train station museum "
         "festival minister court judge police hospital doctor nurse farmer harvest wine bread street "
         "square church castle forest mountain lake village city region country border trade factory "
         "worker union strike salary price energy solar wind coal gas water flood storm snow summer "
         "winter spring autumn history library teacher student exam report study science research").split()


def article_html(index: int, rng: random.Random) -> bytes:
    sentences = [" ".join(rng.choices(WORDS, k=14)).capitalize() + "." for _ in range(10)]
    body = "".join(f"<p>{' '.join(sentences[i:i + 2])}</p>" for i in range(0, 10, 2))
    return (f"<html lang='en'><head><title>Story {index}</title></head><body><article><h1>Story {index}: "
            f"{rng.choice(WORDS)} {rng.choice(WORDS)}</h1>{body}</article></body></html>").encode()


class NewsSite:
    """``count`` articles on loopback; ``hits`` per path, ``times`` of every request (monotonic),
    ``answered`` per path; ``slow``: paths answered only after that many seconds."""

    def __init__(self, count: int, *, seed: int = 7, slow: dict[str, float] | None = None):
        rng = random.Random(seed)
        self.paths = [f"/news/{i // 50}/story-{i}.html" for i in range(count)]
        self.pages = {path: article_html(i, rng) for i, path in enumerate(self.paths)}
        self.hits: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.slow = slow or {}
        self.times: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.pages["/feed.xml"] = self._feed()
        self.pages["/robots.txt"] = b"User-agent: *\nAllow: /\n"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def feed_url(self) -> str:
        return f"{self.base}/feed.xml"

    def _feed(self) -> bytes:
        items = "".join(f"<item><title>{p}</title><link>{self.base}{p}</link></item>" for p in self.paths)
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>{items}'
                "</channel></rss>").encode()

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # noqa: A002 - the base class's name
                return

            def do_GET(self):
                with site.lock:
                    site.hits[self.path] += 1
                    site.times.append((time.monotonic(), self.path))
                body = site.pages.get(self.path)
                time.sleep(site.slow.get(self.path, 0))
                self.send_response(200 if body is not None else 404)
                kind = "application/rss+xml" if self.path.endswith(".xml") else "text/html; charset=utf-8"
                self.send_header("Content-Type", kind if self.path != "/robots.txt" else "text/plain")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")
                with site.lock:
                    site.answered[self.path] += 1

        return Handler

    def article_hits(self) -> Counter[str]:
        with self.lock:
            return Counter({path: self.hits[path] for path in self.paths if self.hits[path]})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ScratchQueue:
    """The test's keys on the test Redis: a prefix of its own; ``clear`` deletes only them."""

    def __init__(self):
        self.url = REDIS_URL
        self.prefix = f"natest-{uuid.uuid4().hex[:10]}"
        self.client = redis.Redis.from_url(self.url)

    @property
    def requests_key(self) -> str:
        return f"{self.prefix}:requests"

    def env(self) -> dict[str, str]:
        return {"NEWSARCHIVE_QUEUE": self.url, "NEWSARCHIVE_QUEUE_PREFIX": self.prefix}

    def clear(self) -> None:
        keys = list(self.client.scan_iter(f"{self.prefix}:*"))
        if keys:
            self.client.delete(*keys)


FAST_WORKER = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "NEWSARCHIVE_HEARTBEAT_SECONDS": "1",
               "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}


class Worker:
    """A `newsarchive worker` process (its own process group: its extraction pool goes with it)."""

    def __init__(self, db_url: str, queue: ScratchQueue, log: Path, *, settings: dict[str, str] | None = None,
                 requeue: str = "1s"):
        self.log = log
        args = [arg for name, value in {**FAST_WORKER, **(settings or {})}.items() for arg in ("-s", f"{name}={value}")]
        env = {**os.environ, "NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS": "1", **queue.env()}
        self.out = open(log, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "newsarchive", "--db", db_url, "worker",
                                      f"--requeue-every={requeue}", "--stop-grace=10s", *args],
                                     cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def text(self) -> str:
        return self.log.read_text()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "taking work" not in self.text:
            assert self.proc.poll() is None, f"worker exited {self.proc.returncode}:\n{self.text}"
            assert time.monotonic() < deadline, f"worker not ready:\n{self.text}"
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL, the worker and its extraction pool: nothing it held is given back."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self.out.close()

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever it left behind
        except ProcessLookupError:
            pass
        self.out.close()
        return self.proc.returncode


def crawl_and_wait(db_url: str, queue: ScratchQueue, *args: str) -> subprocess.Popen:
    """`crawl --queue --wait` started in the background (the test acts on the workers meanwhile)."""
    env = {**os.environ, "NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS": "1", **queue.env()}
    return subprocess.Popen([sys.executable, "-m", "newsarchive", "--db", db_url, "crawl", "--wait", "--json", *args],
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
