"""The scheduler's service: ONE long-running crawl engine fed with due polls, on one reactor with
APScheduler's TwistedScheduler, for as long as the process runs (scheduler.py is its command
line; its docstring says what the service does for an operator).

Jobs (in the reactor's thread pool, back on the reactor with callFromThread): ``dispatch`` every
second (archive/due.py: the due polls, as many as there is capacity for, to the engine or, with
a queue, to the workers), ``keep_lease`` every ttl/3, ``housekeeping`` every minute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from archive import dictionaries, due, frontier, lease, runs
from archive.db import Database, first_line
from crawler.engine import Engine
from crawler.engine_host import MEMORY_LIMIT_MB, EngineHost
from crawler.processes import pid_alive
from crawler.queue.link import QueueError, mask
from crawler.queue.push import push_polls
from crawler.signals import poll_recorded

logger = logging.getLogger("newsarchive.scheduler")

HOUSEKEEPING_SECONDS = 60.0
DICTIONARY_SECONDS = 3600.0


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


class Scheduler(EngineHost):
    log = logger
    stopping_says = "stopping: no new polls"

    def __init__(self, db: Database, config: SchedulerConfig | None = None):
        self.config = config or SchedulerConfig()
        super().__init__(db, self.config.stop_grace)
        self.lease = lease.Keeper(db, ttl=self.config.lease_ttl)
        self._aps: Any = None
        self.run_id: int | None = None
        self._last_dictionaries = 0.0

    # -- life cycle --------------------------------------------------------------------------
    def serve(self) -> int:
        """Run until SIGTERM/SIGINT, the lease is lost or the engine ends; returns the exit status."""
        reactor = self.install_reactor()
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
            reactor.run(installSignalHandlers=False)  # ours are installed
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

    def stop_jobs(self) -> None:
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)

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
            if polls and self.config.queue_url:
                push_polls(self.config.queue_url, [(poll.source.id, poll.source.url) for poll in polls],
                           timeout=self.config.run_timeout)
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
        if self.run_id is None:
            return
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
