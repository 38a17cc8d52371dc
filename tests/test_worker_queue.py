"""The shared queue's entries and the workers around it: JSON only (a forged pickle or a malformed
entry is dropped with one log line and runs no code), workers starting at once on a fresh
PostgreSQL archive, a worker older than the schema refusing to start, and one site's delay held
across workers."""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

import pytest
import scrapy
from sqlalchemy import create_engine, text

from crawler.queue import jsonrequests
from crawler.queue.jsonrequests import MalformedEntry
from crawler.queue.link import QueueError, connect, mask, queue_url
from crawler.queue.push import depth, push_polls
from crawler.queue.scheduler import JsonPriorityQueue
from tests.clirun import ROOT, run_cli
from tests.conftest import PG_ADMIN_URL
from tests.worker_helpers import FAST_WORKER, NewsSite, ScratchQueue, Worker, crawl_and_wait

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def queue():
    scratch = ScratchQueue()
    yield scratch
    scratch.clear()


class Spider(scrapy.Spider):
    name = "engine"

    def parse_article(self, response):
        return None

    def article_failed(self, failure):
        return None


# -- the serializer and the queue, on real Redis ----------------------------------------------------

def test_a_request_goes_through_the_queue_as_json_and_comes_back_whole(queue):
    spider = Spider()
    fifo = JsonPriorityQueue(queue.client, spider, queue.requests_key, jsonrequests)
    when = datetime(2024, 11, 12, 18, 40, tzinfo=timezone.utc)
    request = scrapy.Request("https://example.org/a?x=1", callback=spider.parse_article, errback=spider.article_failed,
                             headers={"If-None-Match": '"abc"'}, body=b"\x00\xffraw", priority=3,
                             cb_kwargs={"source_id": 4, "feed_date": when}, meta={"redirect_urls": ("a", "b")})
    fifo.push(request)
    stored = queue.client.zrange(queue.requests_key, 0, -1)[0]
    assert stored.startswith(b"{") and b"example.org" in stored  # JSON, readable
    back = fifo.pop()
    assert (back.url, back.body, back.priority) == (request.url, request.body, 3)
    assert back.callback == spider.parse_article and back.errback == spider.article_failed
    assert back.cb_kwargs == {"source_id": 4, "feed_date": when}
    assert back.headers.get("If-None-Match") == b'"abc"'
    assert back.meta["redirect_urls"] == ["a", "b"]


