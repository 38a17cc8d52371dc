"""The scheduler: polls every enabled source on its own schedule, for months, unattended.

    python scheduler.py [--db URL] [options]      (the same as `newsarchive schedule`)

* One APScheduler job per enabled source, read from the archive's ``sources`` table: an
  interval (the adaptive ``poll_seconds``, else ``every_seconds``) whose next run follows the
  source's ``next_poll_at`` (adaptive polling, backoff, Retry-After: archive/polling.py), or a
  crontab expression (``Source.cron``). A sync job re-reads the table every ``sync_seconds``,
  so sources added, changed, disabled or removed are picked up within a minute.
* Each poll is its own process (``python -m newsarchive crawl SOURCE_ID``) with a hard timeout
  (crawler/processes.py). ``max_instances=1`` (a slow site never piles up), ``coalesce=True``, a
  misfire grace time, and jitter (at most 10% of the interval, capped at ``max_jitter``).
* One scheduler per archive: a lease row (archive/lease.py) renewed every ttl/3. A second one
  refuses to start (or, with ``standby``, waits) and takes over once it expires; one that loses
  its lease stops.
* SIGTERM/SIGINT: no new runs; in-flight crawls get SIGTERM, and SIGKILL after ``stop_grace``
  seconds (at once on a second signal); their runs are closed; the lease is released. What a
  killed crawl had not archived stays in the frontier for the next run.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass, field
from datetime import timezone
from typing import Callable

import click
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from archive import lease, runs
from archive.db import ArchiveError, Database, database_url, first_line
from archive.models import Source, utcnow
from archive.sources import list_sources, parse_duration, poll_schedule
from crawler import processes
from crawler.logredact import log_to_stderr
from crawler.overrides import SettingError, overrides_with_inherited, settings_option
from crawler.progress import progress

logger = logging.getLogger("newsarchive.scheduler")

SYNC_JOB = "sync"
LOG_FORMAT = "%(asctime)s [scheduler] %(levelname)s: %(message)s"
MAX_DURATION = 7 * 86400.0


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


class Scheduler:
    def __init__(self, db: Database, config: SchedulerConfig | None = None, *,
                 command: Callable[[int, dict[str, str]], list[str]] = crawl_command):
        self.db = db
        self.config = config or SchedulerConfig()
        self.command = command
        self.lease = lease.Keeper(db, ttl=self.config.lease_ttl)
        self.stopping = threading.Event()
        self.crawls = processes.Supervisor(self.config.stop_grace)
        self._children = self.crawls.children  # source id -> its running crawl
        self._lock = threading.Lock()
        self._busy: set[int] = set()  # sources whose job runs now: the sync leaves them alone
        self._scheduled: dict[int, tuple] = {}  # source id -> what its job was built from
        self._aps = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(self.config.max_workers), SYNC_JOB: ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(self.config.misfire_grace)},
            timezone=timezone.utc,
        )

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        closed = runs.abandon_dead_runs(self.db, alive=processes.pid_alive)
        if closed:
            logger.info("closed %d run(s) left running by a dead process: %s", len(closed), closed)
        self._aps.start()
        self.sync()  # every source has its job before start() returns
        self._aps.add_job(self.sync, IntervalTrigger(seconds=self.config.sync_seconds, timezone=timezone.utc),
                          id=SYNC_JOB, name="sync sources", executor=SYNC_JOB, misfire_grace_time=None)

    def serve(self) -> int:
        """Run until SIGTERM/SIGINT or the lease is lost; returns the exit status."""
        processes.stop_on_signals(self.stopping, self.crawls.force)
        if self.config.standby:
            if not self.lease.wait(self.stopping):
                return 0
        else:
            self.lease.acquire()
        status = 0
        try:
            self.start()
            while not self.stopping.wait(max(0.2, self.config.lease_ttl / 3)):
                if not self.lease.renew():
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
        ended = self.crawls.end_all()
        if ended:
            runs.abandon_runs_of(self.db, ended)
        self.lease.release()
        logger.info("scheduler stopped")

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
        try:
            when = poll_schedule(source, max_jitter=self.config.max_jitter, after_run=after_run)
        except ValueError as exc:
            if self._scheduled.get(source.id) != key:
                logger.error("source %d: not scheduled: %s", source.id, exc)
            self._scheduled[source.id] = key
            return
        extra = {"next_run_time": when.next_run} if when.next_run else {}
        try:
            self._aps.add_job(self.poll, when.trigger, args=[source.id], id=f"source-{source.id}", name=source.url,
                              replace_existing=True, **extra)
        except RuntimeError:  # the scheduler shut down meanwhile
            return
        if self._scheduled.get(source.id, (None,))[:2] != key[:2]:
            logger.info("source %d: %s %s", source.id, source.url, when.description)
        self._scheduled[source.id] = key

    def _unschedule(self, source_id: int, why: str) -> None:
        self._scheduled.pop(source_id, None)
        try:
            self._aps.remove_job(f"source-{source_id}")
        except JobLookupError:
            pass
        logger.info("source %d: %s, unscheduled", source_id, why)

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
        if source.cron and source.consecutive_failures and source.next_poll_at and source.next_poll_at > utcnow():
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
        return self.crawls.run_crawl(self.db, source_id, self.command(source_id, self.config.crawl_settings),
                                     self.config.crawl_settings, self.config.run_timeout)


def _job_key(source: Source) -> tuple:
    """What a source's job depends on: rebuilt when any of it changes."""
    if source.cron:
        return ("cron", source.cron)
    return ("interval", source.poll_seconds or source.every_seconds, source.next_poll_at)


