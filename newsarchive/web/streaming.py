"""Streaming what a file writer writes: archive/export.py's writers, unchanged, to an HTTP response.

The writers take a file and write the whole export to it. `stream` runs one in a worker thread
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
from typing import Callable, Iterator

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


def stream(write: Callable[[io.IOBase], object], *, binary: bool) -> Iterator[bytes]:
    """Run `write(file)` in a thread and yield what it writes. Text writers get a UTF-8 text file
    (newline="" as csv wants); binary writers the byte stream."""
    chunks: queue.Queue = queue.Queue(maxsize=QUEUED_CHUNKS)
    stop = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            buffered = io.BufferedWriter(_QueueFile(chunks, stop), buffer_size=CHUNK)
            out = buffered if binary else io.TextIOWrapper(buffered, encoding="utf-8", newline="")
            write(out)
            out.flush()
        except ClientGone:
            pass
        except BaseException as exc:  # handed to the response, which aborts the transfer
            failure.append(exc)
        finally:
            _put_until_stopped(chunks, _DONE, stop)

    worker = threading.Thread(target=run, name="newsarchive-export", daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                break
            yield item
        worker.join()
        if failure:
            raise failure[0]
    finally:
        stop.set()
