"""The scheduler: polls every enabled source on its own schedule, for months, unattended.

    python scheduler.py [--db URL] [options]      (the same as `newsarchive schedule`)

* ONE long-running crawl engine (crawler/engine.py) in this process, on one Twisted reactor with
  APScheduler's ``TwistedScheduler``: each due poll is handed to the running crawler as a
  request, so a poll of an unchanged feed costs milliseconds, not a process start.
* Every second the dispatch job asks the archive which polls are due (archive/due.py: adaptive
  intervals, backoff, Retry-After, crontab lines, jitter) and starts as many as there is
  capacity for (``--workers`` polls in flight). A poll that misses its time (no capacity, the
  scheduler was down) runs as soon as there is capacity, once: never dropped. How late each poll
  started is recorded on its source; `stats` flags sources overdue by more than an interval.
* A poll has a hard time limit (``--timeout``): cancelled and recorded as a failed poll.
* One scheduler per archive: a lease row (archive/lease.py) renewed every ttl/3. A second one
  refuses to start (or, with ``standby``, waits) and takes over once it expires; one that loses
  its lease stops (exit status 1).
* The scheduler's life is one crawl run (role ``schedule``) with a heartbeat; housekeeping every
  minute closes runs of dead processes, takes back the frontier's unclaimed pending URLs and,
  hourly, trains the sites' compression dictionaries.
* SIGTERM/SIGINT: no new polls; the engine closes (downloads end, the last batch is written)
  within ``stop_grace`` seconds, else (or on a second signal) the process stops at once: what it
  had not archived stays in the frontier. The engine closing by itself (MEMUSAGE_LIMIT_MB
  reached) ends the scheduler with exit status 3, for systemd to restart it.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any

import click
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from archive import dictionaries, due, frontier, lease, runs
from archive.db import ArchiveError, Database, database_url, first_line
from archive.redact import redact
from archive.sources import parse_duration
from crawler.engine import Engine
from crawler.logredact import log_to_stderr
from crawler.overrides import SettingError, overrides_with_inherited, settings_option
from crawler.processes import pid_alive
from crawler.queue.link import QueueError, connect, mask, queue_url
from crawler.queue.push import push_polls
from crawler.signals import poll_recorded

logger = logging.getLogger("newsarchive.scheduler")

LOG_FORMAT = "%(asctime)s [scheduler] %(levelname)s: %(message)s"
MAX_DURATION = 7 * 86400.0
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
HOUSEKEEPING_SECONDS = 60.0
DICTIONARY_SECONDS = 3600.0
MEMORY_LIMIT_MB = 2048  # MEMUSAGE_LIMIT_MB unless -s sets it: the engine ends, systemd restarts it
EXIT_MEMORY = 3


@dataclass
class SchedulerConfig:
    dispatch_seconds: float = 1.0  # how often due polls are looked for
    run_timeout: float = 600.0  # hard limit on one poll
    stop_grace: float = 20.0  # SIGTERM -> stop at once
    lease_ttl: float = lease.DEFAULT_TTL
    max_jitter: float = 30.0
    max_workers: int = 16  # polls in flight at the same time
    standby: bool = False  # wait for the lease instead of refusing to start
    crawl_settings: dict[str, str] = field(default_factory=dict)  # -s NAME=VALUE for the engine
    queue_url: str | None = None  # the workers' shared queue: due polls are pushed there, no engine here


def every(seconds: float) -> IntervalTrigger:
    return IntervalTrigger(seconds=seconds, timezone=timezone.utc)


class Scheduler:
    def __init__(self, db: Database, config: SchedulerConfig | None = None):
        self.db = db
        self.config = config or SchedulerConfig()
        self.lease = lease.Keeper(db, ttl=self.config.lease_ttl)
        self.stopping = threading.Event()
        self.status = 0
        self.engine: Any = None  # the Engine, once serve() made it
        self.reactor: Any = None
        self._aps: Any = None
        self.run_id: int | None = None
        self._last_dictionaries = 0.0

    # -- life cycle --------------------------------------------------------------------------
    def serve(self) -> int:
        """Run until SIGTERM/SIGINT, the lease is lost or the engine ends; returns the exit status."""
        from scrapy.utils.reactor import install_reactor

        install_reactor(ASYNCIO_REACTOR)
        from twisted.internet import reactor

        self.reactor = reactor
        self._handle_signals()
        if self.config.standby:
            if not self.lease.wait(self.stopping):
                return 0
        else:
            self.lease.acquire()
        run_id = None
        try:
            closed = runs.abandon_dead_runs(self.db, alive=pid_alive)
            if closed:
                logger.info("closed %d run(s) left running by a dead process: %s", len(closed), closed)
            frontier.release_dead(self.db, pid_alive)
            run_id = self.run_id = runs.start_run(self.db, role="schedule")
            if self.config.queue_url is None:
                self.engine = self._make_engine(run_id)
                reactor.callWhenRunning(self._begin)
            else:
                reactor.callWhenRunning(self._engine_up, None)
            reactor.run(installSignalHandlers=False)
        finally:
            if run_id is not None:
                self._close_run(run_id)
            self.lease.release()
            logger.info("scheduler stopped")
        return self.status

    def _make_engine(self, run_id: int) -> Engine:
        settings = {"MEMUSAGE_LIMIT_MB": str(MEMORY_LIMIT_MB), **self.config.crawl_settings}
        return Engine(self.db, run_id, settings, poll_timeout=self.config.run_timeout, reactor=self.reactor)

    def _begin(self) -> None:
        self.engine.start().addCallbacks(self._engine_up, self._engine_failed)
        self.engine.done.addBoth(self._engine_ended)

    def _engine_up(self, _engine) -> None:
        # imported here: it imports the reactor, which serve() installs first
        from apscheduler.schedulers.twisted import TwistedScheduler

        if self.stopping.is_set():
            return
        self._aps = TwistedScheduler(reactor=self.reactor, timezone=timezone.utc,
                                     job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        self._aps.add_job(self.dispatch, every(self.config.dispatch_seconds), id="dispatch", name="due polls")
        self._aps.add_job(self.keep_lease, every(max(0.2, self.config.lease_ttl / 3)), id="lease", name="lease")
        self._aps.add_job(self.housekeeping, every(HOUSEKEEPING_SECONDS), id="housekeeping", name="housekeeping")
        self._aps.start()
        if self.engine is None:  # no engine to beat for this run: its own heartbeat
            self._aps.add_job(self.heartbeat, every(runs.HEARTBEAT_SECONDS), id="heartbeat", name="heartbeat")
            logger.info("queueing due polls for the workers on %s, %d at a time", mask(self.config.queue_url),
                        self.config.max_workers)
        else:
            self.engine.crawler.signals.connect(self._poll_recorded, signal=poll_recorded)
            logger.info("engine running: %d poll(s) at a time, poll time limit %.0f s", self.config.max_workers,
                        self.config.run_timeout)
        self.reactor.callInThread(self.dispatch)  # the first polls now, not in a second

    def _engine_failed(self, failure) -> None:
        logger.error("the crawl engine could not start: %s", redact(failure.getErrorMessage()))
        self.status = self.status or 1
        self.shutdown()

    def _engine_ended(self, result):
        reason = self.engine.closed_reason
        if not self.stopping.is_set():  # it closed by itself
            if reason == "memusage_exceeded":
                logger.error("memory limit reached (MEMUSAGE_LIMIT_MB): stopping so that the service restarts")
                self.status = EXIT_MEMORY
            else:
                logger.error("the crawl engine closed (%s): stopping", reason)
                self.status = self.status or 1
            self.shutdown()
        elif self.reactor.running:
            self.reactor.stop()
        return None

    def shutdown(self, status: int | None = None) -> None:
        """On the reactor: no new polls; the engine closes within stop_grace, then the reactor stops."""
        if status is not None:
            self.status = self.status or status
        if self.stopping.is_set():
            return
        self.stopping.set()
        logger.info("stopping: no new polls")
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        if self.engine is not None and self.engine.running:
            self.engine.stop()
            self.reactor.callLater(self.config.stop_grace, self._force_stop, "the engine did not close in time")
        elif self.reactor.running:
            self.reactor.stop()

    def _force_stop(self, why: str) -> None:
        if self.reactor.running:
            logger.warning("%s: stopping now (what was not archived stays pending)", why)
            self.reactor.stop()

    def _handle_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def handle(signum, _frame):
            name = signal.Signals(signum).name
            if self.stopping.is_set():
                self.reactor.callFromThread(self._force_stop, f"second {name}")
            else:
                logger.info("%s received", name)
                self.reactor.callFromThread(self.shutdown)

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def _close_run(self, run_id: int) -> None:
        reason = self.engine.closed_reason if self.engine is not None else None
        ok = self.status == 0 and reason in (None, "shutdown", "finished")
        try:
            runs.close_run(self.db, run_id, status="ok" if ok else "failed",
                           error=None if ok else f"engine: {reason or 'stopped'} (exit status {self.status})")
        except SQLAlchemyError as exc:
            logger.error("could not close run %d: %s", run_id, first_line(exc))

    # -- jobs (in the reactor's thread pool; back on the reactor with callFromThread) -----------
    def dispatch(self) -> None:
        """Hand the due polls to the engine, as many as there is capacity for (or to the queue)."""
        engine = self.engine
        if self.config.queue_url is not None and not self.stopping.is_set():
            return self.dispatch_to_queue()
        if self.stopping.is_set() or engine is None or not engine.running:
            return
        busy = set(engine.in_flight)
        try:
            polls = due.take_due(self.db, limit=self.config.max_workers - len(busy), skip=busy,
                                 max_jitter=self.config.max_jitter)
        except SQLAlchemyError as exc:
            logger.error("could not read the due polls: %s", first_line(exc))
            return
        if polls:
            self.reactor.callFromThread(self._start_polls, polls)

    def dispatch_to_queue(self) -> None:
        """Push the due polls to the workers' queue, ``max_workers`` a second at most. A poll order
        lost with the queue is not lost for good: taking it pushed its next poll one interval on."""
        try:
            polls = due.take_due(self.db, limit=self.config.max_workers, max_jitter=self.config.max_jitter)
            if polls:
                push_polls(self.config.queue_url, [(poll.source.id, poll.source.url) for poll in polls])
        except SQLAlchemyError as exc:
            logger.error("could not read the due polls: %s", first_line(exc))
        except QueueError as exc:
            logger.error("%s", exc)
        else:
            for poll in polls:
                late = f" ({poll.late_seconds:.0f} s late)" if poll.late_seconds >= 60 else ""
                logger.log(logging.WARNING if late else logging.DEBUG, "source %d: queued a poll of %s%s",
                           poll.source.id, poll.source.url, late)

    def _start_polls(self, polls: list[due.DuePoll]) -> None:
        for poll in polls:
            if self.stopping.is_set():
                return
            if self.engine.poll(poll.source):
                late = f" ({poll.late_seconds:.0f} s late)" if poll.late_seconds >= 60 else ""
                logger.log(logging.WARNING if late else logging.DEBUG, "source %d: polling %s%s", poll.source.id,
                           poll.source.url, late)

    def _poll_recorded(self, spider, source_id, failure, next_poll=None, new_items=0, not_modified=False) -> None:
        after = f", next poll {next_poll:%H:%M:%S}" if next_poll else ""
        if failure is not None:
            logger.warning("source %d: poll failed: %s%s", source_id, failure.error, after)
        else:
            what = "not modified" if not_modified else f"{new_items} new"
            logger.info("source %d: ok, %s%s", source_id, what, after)

    def heartbeat(self) -> None:
        try:
            runs.heartbeat(self.db, self.run_id, {})
        except SQLAlchemyError as exc:
            logger.error("could not record the heartbeat: %s", first_line(exc))

    def keep_lease(self) -> None:
        if not self.stopping.is_set() and not self.lease.renew():
            self.reactor.callFromThread(self.shutdown, 1)

    def housekeeping(self) -> None:
        """Runs of dead processes closed, unclaimed pending URLs fetched, dictionaries trained."""
        try:
            closed = runs.abandon_dead_runs(self.db, alive=pid_alive)
            if closed:
                logger.info("closed %d run(s) left running by a dead process: %s", len(closed), closed)
            frontier.release_dead(self.db, pid_alive)
            now = self.reactor.seconds()
            if now - self._last_dictionaries >= DICTIONARY_SECONDS:
                self._last_dictionaries = now
                trained = dictionaries.train_site_dictionaries(self.db)
                if trained:
                    logger.info("trained compression dictionaries for %d site(s)", len(trained))
        except (SQLAlchemyError, OSError) as exc:
            logger.error("housekeeping failed: %s", first_line(exc))
        if not self.stopping.is_set() and self.engine is not None:  # with a queue, the workers take them back
            self.reactor.callFromThread(self.engine.resume)


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
    logging.getLogger("scrapy.middleware").setLevel(logging.ERROR)  # "Disabled ...: not configured"


def _duration(name: str, default: str, help_text: str, *, dest: str | None = None, zero_ok: bool = False):
    return click.option(name, *([dest] if dest else []), default=default, show_default=True, metavar="DURATION",
                        type=Duration(zero_ok), help=help_text)


@click.command("schedule")
@click.option("--db", "db_url", default=None, metavar="URL",
              help="Database URL or SQLite path (else that of `newsarchive --db`, else $NEWSARCHIVE_DB).")
@_duration("--sync-every", "1s", "How often the archive is asked for due polls (at most every second).")
@_duration("--timeout", "10m", "Hard limit on one poll: then it is cancelled and recorded as a failed poll.",
           dest="run_timeout")
@_duration("--stop-grace", "20s", "On SIGTERM/SIGINT, how long the engine gets to close before it is stopped.",
           zero_ok=True)
@_duration("--lease-ttl", "60s", "A dead scheduler's lease expires after this; it is renewed every third of it.")
@_duration("--max-jitter", "30s", "Delay spread over the sources' polls (at most 10% of each interval).",
           zero_ok=True)
@_duration("--misfire-grace", "5m", "Kept for old scripts: a missed poll now always runs as soon as it can.")
@click.option("--workers", default=16, show_default=True, type=click.IntRange(1, 1024),
              help="Polls in flight at the same time (their article fetches are not counted).")
@click.option("--standby", is_flag=True,
              help="If another scheduler holds the archive, wait and take over when its lease expires.")
@settings_option("A Scrapy setting for the engine, as `crawl -s` (repeatable); "
                 f"MEMUSAGE_LIMIT_MB defaults to {MEMORY_LIMIT_MB}.")
@click.option("--queue", "queue_flag", metavar="URL",
              help="Push due polls to this Redis queue for `newsarchive worker`s instead of crawling here "
                   "(else $NEWSARCHIVE_QUEUE, if set).")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="The scheduler's own log level.")
@click.pass_context
def schedule(ctx, db_url, sync_every, run_timeout, stop_grace, lease_ttl, max_jitter, misfire_grace, workers,
             standby, settings, queue_flag, log_level):
    """Run the scheduler: poll every enabled source on its schedule until SIGTERM or Ctrl-C.

    One long-running crawl engine in this process takes every poll. One scheduler per archive:
    a second one refuses to start (or with --standby waits) and takes over by itself when the
    first one's lease expires. Logs go to stderr. Exit status 3: the memory limit was reached
    (a service manager restarts it).

    Example: newsarchive --db /var/lib/newsarchive/archive.db schedule -s DOWNLOAD_DELAY=2
    """
    root = ctx.find_root()  # under `newsarchive`, the archive is its --db
    try:
        config = SchedulerConfig(dispatch_seconds=min(1.0, sync_every), run_timeout=run_timeout,
                                 stop_grace=stop_grace, lease_ttl=lease_ttl, max_jitter=max_jitter,
                                 max_workers=workers, standby=standby,
                                 crawl_settings=overrides_with_inherited(settings), queue_url=queue_url(queue_flag))
        db = Database(database_url(db_url or (root.params.get("db_url") if root is not ctx else None)))
        if config.queue_url is not None:
            connect(config.queue_url, check=True)  # a wrong URL or password: one line now
        setup_logging(log_level)
        ctx.exit(Scheduler(db, config).serve())
    except (SettingError, ArchiveError, lease.LeaseHeld, QueueError) as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(f"the archive could not be written or read: {first_line(exc)}") from None


if __name__ == "__main__":
    schedule.main(prog_name="scheduler.py")
