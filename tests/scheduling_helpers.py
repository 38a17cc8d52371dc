"""Helpers for the scheduler tests: demo feeds of N items, a scheduler process, bounded waits."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from archive.models import Article, Revision

ROOT = Path(__file__).resolve().parents[1]
DEMO_FEED = (ROOT / "newsarchive" / "demo" / "site" / "feed.xml").read_text(encoding="utf-8")
ITEMS = re.findall(r"<item>.*?</item>", DEMO_FEED, re.S)
FAST_CRAWL = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "NEWSARCHIVE_POLL_MIN_SECONDS": "1",
              "NEWSARCHIVE_POLL_MAX_SECONDS": "3", "LOG_LEVEL": "INFO"}


def feed_with(count: int) -> str:
    """The demo feed with its first `count` items and no <ttl>/sy: hints (they would slow polls down)."""
    head, _, _ = DEMO_FEED.partition("<item>")
    head = re.sub(r"\s*<(ttl|sy:updatePeriod|sy:updateFrequency)>.*?</\1>", "", head)
    return head + "\n".join(ITEMS[:count]) + "\n  </channel>\n</rss>\n"


def wait_for(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start_scheduler(db_url: str, log: Path, *extra: str, settings: dict | None = None) -> subprocess.Popen:
    argv = [sys.executable, str(ROOT / "scheduler.py"), "--db", db_url, "--sync-every", "1s", "--lease-ttl", "3s",
            "--max-jitter", "0", "--stop-grace", "5s", "--misfire-grace", "30s", *extra]
    for name, value in {**FAST_CRAWL, **(settings or {})}.items():
        argv += ["-s", f"{name}={value}"]
    env = dict(os.environ, NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS="1")
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("ab"))


def stop(proc: subprocess.Popen, timeout: float = 20) -> int:
    """SIGTERM, and the exit status it ends with (SIGKILL and fail if it takes too long)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"process {proc.pid} ignored SIGTERM for {timeout} s")


def counts(db) -> tuple[int, int]:
    with db.session() as session:
        return (session.scalar(select(func.count(Article.id))), session.scalar(select(func.count(Revision.id))))
