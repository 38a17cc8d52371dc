"""What a process that runs the long-running engine for as long as it lives does, whoever feeds
it (the scheduler, crawler/scheduling.py; a worker, crawler/worker.py): install the reactor,
take SIGTERM/SIGINT, stop within a grace time, end when the engine closes by itself (the memory
limit: exit status 3, for a service manager to restart it), close its run."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from archive import runs
from archive.db import Database, first_line
from archive.redact import redact

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
MEMORY_LIMIT_MB = 2048  # MEMUSAGE_LIMIT_MB unless -s sets it: the engine ends, systemd restarts it
EXIT_MEMORY = 3


class EngineHost:
    """Base of the scheduler's and the worker's service. Subclasses set ``log``, ``stop_grace``
    (seconds the engine gets to close), what ``shutdown`` says, and ``stop_jobs``."""

    log: logging.Logger
    stopping_says = "stopping"  # logged when a shutdown begins
    left_behind = "what was not archived stays pending"  # logged when the engine is stopped at once

    def __init__(self, db: Database, stop_grace: float):
        self.db = db
        self.stop_grace = stop_grace
        self.stopping = threading.Event()
        self.status = 0
        self.engine: Any = None  # the Engine, once serve() made it
        self.reactor: Any = None

    def install_reactor(self):
        """The asyncio reactor (Scrapy's), installed now, with our signal handlers."""
        from scrapy.utils.reactor import install_reactor

        install_reactor(ASYNCIO_REACTOR)
        from twisted.internet import reactor

        self.reactor = reactor
        self._handle_signals()
        return reactor

    def stop_jobs(self) -> None:
        """Stop whatever feeds the engine (on the reactor, once, when a shutdown begins)."""

    # -- the engine's life --------------------------------------------------------------------
    def _engine_failed(self, failure) -> None:
        self.log.error("the crawl engine could not start: %s", redact(failure.getErrorMessage()))
        self.status = self.status or 1
        self.shutdown()

    def _engine_ended(self, result):
        reason = self.engine.closed_reason
        if not self.stopping.is_set():  # it closed by itself
            if reason == "memusage_exceeded":
                self.log.error("memory limit reached (MEMUSAGE_LIMIT_MB): stopping so that the service restarts")
                self.status = EXIT_MEMORY
            else:
                self.log.error("the crawl engine closed (%s): stopping", reason)
                self.status = self.status or 1
            self.shutdown()
        elif self.reactor.running:
            self.reactor.stop()
        return None

    def shutdown(self, status: int | None = None) -> None:
        """On the reactor: nothing new; the engine closes within stop_grace, then the reactor stops."""
        if status is not None:
            self.status = self.status or status
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.log.info(self.stopping_says)
        self.stop_jobs()
        if self.engine is not None and self.engine.running:
            self.engine.stop()
            self.reactor.callLater(self.stop_grace, self._force_stop, "the engine did not close in time")
        elif self.reactor.running:
            self.reactor.stop()

    def _force_stop(self, why: str) -> None:
        if self.reactor.running:
            self.log.warning("%s: stopping now (%s)", why, self.left_behind)
            self.reactor.stop()

    def _handle_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def handle(signum, _frame):
            name = signal.Signals(signum).name
            if self.stopping.is_set():
                self.reactor.callFromThread(self._force_stop, f"second {name}")
            else:
                self.log.info("%s received", name)
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
            self.log.error("could not close run %d: %s", run_id, first_line(exc))