class Explodes:
    """Unpickling it would create a file: what an attacker with write access to Redis would try."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_forged_and_malformed_entries_are_dropped_and_logged_and_run_nothing(queue, tmp_path, caplog):
    marker = tmp_path / "pwned"
    spider = Spider()
    entries = [
        pickle.dumps({"url": "https://example.org/", "x": Explodes(str(marker))}),  # the old default serializer
        b"{not json",
        b'{"url": "https://example.org/", "callback": "closed"}',  # a method that is no callback
        b'{"url": "https://example.org/", "_class": "subprocess.Popen"}',
        b'{"url": "https://example.org/", "body": {"$b": "!!notbase64"}}',
        b'["url"]',
        b"\xff\xfe",
    ]
    for score, entry in enumerate(entries):
        queue.client.zadd(queue.requests_key, {entry: -100 + score})
    fifo = JsonPriorityQueue(queue.client, spider, queue.requests_key, jsonrequests)
    good = scrapy.Request("https://example.org/good", callback=spider.parse_article)
    fifo.push(good)
    with caplog.at_level("WARNING", logger="crawler.queue.scheduler"):
        popped = fifo.pop()
    assert popped is not None and popped.url == good.url  # the worker goes on past them
    dropped = [r.getMessage() for r in caplog.records if "malformed queue entry" in r.getMessage()]
    assert len(dropped) == len(entries) and all("\n" not in line for line in dropped)
    assert not marker.exists()
    assert len(fifo) == 0


def test_meta_that_changes_how_a_page_is_fetched_is_not_taken_from_the_queue(queue):
    spider = Spider()
    forged = (b'{"url": "https://example.org/", "callback": "parse_article", "meta": {"proxy": "http://evil:3128",'
              b' "dont_obey_robotstxt": true, "download_maxsize": 0, "retry_times": 1}}')
    queue.client.zadd(queue.requests_key, {forged: 0})
    popped = JsonPriorityQueue(queue.client, spider, queue.requests_key, jsonrequests).pop()
    assert popped.url == "https://example.org/" and popped.meta == {"retry_times": 1}


def test_loads_refuses_what_is_not_a_request():
    for data in (b"null", b"{}", b'{"url": 3}', b"[1]", b"1" * (jsonrequests.MAX_ENTRY + 1)):
        with pytest.raises(MalformedEntry):
            jsonrequests.loads(data)


def test_a_running_worker_drops_forged_entries_and_goes_on(pg_url, queue, tmp_path):
    marker = tmp_path / "pwned"
    site = NewsSite(5)
    worker = Worker(pg_url, queue, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        queue.client.zadd(queue.requests_key, {pickle.dumps(Explodes(str(marker))): -500, b"{oops": -499,
                                               b'{"url": "http://127.0.0.1:1/", "callback": "start"}': -498})
        assert run_cli(pg_url, "sources", "add", site.feed_url).returncode == 0
        waiter = crawl_and_wait(pg_url, queue)
        out, err = waiter.communicate(timeout=120)
        assert waiter.returncode == 0, out + err
        assert worker.proc.poll() is None
        assert worker.text.count("dropped a malformed queue entry") == 3, worker.text
        assert not marker.exists()
        assert len(site.article_hits()) == 5
    finally:
        worker.stop()
        site.close()


class FeedSpider(scrapy.Spider):
    name = "engine"

    def parse_feed(self, response, source_id):
        return None

    def feed_failed(self, failure):
        return None


def _last_error(db_url: str, url: str, timeout: float = 60) -> str:
    engine = create_engine(db_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                error = conn.execute(text("SELECT last_error FROM sources WHERE url = :url"), {"url": url}).scalar()
            if error:
                return error
            time.sleep(0.2)
    finally:
        engine.dispose()
    raise AssertionError(f"no poll of {url} recorded")


def _source_id(db_url: str, url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        source_id = conn.execute(text("SELECT id FROM sources WHERE url = :url"), {"url": url}).scalar_one()
    engine.dispose()
    return source_id


def test_a_queued_poll_keeps_its_time_limit_in_a_worker(pg_url, queue, tmp_path):
    """A poll order's limit (the scheduler's --timeout) holds in a worker: a feed that stalls is cut at
    the limit and recorded as failed, not left to the download timeout (30 s here); a poll
    request popped after its deadline is dropped unfetched and recorded as timed out."""
    site = NewsSite(3, slow={"/feed.xml": 45})
    stalled, late = site.feed_url, f"{site.base}/news/0/story-0.html"
    worker = Worker(pg_url, queue, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        assert run_cli(pg_url, "sources", "add", stalled, late).returncode == 0
        push_polls(queue.url, [(_source_id(pg_url, stalled), stalled)], queue.prefix, timeout=2)
        error = _last_error(pg_url, stalled)
        with site.lock:
            assert site.hits["/feed.xml"] == 1 and site.answered["/feed.xml"] == 0  # cut while it stalls
        assert "took longer than" in error, error

        late_id = _source_id(pg_url, late)
        poll = scrapy.Request(late, callback=FeedSpider().parse_feed, cb_kwargs={"source_id": late_id},
                              dont_filter=True, meta={"newsarchive_poll": late_id, "newsarchive_poll_deadline":
                                                      {"deadline": time.time() - 1, "seconds": 5}})
        JsonPriorityQueue(queue.client, FeedSpider(), queue.requests_key, jsonrequests).push(poll)
        assert _last_error(pg_url, late) == "poll timed out after 5 s"
        assert site.hits["/news/0/story-0.html"] == 0
        assert "Traceback" not in worker.text
    finally:
        worker.stop()
        site.close()


# -- the queue URL ----------------------------------------------------------------------------------

def test_queue_urls_are_checked_and_their_passwords_never_shown(monkeypatch):
    monkeypatch.delenv("NEWSARCHIVE_QUEUE", raising=False)
    assert queue_url(None) is None
    monkeypatch.setenv("NEWSARCHIVE_QUEUE", "rediss://:s3cret@queue.example:6380/2")
    assert queue_url(None) == "rediss://:s3cret@queue.example:6380/2"
    assert "s3cret" not in mask(queue_url(None))
    with pytest.raises(QueueError) as refused:
        queue_url("http://user:s3cret@host/")
    assert "s3cret" not in str(refused.value)
    with pytest.raises(QueueError) as down:
        connect("redis://:s3cret@127.0.0.1:1/0", check=True)
    assert "s3cret" not in str(down.value) and "could not be reached" in str(down.value)


def test_worker_and_crawl_refuse_a_bad_queue_in_one_line(sqlite_url):
    for args in (["worker"], ["crawl", "--wait"]):
        result = run_cli(sqlite_url, *args, env={"NEWSARCHIVE_QUEUE": ""})
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    result = run_cli(sqlite_url, "worker", "--queue", "redis://:hunter2@127.0.0.1:1/0")
    assert result.returncode == 1 and "hunter2" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_crawl_with_a_queue_queues_poll_orders(sqlite_url, queue):
    assert run_cli(sqlite_url, "sources", "add", "http://127.0.0.1:9/feed.xml").returncode == 0
    result = run_cli(sqlite_url, "crawl", "--queue", queue.url, env={"NEWSARCHIVE_QUEUE_PREFIX": queue.prefix})
    assert result.returncode == 0 and "queued 1 poll(s)" in result.stdout, result.stderr
    assert depth(queue.url, queue.prefix) == 1
    push_polls(queue.url, [(5, "http://127.0.0.1:9/other.xml")], queue.prefix)
    assert depth(queue.url, queue.prefix) == 2


def test_crawl_wait_timeout_gives_up_in_one_line_and_leaves_the_polls_queued(sqlite_url, queue):
    assert run_cli(sqlite_url, "sources", "add", "http://127.0.0.1:9/feed.xml").returncode == 0
    result = run_cli(sqlite_url, "crawl", "--wait-timeout", "2s", env=queue.env())  # no worker runs
    assert result.returncode == 1, result.stdout + result.stderr
    assert "gave up waiting for the workers after 2 s: 1 poll(s), 0 page(s) left, still queued" in result.stderr
    assert "Traceback" not in result.stderr
    assert depth(queue.url, queue.prefix) == 1  # still there for the workers
    stats = json.loads(run_cli(sqlite_url, "stats", "--json").stdout)
    assert stats["runs"][0]["status"] == "failed" and "gave up waiting" in stats["runs"][0]["error"]
    bad = run_cli(sqlite_url, "crawl", "--wait-timeout", "soon", env=queue.env())
    assert bad.returncode == 2 and "not a duration: 'soon'" in bad.stderr


# -- migrations and schema ---------------------------------------------------------------------------

@pytest.fixture
def fresh_pg():
    name = f"newsarchive_fresh_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_workers_starting_at_once_on_a_fresh_archive_do_not_race_on_migrations(fresh_pg, queue, tmp_path):
    crowd = [Worker(fresh_pg, queue, tmp_path / f"w{i}.log") for i in range(3)]
    try:
        for worker in crowd:
            worker.wait_ready(90)  # each migrated, or waited for the one that did, then started
    finally:
        statuses = [worker.stop() for worker in crowd]
    assert statuses == [0, 0, 0], [w.text for w in crowd]
    engine = create_engine(fresh_pg)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM crawl_runs WHERE role = 'worker'")).scalar() == 3
    engine.dispose()


def test_a_worker_older_than_the_schema_refuses_to_start_in_one_line(fresh_pg, queue):
    assert run_cli(fresh_pg, "stats").returncode == 0  # migrated
    engine = create_engine(fresh_pg)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'z99_from_the_future'"))
    engine.dispose()
    result = run_cli(fresh_pg, "worker", env=queue.env())
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "newer than this newsarchive knows" in lines[0], result.stderr


# -- politeness across workers ----------------------------------------------------------------------

def test_two_workers_on_one_site_keep_its_delay_between_them(pg_url, queue, tmp_path):
    delay = 0.4
    site = NewsSite(12)
    settings = {"DOWNLOAD_DELAY": str(delay)}
    pair = [Worker(pg_url, queue, tmp_path / f"w{i}.log", settings=settings) for i in range(2)]
    try:
        for worker in pair:
            worker.wait_ready()
        assert run_cli(pg_url, "sources", "add", site.feed_url).returncode == 0
        waiter = crawl_and_wait(pg_url, queue)
        out, err = waiter.communicate(timeout=180)
        assert waiter.returncode == 0, out + err
    finally:
        for worker in pair:
            worker.stop()
        site.close()
    with site.lock:
        times = sorted(t for t, _path in site.times)
    assert len(times) >= 14  # robots.txt, the feed, 12 articles
    gaps = [b - a for a, b in zip(times, times[1:])]
    # one site, one pace, whichever worker fetched: never faster than one Scrapy process with that
    # delay (it spaces its requests 0.5 to 1.5 times the delay), and the delay apart as a rule
    assert min(gaps) >= delay * 0.5, gaps
    assert statistics.median(gaps) >= delay * 0.9, gaps
    texts = [worker.text for worker in pair]
    assert all("Traceback" not in t for t in texts)


@pytest.fixture
def hung_redis():
    """A port that accepts connections and never answers: a Redis that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    threading.Thread(target=lambda: [held.append(server.accept()) for _ in range(16)], daemon=True).start()
    yield server.getsockname()[1]
    for conn, _ in held:
        conn.close()
    server.close()


