"""The scheduler's jobs in-process: following the sources table, hard timeouts, stopping in bounded time."""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import timedelta

import pytest

import scheduler
from archive.db import Database
from archive.models import CrawlRun, Source, utcnow
from archive.sources import add_source, remove_source, set_enabled

LATER = timedelta(hours=1)  # jobs exist but do not fire during the test


@pytest.fixture
def db(sqlite_url):
    database = Database(sqlite_url)
    yield database
    database.dispose()


def make(db, command=scheduler.crawl_command, **config) -> scheduler.Scheduler:
    config = {"sync_seconds": 3600, "max_jitter": 0, "stop_grace": 1, "lease_ttl": 5, **config}
    return scheduler.Scheduler(db, scheduler.SchedulerConfig(**config), command=command)


def add(db, url, **kwargs) -> int:
    with db.transaction() as session:
        source, _ = add_source(session, url, **kwargs)
        source.next_poll_at = utcnow() + LATER
        return source.id


def test_sync_follows_sources_added_changed_disabled_and_removed(db):
    a = add(db, "https://a.example/feed", every=600)
    b = add(db, "https://b.example/feed", every=3600)
    c = add(db, "https://c.example/site", kind="site", cron="*/5 * * * *")
    sched = make(db)
    sched.start()
    try:
        jobs = {job.id: job for job in sched._aps.get_jobs()}
        assert set(jobs) == {"sync", f"source-{a}", f"source-{b}", f"source-{c}"}
        assert jobs[f"source-{a}"].trigger.interval == timedelta(seconds=600)
        assert abs(jobs[f"source-{a}"].next_run_time - (utcnow() + LATER)) < timedelta(seconds=5)
        assert str(jobs[f"source-{c}"].trigger.fields[6]) == "*/5"  # minute field of the cron trigger
        job = jobs[f"source-{a}"]
        assert job.max_instances == 1 and job.coalesce and job.misfire_grace_time == 300

        with db.transaction() as session:
            session.get(Source, a).poll_seconds = 900  # the adaptive interval moved
            set_enabled(session, str(b), False)
        d = add(db, "https://d.example/feed", every=60)
        with db.transaction() as session:
            remove_source(session, "https://c.example/site")
        sched.sync()
        jobs = {job.id: job for job in sched._aps.get_jobs()}
        assert set(jobs) == {"sync", f"source-{a}", f"source-{d}"}
        assert jobs[f"source-{a}"].trigger.interval == timedelta(seconds=900)
    finally:
        sched.stop()


def test_a_bad_cron_expression_is_reported_not_fatal(db, caplog):
    # `sources add` refuses such a line now; an archive written before that may still hold one
    source_id = add(db, "https://x.example/site", kind="site")
    with db.transaction() as session:
        session.get(Source, source_id).cron = "every tuesday"
    sched = make(db)
    sched.start()
    try:
        assert [j.id for j in sched._aps.get_jobs()] == ["sync"]
        assert "not scheduled" in caplog.text
    finally:
        sched.stop()


def stubborn(pidfile):
    """A crawl stand-in that ignores SIGTERM and has a child of its own."""
    code = ("import os, signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            f"open({str(pidfile)!r}, 'w').write(str(child.pid)); time.sleep(60)")
    return lambda source_id, settings: [sys.executable, "-c", code]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie of ours counts as gone
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def test_hard_timeout_kills_the_whole_process_group(db, tmp_path):
    sid = add(db, "https://slow.example/feed")
    pidfile = tmp_path / "grandchild.pid"
    sched = make(db, command=stubborn(pidfile), run_timeout=1.5, stop_grace=0.5)
    started = time.monotonic()
    status = sched.run_crawl(sid)
    assert time.monotonic() - started < 6
    assert status == -9  # SIGTERM ignored, so SIGKILL
    grandchild = int(pidfile.read_text())
    assert scheduler_wait(lambda: gone(grandchild), 5)


def test_stop_ends_in_flight_crawls_within_the_grace_time_and_closes_their_runs(db, tmp_path):
    sid = add(db, "https://slow.example/feed")
    pidfile = tmp_path / "grandchild.pid"
    sched = make(db, command=stubborn(pidfile), stop_grace=1)
    worker = threading.Thread(target=sched.run_crawl, args=(sid,))
    worker.start()
    assert scheduler_wait(lambda: pidfile.exists() and pidfile.read_text(), 10)
    child = sched._children[sid]
    with db.transaction() as session:  # what the crawl process would have written
        session.add(CrawlRun(source_id=sid, pid=child.pid, status="running"))
    started = time.monotonic()
    sched.stop()
    worker.join(timeout=10)
    assert time.monotonic() - started < 5 and not worker.is_alive()
    assert scheduler_wait(lambda: gone(int(pidfile.read_text())), 5)
    with db.session() as session:
        run = session.query(CrawlRun).one()
        assert run.status == "abandoned" and run.finished_at is not None


def scheduler_wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_crawl_that_sets_no_next_poll_waits_one_interval(db):
    """Sitemap and site crawls (or a crashed one) leave next_poll_at alone: no back-to-back runs."""
    sid = add(db, "https://sitemap.example/sitemap.xml", kind="sitemap", every=600)
    with db.transaction() as session:
        session.get(Source, sid).next_poll_at = None
    sched = make(db, command=lambda source_id, settings: [sys.executable, "-c", "pass"])
    sched.start()
    try:
        sched.poll(sid)
        job = sched._aps.get_job(f"source-{sid}")
        assert job.next_run_time - utcnow() > timedelta(seconds=590)
    finally:
        sched.stop()
