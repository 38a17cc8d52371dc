"""A crawl worker of the shared queue (`newsarchive worker`): the long-running engine
(crawler/engine.py) with scrapy-redis's scheduler, so its requests come from and go to Redis and
any number of workers, on any number of machines, share one crawl of one archive.

* What is on the queue: poll orders (pushed by the scheduler or `crawl --queue`), the polls' own
  requests, and article fetches. Entries are JSON (crawler/queue/).
* The frontier of record stays in the archive. A URL found by a poll is enqueued and claimed
  there (expiring claims, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL) before its request is queued;
  the worker that pops the request takes the claim over (crawler/queue/middlewares.py
  TakeClaims). Every ``requeue_seconds`` each worker renews its claims (what it queued and what it
  is fetching) and queues again the pending URLs whose claims expired (``Engine.resume``): Redis
  forgets a request once popped, so a worker killed with SIGKILL would otherwise lose what it
  held. A URL on the queue twice is fetched once (the copy whose claim moved on is dropped), and
  archived once whoever fetched it.
* An emptied or restarted Redis (FLUSHDB, no persistence) is noticed by its ``seeded`` key being
  gone: the first worker to notice sets it again, gives up every claim on pending URLs (their
  requests went with the queue) and queues them again from the frontier.
* The worker's life is one crawl run (role ``worker``) whose heartbeat (crawler/extensions.py)
  is how `stats`, from any host, tells it is alive.
* SIGTERM/SIGINT: the engine closes (in-flight downloads end, the last batch is written) within
  ``stop_grace`` seconds, else (or on a second signal) the process stops at once; what it held
  goes back on the queue when the claims expire.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy.exc import SQLAlchemyError

from archive import frontier, lease, runs
from archive.db import Database, first_line
from archive.redact import redact
from crawler.engine import Engine
from crawler.engine_host import MEMORY_LIMIT_MB, EngineHost
from crawler.processes import pid_alive
from crawler.queue.link import connect, mask, queue_keys

logger = logging.getLogger("newsarchive.worker")

REQUEUE_SECONDS = 60.0


@dataclass
class WorkerConfig:
    queue_url: str
    prefix: str | None = None  # NEWSARCHIVE_QUEUE_PREFIX
    stop_grace: float = 20.0
    requeue_seconds: float = REQUEUE_SECONDS
    crawl_settings: dict[str, str] = field(default_factory=dict)  # -s NAME=VALUE


def worker_settings(config: WorkerConfig, holder: str) -> dict[str, str]:
    """The engine's settings in a worker: scrapy-redis's scheduler on the queue, the site delay
    shared through Redis instead of kept in this process (crawler/queue/politeness.py)."""
    from crawler.project import project_settings

    given = config.crawl_settings
    delay = given.get("DOWNLOAD_DELAY", str(project_settings().getfloat("DOWNLOAD_DELAY")))
    settings = {
        "MEMUSAGE_LIMIT_MB": str(MEMORY_LIMIT_MB),
        **given,
        "SCHEDULER": "crawler.queue.scheduler.RedisScheduler",
        "NEWSARCHIVE_QUEUE": config.queue_url,
        "NEWSARCHIVE_HOLDER": holder,
        "NEWSARCHIVE_SHARED_DELAY": given.get("NEWSARCHIVE_SHARED_DELAY", delay),
        "DOWNLOAD_DELAY": "0",
    }
    if config.prefix:
        settings["NEWSARCHIVE_QUEUE_PREFIX"] = config.prefix
    return settings


class Worker(EngineHost):
    log = logger
    stopping_says = "stopping: no new work"
    left_behind = "what was not archived goes back on the queue"

    def __init__(self, db: Database, config: WorkerConfig):
        super().__init__(db, config.stop_grace)
        self.config = config
        self.keys = queue_keys(config.prefix)
        self.holder = lease.new_holder()
        self.client: redis.Redis = connect(config.queue_url, check=True)
        self._loop: Any = None
        self.claim_seconds = 1800.0  # the engine's NEWSARCHIVE_CLAIM_SECONDS, once it runs

    def serve(self) -> int:
        """Run until SIGTERM/SIGINT or the engine ends; returns the exit status."""
        reactor = self.install_reactor()
        closed = runs.abandon_dead_runs(self.db, alive=pid_alive)  # killed workers: shown as what they are
        if closed:
            logger.info("closed %d run(s) left running by a dead process: %s", len(closed), closed)
        run_id = runs.start_run(self.db, role="worker")
        try:
            self.check_seeded()  # before the engine takes the frontier's pending URLs
            self.engine = Engine(self.db, run_id, worker_settings(self.config, self.holder), reactor=reactor)
            reactor.callWhenRunning(self._begin)
            reactor.run(installSignalHandlers=False)  # ours are installed
        finally:
            self._close_run(run_id)
            logger.info("worker stopped")
        return self.status

    def _begin(self) -> None:
        self.engine.start().addCallbacks(self._engine_up, self._engine_failed)
        self.engine.done.addBoth(self._engine_ended)

    def _engine_up(self, _engine) -> None:
        from twisted.internet.task import LoopingCall

        if self.stopping.is_set():
            return
        self.claim_seconds = self.engine.spider.claim_seconds
        if self.claim_seconds < 3 * self.config.requeue_seconds:
            logger.warning("NEWSARCHIVE_CLAIM_SECONDS (%.0f s) is under 3 times --requeue-every (%.0f s): a live "
                           "worker's claims may expire before it renews them", self.claim_seconds,
                           self.config.requeue_seconds)
        self._loop = LoopingCall(self.maintain)
        self._loop.start(self.config.requeue_seconds, now=False).addErrback(self._maintain_died)
        logger.info("worker %s taking work from %s", self.holder, mask(self.config.queue_url))

    def _maintain_died(self, failure) -> None:
        logger.error("the worker's re-queue job stopped: %s", redact(failure.getErrorMessage()))

    # -- the frontier back on the queue ------------------------------------------------------
    def check_seeded(self) -> bool:
        """If the queue lost what the frontier put on it (its ``seeded`` key is gone), mark it
        seeded and give up every claim on pending URLs, so they are queued again. True if so."""
        try:
            if not self.client.set(self.keys.seeded, self.holder, nx=True):
                return False
        except redis.RedisError as exc:
            logger.error("the queue %s could not be reached: %s", mask(self.config.queue_url), mask(str(exc)))
            return False
        released = frontier.release_pending(self.db)
        if released:
            logger.warning("the queue was emptied: %d pending URL(s) queued again from the frontier", released)
        return True

    def keep_claims(self) -> None:
        """In a thread: this worker's claims renewed, and the queue re-seeded if it was emptied."""
        frontier.renew(self.db, self.holder, ttl=self.claim_seconds)
        self.check_seeded()

    def maintain(self):
        """On the reactor, every requeue_seconds: this worker's claims renewed, the queue re-seeded
        if it was emptied, then the pending URLs nobody holds (claims expired: their worker died)
        queued again."""
        if self.stopping.is_set() or self.engine is None or not self.engine.running:
            return None
        from twisted.internet.threads import deferToThread

        d = deferToThread(self.keep_claims)  # Redis and the archive, off the reactor
        d.addCallback(lambda _seeded: self.engine.resume() if self.engine.running else None)
        d.addErrback(self._maintain_failed)
        return d

    def _maintain_failed(self, failure) -> None:
        if failure.check(SQLAlchemyError):
            logger.error("could not re-queue expired claims: %s", first_line(failure.value))
        else:
            logger.error("could not re-queue expired claims: %s", redact(failure.getErrorMessage()))

    def stop_jobs(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