# -- the command line ----------------------------------------------------------------------------

class Duration(click.ParamType):
    """30s, 5m, 1h, 1d or a bare number of seconds: more than 0 (or 0 when ``zero_ok``), at most a week."""

    name = "duration"

    def __init__(self, zero_ok: bool = False):
        self.zero_ok = zero_ok

    def convert(self, value, param, ctx) -> float:
        if isinstance(value, float):
            return value
        seconds = parse_duration(value)
        if seconds is None or seconds > MAX_DURATION or (seconds == 0 and not self.zero_ok):
            low = "0" if self.zero_ok else "more than 0"
            self.fail(f"not a duration: {str(value)[:40]!r} (use e.g. 30s, 5m, 1h; {low}, at most 7d)", param, ctx)
        return seconds


def setup_logging(level: str = "INFO") -> None:
    log_to_stderr(LOG_FORMAT)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("newsarchive").setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _duration(name: str, default: str, help_text: str, *, dest: str | None = None, zero_ok: bool = False):
    return click.option(name, *([dest] if dest else []), default=default, show_default=True, metavar="DURATION",
                        type=Duration(zero_ok), help=help_text)


@click.command("schedule")
@click.option("--db", "db_url", default=None, metavar="URL",
              help="Database URL or SQLite path (else that of `newsarchive --db`, else $NEWSARCHIVE_DB).")
@_duration("--sync-every", "60s", "How often the sources table is re-read (source changes show within this).")
@_duration("--timeout", "1h", "Hard limit on one crawl; its process group is then terminated, then killed.",
           dest="run_timeout")
@_duration("--stop-grace", "20s", "On SIGTERM/SIGINT (or a timeout), how long crawls get to finish before SIGKILL.",
           zero_ok=True)
@_duration("--lease-ttl", "60s", "A dead scheduler's lease expires after this; it is renewed every third of it.")
@_duration("--max-jitter", "30s", "Random delay added to each poll (at most 10% of its interval).", zero_ok=True)
@_duration("--misfire-grace", "5m", "A poll missed by less than this (busy machine, suspend) still runs.")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Crawls running at the same time.")
@click.option("--standby", is_flag=True,
              help="If another scheduler holds the archive, wait and take over when its lease expires.")
@settings_option("A Scrapy setting for every crawl, as `crawl -s` (repeatable).")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="The scheduler's own log level.")
@click.pass_context
def schedule(ctx, db_url, sync_every, run_timeout, stop_grace, lease_ttl, max_jitter, misfire_grace, workers,
             standby, settings, log_level):
    """Run the scheduler: poll every enabled source on its schedule until SIGTERM or Ctrl-C.

    One scheduler per archive: a second one refuses to start (or with --standby waits) and takes
    over by itself when the first one's lease expires. Logs go to stderr.

    Example: newsarchive --db /var/lib/newsarchive/archive.db schedule -s DOWNLOAD_DELAY=2
    """
    root = ctx.find_root()  # under `newsarchive`, the archive is its --db
    try:
        config = SchedulerConfig(sync_seconds=sync_every, run_timeout=run_timeout, stop_grace=stop_grace,
                                 lease_ttl=lease_ttl, max_jitter=max_jitter, misfire_grace=misfire_grace,
                                 max_workers=workers, standby=standby,
                                 crawl_settings=overrides_with_inherited(settings))
        db = Database(database_url(db_url or (root.params.get("db_url") if root is not ctx else None)))
        setup_logging(log_level)
        ctx.exit(Scheduler(db, config).serve())
    except (SettingError, ArchiveError, lease.LeaseHeld) as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(f"the archive could not be written or read: {first_line(exc)}") from None


if __name__ == "__main__":
    schedule.main(prog_name="scheduler.py")
