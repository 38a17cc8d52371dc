"""Progress of long jobs: a tqdm bar on a terminal, plain lines otherwise (logs, pipes, cron).

    for page in progress(pages, total=len(pages), desc="re-extracting"):
        ...

Off a terminal it writes ``desc: 120/4000 (3%)`` lines at most every ``every`` seconds, and a
last line with the total and the time taken, to ``log`` (a logger, at INFO) or to stderr.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import IO, Iterable, Iterator, TypeVar

T = TypeVar("T")


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", *, every: float = 10.0,
             log: logging.Logger | None = None, file: IO[str] | None = None,
             tty: bool | None = None) -> Iterator[T]:
    """Yield the items of ``iterable`` while showing how far along it is."""
    file = file or sys.stderr
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    if tty is None:
        tty = log is None and hasattr(file, "isatty") and file.isatty()
    if tty:
        from tqdm import tqdm

        yield from tqdm(iterable, total=total, desc=desc or None, file=file, dynamic_ncols=True)
        return
    yield from _plain(iterable, total, desc, every, log, file)


def _plain(iterable, total, desc, every, log, file) -> Iterator:
    def say(text: str) -> None:
        if log is not None:
            log.info("%s", text)
        else:
            print(text, file=file, flush=True)

    label = f"{desc}: " if desc else ""
    started = last = time.monotonic()
    done = 0
    for item in iterable:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= every:
            last = now
            say(f"{label}{_count(done, total)}")
    say(f"{label}{_count(done, total)} done in {time.monotonic() - started:.1f} s")


def _count(done: int, total: int | None) -> str:
    if not total:
        return str(done)
    return f"{done}/{total} ({100 * done // total}%)"
