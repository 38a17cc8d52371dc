"""The scheduler: polls every enabled source on its own schedule, for months, unattended.

    python scheduler.py [--db URL] [options]      (same as `newsarchive schedule`)

* One APScheduler job per enabled source, read from the archive's ``sources`` table: an
  interval (the adaptive ``poll_seconds``, else ``every_seconds``) whose next run follows the
  source's ``next_poll_at`` (adaptive polling, backoff, Retry-After: archive/polling.py), or a
  crontab expression (``Source.cron``). A sync job re-reads the table every ``sync_seconds``
  (60), so sources added, changed, disabled or removed are picked up within a minute.
* Each poll is its own process (``python -m newsarchive crawl SOURCE_ID``: a Twisted reactor
  cannot restart) in its own process group, with a hard timeout (SIGTERM to the group, then
  SIGKILL). ``max_instances=1`` (a slow site never piles up), ``coalesce=True``, a misfire
  grace time, and jitter (at most 10% of the interval, capped at ``max_jitter``).
* One scheduler per archive: a lease row (archive/lease.py) renewed every ttl/3. A second
  scheduler refuses to start (or, with ``standby``, waits) and takes over once the first one's
  lease expires; a scheduler that loses its lease stops.
* SIGTERM/SIGINT: no new runs; in-flight crawls get SIGTERM (Scrapy closes gracefully), and
  SIGKILL after ``stop_grace`` seconds; their runs are closed; the lease is released. A second
  signal kills the crawls at once. Articles a killed crawl had not archived stay in the
  frontier and are fetched by the next run.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from typing import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from archive import lease, runs
from archive.db import Database
from archive.models import CrawlRun, Source, utcnow
from archive.sources import format_interval, list_sources
from newsarchive.progress import progress

logger = logging.getLogger("newsarchive.scheduler")

SYNC_JOB = "sync"


class LeaseHeld(RuntimeError):
    """Another scheduler holds this archive's lease."""


@dataclass
class SchedulerConfig:
    sync_seconds: float = 60.0  # how soon source changes are picked up
    run_timeout: float = 3600.0  # hard limit on one crawl process
    stop_grace: float = 20.0  # SIGTERM -> SIGKILL, at shutdown and on timeout
    lease_ttl: float = lease.DEFAULT_TTL
    misfire_grace: float = 300.0
    max_jitter: float = 30.0
    max_workers: int = 4  # crawls running at the same time
    standby: bool = False  # wait for the lease instead of refusing to start
    crawl_settings: dict[str, str] = field(default_factory=dict)  # -s NAME=VALUE for every crawl


def crawl_command(source_id: int, settings: dict[str, str]) -> list[str]:
    """The crawl process for one source. Its database URL and settings go in its environment
    (run_crawl), never in argv, which `ps` shows to every user of the machine."""
    return [sys.executable, "-m", "newsarchive", "crawl", str(source_id)]


