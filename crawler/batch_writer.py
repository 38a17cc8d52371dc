"""Archived pages written in batches: up to ``size`` pages, or what came in ``wait`` seconds, in one
transaction (archive/batch.py), in the archive's writer thread (crawler/archive_io.py).

One transaction per page was most of what a crawl spent on the reactor thread (about six of them
a page: article, frontier, furniture counts, run figures). A batch holds them all; killed at any
moment, a batch is all there or not there, and then its URLs are still pending: exactly once.
Each page added gets a Deferred of its own outcome (an ItemResult; None for a rejected page).
"""

from __future__ import annotations

import logging
from typing import Callable

from twisted.internet.defer import Deferred, DeferredList

from archive.batch import BatchItem, ItemResult, Rejected, SavedBatch, save_batch
from archive.db import Database
from archive.text import line_fingerprint
from crawler.archive_io import ArchiveIO

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
BATCH_WAIT = 0.25  # seconds

Entry = BatchItem | Rejected


class BatchWriter:
    def __init__(self, db: Database, io: ArchiveIO, reactor, *, size: int = BATCH_SIZE, wait: float = BATCH_WAIT,
                 on_batch: Callable[[SavedBatch], None] | None = None):
        self.db, self.io, self.reactor = db, io, reactor
        self.size, self.wait = max(1, size), max(0.0, wait)
        self.on_batch = on_batch  # called in the writer thread, after each batch committed
        self._pending: list[tuple[Entry, Deferred]] = []
        self._timer = None
        self._flushing: list[Deferred] = []

    def add(self, entry: Entry) -> Deferred:
        """Queue a page (or a rejected one) for the next batch; fires with its ItemResult (or None)."""
        outcome: Deferred = Deferred()
        self._pending.append((entry, outcome))
        if len(self._pending) >= self.size:
            self.flush()
        elif self._timer is None:
            self._timer = self.reactor.callLater(self.wait, self.flush)
        return outcome

    def flush(self) -> Deferred:
        """Write what is queued now, as one batch."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        taken, self._pending = self._pending, []
        if not taken:
            return DeferredList([])
        items = [(entry, d) for entry, d in taken if isinstance(entry, BatchItem)]
        rejected = [entry for entry, _ in taken if isinstance(entry, Rejected)]
        written = self.io.write(self._write, [entry for entry, _ in items], rejected)
        self._flushing.append(written)

        def delivered(batch: SavedBatch):
            for (_, outcome), result in zip(items, batch):
                outcome.callback(result)
            for entry, outcome in taken:
                if isinstance(entry, Rejected):
                    outcome.callback(None)

        def failed(failure):
            for _, outcome in taken:
                outcome.errback(failure)

        def done(result):
            self._flushing.remove(written)
            return result

        written.addCallbacks(delivered, failed).addBoth(done)
        return written

    def _write(self, items: list[BatchItem], rejected: list[Rejected]) -> SavedBatch:
        batch = save_batch(self.db, items, rejected=rejected, fingerprint=line_fingerprint)
        if self.on_batch is not None and batch.new_furniture:
            try:
                self.on_batch(batch)
            except Exception:  # noqa: BLE001 - the batch is committed: a failed re-clean must not undo its outcome
                logger.exception("after a batch: re-cleaning failed")
        return batch

    def close(self) -> Deferred:
        """Write what is still queued; fires when every batch asked for is written."""
        self.flush()
        return DeferredList(list(self._flushing), consumeErrors=True)


__all__ = ["BatchWriter", "ItemResult", "BATCH_SIZE", "BATCH_WAIT"]
