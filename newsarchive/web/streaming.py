"""Streaming what a file writer writes: archive/export.py's writers, unchanged, to an HTTP response.

The writers take a file and write the whole export to it. `WriterStream` runs one in a thread
with a file whose writes go to a small bounded queue, and yields the chunks as the response
body: memory stays at a few chunks whatever the size of the export, and a slow client slows
the writer down. When the client goes away, the next write raises and the writer stops (its
session is closed by its own `with` block). An error in the writer is raised in the response
iterator, which aborts the transfer: a broken export never looks complete.
"""

from __future__ import annotations

import io
import queue
import threading
from typing import AsyncIterator, Callable, Iterator

from starlette.concurrency import iterate_in_threadpool

CHUNK = 64 * 1024
QUEUED_CHUNKS = 8
STALL_SECONDS = 300  # a client that takes nothing for this long is gone
_DONE = object()


class ClientGone(Exception):
    """The response is no longer read: the writer must stop."""


def _put_until_stopped(chunks: queue.Queue, item, stop: threading.Event) -> bool:
    """Queue `item` unless the reader stops or stalls first; whether it was queued."""
    waited = 0.0
    while not stop.is_set() and waited < STALL_SECONDS:
        try:
            chunks.put(item, timeout=0.5)
            return True
        except queue.Full:
            waited += 0.5
    return False


class _QueueFile(io.RawIOBase):
    def __init__(self, chunks: queue.Queue, stop: threading.Event):
        self.chunks, self.stop = chunks, stop

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        if not _put_until_stopped(self.chunks, data, self.stop):
            raise ClientGone()
        return len(data)


class WriterStream:
    """Runs `write(file)` in a thread; iterating yields what it writes. Text writers get a UTF-8
    text file (newline="" as csv wants); binary writers the byte stream. `close()` (from any
    thread) stops the writer at its next write."""

    def __init__(self, write: Callable[[io.IOBase], object], *, binary: bool):
        self.chunks: queue.Queue = queue.Queue(maxsize=QUEUED_CHUNKS)
        self.stopped = threading.Event()
        self.failure: list[BaseException] = []
        self.worker = threading.Thread(target=self._run, args=(write, binary), name="newsarchive-export",
                                       daemon=True)
        self.worker.start()

    def _run(self, write, binary: bool) -> None:
        try:
            buffered = io.BufferedWriter(_QueueFile(self.chunks, self.stopped), buffer_size=CHUNK)
            out = buffered if binary else io.TextIOWrapper(buffered, encoding="utf-8", newline="")
            write(out)
            out.flush()
        except ClientGone:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the response, which aborts the transfer
            self.failure.append(exc)
        finally:
            _put_until_stopped(self.chunks, _DONE, self.stopped)

    def __iter__(self) -> Iterator[bytes]:
        try:
            while not self.stopped.is_set():
                try:
                    item = self.chunks.get(timeout=0.5)
                except queue.Empty:
                    continue
                if item is _DONE:
                    break
                yield item
            self.worker.join()
            if self.failure:
                raise self.failure[0]
        finally:
            self.close()

    def close(self) -> None:
        self.stopped.set()


async def response_body(chunks: WriterStream) -> AsyncIterator[bytes]:
    """The chunks for a StreamingResponse, read in a worker thread; the writer is stopped however
    the response ends (finished, client gone, cancelled)."""
    try:
        async for chunk in iterate_in_threadpool(iter(chunks)):
            yield chunk
    finally:
        chunks.close()