def cron_trigger(expression: str, jitter: float | None = None) -> CronTrigger:
    """A crontab line (minute hour day month day-of-week) as a UTC trigger."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 crontab fields, got {len(fields)}: {expression!r}")
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week,
                       timezone=timezone.utc, jitter=jitter)


class Scheduler:
    def __init__(self, db: Database, config: SchedulerConfig | None = None, *,
                 command: Callable[[int, dict[str, str]], list[str]] = crawl_command):
        self.db = db
        self.config = config or SchedulerConfig()
        self.command = command
        self.holder = lease.new_holder()
        self.stopping = threading.Event()
        self._force = threading.Event()
        self._lock = threading.Lock()
        self._children: dict[int, subprocess.Popen] = {}  # source id -> its running crawl
        self._busy: set[int] = set()  # sources whose job runs now: the sync leaves them alone
        self._scheduled: dict[int, tuple] = {}  # source id -> what its job was built from
        self._last_renewal = 0.0
        self._aps = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(self.config.max_workers), SYNC_JOB: ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(self.config.misfire_grace)},
            timezone=timezone.utc,
        )

    # -- lease -------------------------------------------------------------------------------
    def acquire_lease(self) -> None:
        if lease.acquire(self.db, self.holder, ttl=self.config.lease_ttl):
            self._last_renewal = time.monotonic()
            logger.info("holding the scheduler lease of %s as %s", self.db.safe_url, self.holder)
            return
        held = lease.current(self.db)
        raise LeaseHeld(f"another scheduler runs this archive: {held.describe() if held else 'unknown'}; "
                        f"it is taken over automatically once its lease expires (--standby waits for that)")

    def wait_for_lease(self) -> bool:
        """Standby: retry until the lease is ours (True) or we are told to stop (False)."""
        announced = False
        while not self.stopping.is_set():
            try:
                self.acquire_lease()
                return True
            except LeaseHeld as exc:
                if not announced:
                    logger.info("standing by: %s", exc)
                    announced = True
            self.stopping.wait(max(0.2, self.config.lease_ttl / 3))
        return False

    def heartbeat(self) -> bool:
        """Renew the lease; False when it was lost (taken over, or unreachable for a whole ttl)."""
        try:
            if lease.renew(self.db, self.holder, ttl=self.config.lease_ttl):
                self._last_renewal = time.monotonic()
                return True
            logger.error("the scheduler lease was taken over by %s: stopping", getattr(lease.current(self.db), "holder", "?"))
            return False
        except SQLAlchemyError as exc:
            if time.monotonic() - self._last_renewal < self.config.lease_ttl:
                logger.warning("could not renew the scheduler lease (will retry): %s", str(exc).splitlines()[0])
                return True
            logger.error("could not renew the scheduler lease for %.0f s: stopping", self.config.lease_ttl)
            return False

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        closed = runs.abandon_dead_runs(self.db)
        if closed:
            logger.info("closed %d run(s) left running by a dead process: %s", len(closed), closed)
        self._aps.start()
        self.sync()  # every source has its job before start() returns
        self._aps.add_job(self.sync, IntervalTrigger(seconds=self.config.sync_seconds, timezone=timezone.utc),
                          id=SYNC_JOB, name="sync sources", executor=SYNC_JOB, misfire_grace_time=None)

    def serve(self) -> int:
        """Run until SIGTERM/SIGINT or the lease is lost; returns the exit status."""
        self._install_signal_handlers()
        if self.config.standby:
            if not self.wait_for_lease():
                return 0
        else:
            self.acquire_lease()
        status = 0
        try:
            self.start()
            while not self.stopping.wait(max(0.2, self.config.lease_ttl / 3)):
                if not self.heartbeat():
                    status = 1
                    break
        finally:
            self.stop()  # whatever happened: children ended, lease released
        return status

    def stop(self) -> None:
        """Stop launching runs, end in-flight ones within stop_grace seconds, release the lease."""
        self.stopping.set()
        logger.info("stopping: no new runs")
        if self._aps.running:
            self._aps.shutdown(wait=False)
        with self._lock:
            children = dict(self._children)
        if children:
            logger.info("ending %d in-flight crawl(s) (SIGTERM, SIGKILL after %.0f s)",
                        len(children), self.config.stop_grace)
        for proc in children.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + self.config.stop_grace
        for proc in children.values():
            self._wait_or_kill(proc, deadline)
        if children:
            runs.abandon_dead_runs(self.db, pids={p.pid for p in children.values()})
        try:
            if lease.release(self.db, self.holder):
                logger.info("released the scheduler lease")
        except SQLAlchemyError as exc:
            logger.warning("could not release the lease (it expires by itself): %s", str(exc).splitlines()[0])
        logger.info("scheduler stopped")

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def handle(signum, _frame):
            if self.stopping.is_set():
                logger.warning("second %s: killing in-flight crawls now", signal.Signals(signum).name)
                self._force.set()
            else:
                logger.info("%s received", signal.Signals(signum).name)
                self.stopping.set()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def _wait_or_kill(self, proc: subprocess.Popen, deadline: float) -> None:
        while proc.poll() is None and time.monotonic() < deadline and not self._force.is_set():
            time.sleep(0.05)
        if proc.poll() is None:
            logger.warning("crawl pid %d did not end in time: SIGKILL", proc.pid)
            _signal_group(proc, signal.SIGKILL)
            proc.wait()

    # -- jobs --------------------------------------------------------------------------------
    def sync(self) -> None:
        """Bring the jobs in line with the sources table."""
        if self.stopping.is_set():
            return
        with self.db.session() as session:
            sources = list_sources(session, enabled_only=True)
        wanted = {s.id for s in sources}
        for source_id in [sid for sid in self._scheduled if sid not in wanted]:
            self._unschedule(source_id, "removed or disabled")
        first = not self._scheduled
        items = progress(sources, desc="scheduling sources", log=logger, every=5.0) if first and sources else sources
        for source in items:
            with self._lock:
                busy = source.id in self._busy
            if not busy and self._scheduled.get(source.id) != _job_key(source):
                self._schedule(source)

    def _schedule(self, source: Source, *, after_run: bool = False) -> None:
        if self.stopping.is_set():
            return
        key = _job_key(source)
        job_id = f"source-{source.id}"
        now = utcnow()
        try:
            if source.cron:
                trigger = cron_trigger(source.cron, jitter=self.config.max_jitter)
                extra = {}
                when = f"cron {source.cron!r}"
            else:
                seconds = float(source.poll_seconds or source.every_seconds)
                jitter = self._jitter(seconds)
                trigger = IntervalTrigger(seconds=seconds, jitter=jitter or None, timezone=timezone.utc)
                due = max(now, source.next_poll_at or now)
                if after_run and due <= now:  # the crawl did not set a next poll (not a feed, or it crashed)
                    due = now + timedelta(seconds=seconds)
                next_run = due + timedelta(seconds=random.uniform(0, jitter))
                extra = {"next_run_time": next_run}
                when = f"every {format_interval(int(seconds))}, next {next_run:%H:%M:%S}"
        except ValueError as exc:
            if self._scheduled.get(source.id) != key:
                logger.error("source %d: not scheduled: %s", source.id, exc)
            self._scheduled[source.id] = key
            return
        try:
            self._aps.add_job(self.poll, trigger, args=[source.id], id=job_id, name=source.url,
                              replace_existing=True, **extra)
        except RuntimeError:  # the scheduler shut down meanwhile
            return
        if self._scheduled.get(source.id, (None,))[:2] != key[:2]:
            logger.info("source %d: %s %s", source.id, source.url, when)
        self._scheduled[source.id] = key

    def _unschedule(self, source_id: int, why: str) -> None:
        self._scheduled.pop(source_id, None)
        try:
            self._aps.remove_job(f"source-{source_id}")
        except JobLookupError:
            pass
        logger.info("source %d: %s, unscheduled", source_id, why)

    def _jitter(self, seconds: float) -> float:
        return min(self.config.max_jitter, 0.1 * seconds)

    def poll(self, source_id: int) -> None:
        """The job of one source: one crawl process, then the next run from what it recorded."""
        if self.stopping.is_set():
            return
        with self._lock:
            self._busy.add(source_id)
        try:
            self._poll(source_id)
        finally:
            with self._lock:
                self._busy.discard(source_id)

    def _poll(self, source_id: int) -> None:
        with self.db.session() as session:
            source = session.get(Source, source_id)
        if source is None or not source.enabled:
            self._unschedule(source_id, "removed or disabled")
            return
        now = utcnow()
        if source.cron and source.consecutive_failures and source.next_poll_at and source.next_poll_at > now:
            logger.info("source %d: backing off until %s UTC", source_id, f"{source.next_poll_at:%Y-%m-%d %H:%M:%S}")
            return
        self.run_crawl(source_id)
        with self.db.session() as session:
            source = session.get(Source, source_id)
        if source is None or not source.enabled:
            self._unschedule(source_id, source.disabled_reason if source is not None and source.disabled_reason
                             else "removed or disabled")
        else:
            self._schedule(source, after_run=True)

    def run_crawl(self, source_id: int) -> int | None:
        """Run one crawl process to its end, or kill it at the timeout. Returns its exit status."""
        argv = self.command(source_id, self.config.crawl_settings)
        env = dict(os.environ, NEWSARCHIVE_DB=self.db.url,
                   NEWSARCHIVE_CRAWL_SETTINGS=json.dumps(self.config.crawl_settings))
        started = time.monotonic()
        try:
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    start_new_session=True)
        except OSError as exc:
            logger.error("source %d: could not start a crawl: %s", source_id, exc)
            return None
        with self._lock:
            self._children[source_id] = proc
        try:
            try:
                status = proc.wait(timeout=self.config.run_timeout)
            except subprocess.TimeoutExpired:
                logger.warning("source %d: crawl pid %d ran over %.0f s: ending it", source_id, proc.pid,
                               self.config.run_timeout)
                _signal_group(proc, signal.SIGTERM)
                self._wait_or_kill(proc, time.monotonic() + self.config.stop_grace)
                status = proc.returncode
        finally:
            with self._lock:
                self._children.pop(source_id, None)
        if status != 0:
            runs.abandon_dead_runs(self.db, pids={proc.pid})
        self._log_run(source_id, proc.pid, status, time.monotonic() - started)
        return status

    def _log_run(self, source_id: int, pid: int, status: int, seconds: float) -> None:
        with self.db.session() as session:
            run = session.scalars(select(CrawlRun).where(CrawlRun.pid == pid)
                                  .order_by(CrawlRun.id.desc()).limit(1)).first()
            source = session.get(Source, source_id)
        nxt = f", next poll {source.next_poll_at:%H:%M:%S}" if source is not None and source.next_poll_at else ""
        if run is None:
            logger.warning("source %d: crawl exited with status %s after %.1f s, no run recorded%s",
                           source_id, status, seconds, nxt)
            return
        level = logging.INFO if run.status == "ok" else logging.WARNING
        logger.log(level, "source %d run %d: %s in %.1f s: %d requests, %d not modified, %d new articles, "
                   "%d new revisions, %d duplicates, %d errors%s%s", source_id, run.id, run.status, seconds,
                   run.requests, run.not_modified, run.new_articles, run.new_revisions, run.duplicates,
                   run.errors, f" ({run.error})" if run.error else "", nxt)


def _job_key(source: Source) -> tuple:
    """What a source's job depends on: rebuilt when any of it changes."""
    if source.cron:
        return ("cron", source.cron)
    return ("interval", source.poll_seconds or source.every_seconds, source.next_poll_at)


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str] | None = None) -> int:
    """`python scheduler.py [--db URL] [options]`: the `newsarchive schedule` command."""
    from newsarchive.cli import main as cli_main

    argv = list(sys.argv[1:] if argv is None else argv)
    head = []
    while argv and (argv[0] == "--db" or argv[0].startswith("--db=")):
        head += argv[:2] if argv[0] == "--db" else argv[:1]
        argv = argv[2:] if argv[0] == "--db" else argv[1:]
    return cli_main([*head, "schedule", *argv])


if __name__ == "__main__":
    sys.exit(main())
