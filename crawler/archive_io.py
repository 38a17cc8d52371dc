"""Archive work off the reactor thread: reads and writes of the archive run in threads of their own
and come back as Deferreds.

On SQLite a write waits for the write lock (busy timeout), on PostgreSQL for the network: either
wait on the reactor thread would stall every download. Writes go to ONE thread, in the order they
were asked for (a poll's frontier entries are committed before the poll is recorded, a batch
after the pages it follows); reads go to a small pool beside it.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from archive.db import first_line

logger = logging.getLogger(__name__)

READERS = 4


class ArchiveIO:
    def __init__(self, reactor, *, readers: int = READERS):
        self.reactor = reactor
        self._writer = ThreadPool(1, 1, name="newsarchive-archive-writer")
        self._readers = ThreadPool(1, readers, name="newsarchive-archive-readers")
        self._writer.start()
        self._readers.start()
        self._stopped = False
        self._failing: set[str] = set()  # notes whose last write failed

    def write(self, function: Callable[..., Any], *args, **kwargs) -> Deferred:
        """Run ``function`` in the writer thread, after every write asked for before it."""
        return deferToThreadPool(self.reactor, self._writer, function, *args, **kwargs)

    def read(self, function: Callable[..., Any], *args, **kwargs) -> Deferred:
        """Run ``function`` in a reader thread."""
        return deferToThreadPool(self.reactor, self._readers, function, *args, **kwargs)

    def write_later(self, function: Callable[..., Any], *args, what: str, **kwargs) -> Deferred:
        """A write nobody waits for (a heartbeat, an errback's note): a failure is logged on one line,
        not raised. The same note failing again (a heartbeat every few seconds on a full disk) is not
        said again until one has gone through."""
        def done(result):
            self._failing.discard(what)
            return result

        def failed(failure: Failure) -> None:
            level = logging.DEBUG if what in self._failing else logging.ERROR
            self._failing.add(what)
            logger.log(level, "could not record %s: %s", what,
                       first_line(failure.value) if failure.value else failure)

        return self.write(function, *args, **kwargs).addCallbacks(done, failed)

    def stop(self) -> None:
        """Finish the writes asked for, then stop the threads."""
        if not self._stopped:
            self._stopped = True
            self._writer.stop()
            self._readers.stop()


def archive_io_for(crawler) -> ArchiveIO:
    """The crawler's archive threads, made on first use and stopped when the engine stops."""
    io = getattr(crawler, "_newsarchive_io", None)
    if io is None:
        from twisted.internet import reactor  # the reactor Scrapy installed for this crawler

        io = crawler._newsarchive_io = ArchiveIO(reactor)
        reactor.addSystemEventTrigger("before", "shutdown", io.stop)
    return io
