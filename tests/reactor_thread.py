"""A Twisted reactor for in-process tests of code that runs on one (the pipelines: extraction
and batch writes come back as Deferreds). A reactor runs once per process, so it is started once
per test session in a thread of its own; a test hands it work and waits for the outcome."""

from __future__ import annotations

import threading

from scrapy.utils.defer import deferred_from_coro
from twisted.internet.threads import blockingCallFromThread

from crawler.engine_host import ASYNCIO_REACTOR


def running_reactor():
    """The process's reactor (the asyncio one, as Scrapy's), running in a daemon thread."""
    from scrapy.utils.reactor import install_reactor

    try:
        install_reactor(ASYNCIO_REACTOR)
    except Exception:  # noqa: BLE001 - one was installed already: use it
        pass
    from twisted.internet import reactor

    if not reactor.running:
        started = threading.Event()
        reactor.callWhenRunning(started.set)
        threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False}, daemon=True,
                         name="test-reactor").start()
        if not started.wait(10):
            raise RuntimeError("the test reactor did not start")
    return reactor


def on_reactor(reactor, function, *args, **kwargs):
    """Call ``function`` on the reactor thread and wait for its result (a coroutine or Deferred
    is awaited); its exception is raised here."""
    def call():
        result = function(*args, **kwargs)
        return deferred_from_coro(result)

    return blockingCallFromThread(reactor, call)
