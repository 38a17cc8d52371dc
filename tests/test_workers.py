"""Workers of the shared queue, for real: Redis, PostgreSQL, `newsarchive worker` processes and a
loopback news site. Every article archived exactly once whichever worker fetched it, also when a
worker is killed with SIGKILL mid-crawl or Redis is emptied mid-crawl."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from archive.db import Database
from archive.models import Article, CrawlRun, FrontierURL, RawPage, Revision
from tests.clirun import run_cli
from tests.worker_helpers import NewsSite, ScratchQueue, Worker, crawl_and_wait

pytestmark = pytest.mark.timeout(300)

PAGES = 500


@pytest.fixture
def queue():
    scratch = ScratchQueue()
    yield scratch
    scratch.clear()


@pytest.fixture
def news():
    site = NewsSite(PAGES)
    yield site
    site.close()


@pytest.fixture
def slow_news():
    # each page answered in 0.15 s: one worker alone needs about 9 s for them all, longer than the
    # 5 s an idle Scrapy engine waits before it looks at the queue again, so both take part
    site = NewsSite(PAGES)
    site.slow = dict.fromkeys(site.paths, 0.15)
    yield site
    site.close()


@pytest.fixture
def workers(pg_url, queue, tmp_path):
    started: list[Worker] = []

    def start(count: int = 1, **kwargs) -> list[Worker]:
        new = [Worker(pg_url, queue, tmp_path / f"worker-{len(started) + i}.log", **kwargs) for i in range(count)]
        started.extend(new)
        for worker in new:
            worker.wait_ready()
        return new

    yield start
    for worker in started:
        worker.stop()


def archived(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Article)) or 0)


def wait_for_archived(db: Database, count: int, waiter, timeout: float = 200) -> None:
    deadline = time.monotonic() + timeout
    while archived(db) < count:
        assert waiter.poll() is None, waiter.communicate()
        assert time.monotonic() < deadline, f"only {archived(db)} archived"
        time.sleep(0.1)


def finish(waiter, timeout: float = 240) -> dict:
    out, err = waiter.communicate(timeout=timeout)
    assert waiter.returncode == 0, out + err
    return json.loads(out)


def assert_each_archived_once(db: Database, site: NewsSite) -> None:
    with db.session() as session:
        urls = set(session.scalars(select(Article.canonical_url)))
        assert urls == {site.base + path for path in site.paths}
        assert session.scalar(select(func.count()).select_from(Revision)) == PAGES
        assert session.scalar(select(func.max(Article.revision_count))) == 1
        assert session.scalar(select(func.count()).select_from(RawPage)) == PAGES
        states = dict(session.execute(select(FrontierURL.state, func.count()).group_by(FrontierURL.state)).all())
        assert states == {"done": PAGES}
        unclaimed = select(func.count()).select_from(FrontierURL).where(FrontierURL.claimed_by.is_not(None))
        assert session.scalar(unclaimed) == 0


def worker_runs(db: Database) -> list[CrawlRun]:
    with db.session() as session:
        return list(session.scalars(select(CrawlRun).where(CrawlRun.role == "worker").order_by(CrawlRun.id)))


def stats_when(pg_url: str, queue: ScratchQueue, ready, timeout: float = 30) -> dict:
    """`stats --json` once ``ready(report)`` (the workers' heartbeats bring their figures)."""
    deadline = time.monotonic() + timeout
    while True:
        result = run_cli(pg_url, "stats", "--json", env=queue.env())
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        if ready(report) or time.monotonic() > deadline:
            return report
        time.sleep(0.5)


def add_feed(pg_url: str, site: NewsSite) -> None:
    result = run_cli(pg_url, "sources", "add", site.feed_url)
    assert result.returncode == 0, result.stderr


def test_two_workers_share_a_crawl_and_archive_each_page_once(pg_url, queue, slow_news, workers):
    news = slow_news
    db = Database(pg_url)
    add_feed(pg_url, news)
    pair = workers(2)
    run = finish(crawl_and_wait(pg_url, queue))
    assert run["status"] == "ok" and run["new_articles"] == PAGES
    assert_each_archived_once(db, news)
    assert set(news.article_hits().values()) == {1}  # each page fetched once, by one of them
    shown = stats_when(pg_url, queue, lambda report: sum(w["pages_archived"] for w in report["workers"]) == PAGES)
    assert sorted(w["pid"] for w in shown["workers"]) == sorted(w.proc.pid for w in pair)
    assert all(w["alive"] and w["host"] and w["heartbeat"] and w["pages_per_second"] > 0 for w in shown["workers"])
    assert shown["queue"]["depth"] == 0 and shown["claims"] == {"held": 0, "expired": 0, "oldest": None}
    for worker in pair:
        assert worker.stop() == 0
    figures = [r.new_articles for r in worker_runs(db)]
    assert len(figures) == 2 and all(f > 0 for f in figures) and sum(figures) == PAGES, figures
    assert all(r.status == "ok" for r in worker_runs(db))


def test_a_worker_killed_mid_crawl_loses_nothing(pg_url, queue, news, workers):
    db = Database(pg_url)
    add_feed(pg_url, news)
    claims = {"NEWSARCHIVE_CLAIM_SECONDS": "4"}
    doomed, survivor = workers(2, settings=claims)
    waiter = crawl_and_wait(pg_url, queue)
    wait_for_archived(db, 100, waiter)
    doomed.kill()
    assert archived(db) < PAGES, "the crawl ended before the kill: nothing was tested"
    finish(waiter)
    assert_each_archived_once(db, news)
    assert survivor.proc.poll() is None
    with db.session() as session:
        integrity = session.scalar(select(func.count()).select_from(Article).where(
            ~select(Revision.id).where(Revision.article_id == Article.id).exists()))
    assert integrity == 0  # every article has its text


def test_an_emptied_redis_is_seeded_again_from_the_frontier(pg_url, queue, news, workers):
    db = Database(pg_url)
    add_feed(pg_url, news)
    pair = workers(2)
    waiter = crawl_and_wait(pg_url, queue)
    wait_for_archived(db, 100, waiter)
    queue.client.flushdb()  # the test's own db index: what FLUSHDB or a restart without persistence does
    assert archived(db) < PAGES, "the crawl ended before the flush: nothing was tested"
    finish(waiter)
    assert_each_archived_once(db, news)
    assert any("the queue was emptied" in worker.text for worker in pair)