def _probe(port: int, db: int, prefix: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "tests.politeness_probe", str(port), str(db), prefix], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_a_hung_queue_holds_up_neither_the_reactor_nor_the_sites_delay(hung_redis):
    probe = _probe(hung_redis, 0, "probe:")
    # the first request waited for Redis (1 s socket timeout) while the reactor went on ticking
    assert probe["ticks_during_first"] >= 10, probe
    gaps = [b - a for a, b in zip(probe["released"], probe["released"][1:])]
    assert min(gaps) >= 0.3 * 0.9, gaps  # unshared, the worker keeps the delay on its own
    assert probe["stats"].get("newsarchive/politeness_unshared") == 1, probe  # Redis not asked again at once


def test_a_reachable_queue_spaces_one_sites_requests_through_redis(queue):
    probe = _probe(queue.client.connection_pool.connection_kwargs["port"],
                   queue.client.connection_pool.connection_kwargs["db"], f"{queue.prefix}:slot:")
    gaps = [b - a for a, b in zip(probe["released"], probe["released"][1:])]
    assert min(gaps) >= 0.3 * 0.9, gaps
    assert "newsarchive/politeness_unshared" not in probe["stats"], probe
    assert probe["stats"].get("newsarchive/politeness_waits") == 2, probe


def test_the_worker_command_has_help():
    result = subprocess.run([sys.executable, "-m", "newsarchive", "worker", "--help"], cwd=ROOT,
                            capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert result.returncode == 0 and "--processes" in result.stdout and "Example:" in result.stdout


def test_processes_starts_that_many_workers_and_sigterm_ends_them_all(pg_url, queue, tmp_path):
    env = {**os.environ, "NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS": "1", **queue.env()}
    args = [a for name, value in FAST_WORKER.items() for a in ("-s", f"{name}={value}")]
    log = open(tmp_path / "supervisor.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "newsarchive", "--db", pg_url, "worker", "--processes", "2", *args],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while (tmp_path / "supervisor.log").read_text().count("taking work") < 2:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "supervisor.log").read_text()
            time.sleep(0.2)
        shown = run_cli(pg_url, "stats", "--json", env=queue.env())
        workers = json.loads(shown.stdout)["workers"]
        pids = {w["pid"] for w in workers}
        assert len(workers) == 2 and len(pids) == 2 and proc.pid not in pids
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, (tmp_path / "supervisor.log").read_text()
        after = json.loads(run_cli(pg_url, "stats", "--json").stdout)
        assert after["workers"] == []  # both closed their runs
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
