"""Progress for long commands: a tqdm bar on a terminal, plain lines otherwise (logs, pipes, cron).

    for page in progress(pages, total=len(pages), desc="re-extracting"):
        ...

    with Progress("export", total=count, unit="articles") as shown:
        for article in articles:
            shown.update(1)

Off a terminal it writes ``desc: 120/4000 articles (3%), 41.2 articles/s, ETA 1m34s`` lines at
most every ``every`` seconds (``$NEWSARCHIVE_PROGRESS_EVERY``, 10 by default), and a last line
with the total and the time taken, to ``log`` (a logger, at INFO) or to stderr. Output never goes
to stdout, which stays the command's result.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import IO, Iterable, Iterator, TypeVar

T = TypeVar("T")
EVERY_ENV = "NEWSARCHIVE_PROGRESS_EVERY"
DEFAULT_EVERY = 10.0


def default_every() -> float:
    try:
        return max(0.0, float(os.environ.get(EVERY_ENV, DEFAULT_EVERY)))
    except ValueError:
        return DEFAULT_EVERY


class Progress:
    """How far along a piece of work is: ``update(n, **figures)`` as it goes, ``close()`` at the end.

    ``total`` may be unknown (None) or learnt later (``set_total``); ``figures`` are other counts
    shown beside it (``archived=12``). ``final=False`` leaves out the last line when nothing was
    shown before it (a crawl prints its own summary)."""

    def __init__(self, desc: str = "", total: int | None = None, unit: str = "", *, every: float | None = None,
                 log: logging.Logger | None = None, file: IO[str] | None = None, tty: bool | None = None,
                 final: bool = True):
        self.desc, self.total, self.unit, self.log, self.final = desc, total, unit, log, final
        self.file = file or sys.stderr
        self.every = default_every() if every is None else every
        self.done = 0
        self.figures: dict[str, object] = {}
        self.started = self._last = time.monotonic()
        self._shown = False
        if tty is None:
            tty = log is None and hasattr(self.file, "isatty") and self.file.isatty()
        self._bar = None
        if tty:
            from tqdm import tqdm

            # a terminal that does not say its size (0 x 0) gets 80 x 24, or tqdm would hide the bar
            sized = _columns(self.file) > 0
            self._bar = tqdm(total=total, desc=desc or None, unit=unit or "it", file=self.file,
                             dynamic_ncols=sized, **({} if sized else {"ncols": 80, "nrows": 24}))

    def update(self, n: int = 1, **figures) -> None:
        self.done += n
        self.figures.update(figures)
        if self._bar is not None:
            if figures:
                self._bar.set_postfix(self.figures, refresh=False)
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self._say(self._line(now))

    def set_total(self, total: int | None) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def close(self, *, finished: bool = True) -> None:
        """The end of the work; ``finished=False`` (it failed or was stopped) says nothing more,
        so a failure is never shown as done."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            return
        if finished and (self.final or self._shown):
            elapsed = time.monotonic() - self.started
            self._say(f"{self._label()}{self._count()}{self._extra()} done in {elapsed:.1f} s")
            self.final = self._shown = False  # said once

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(finished=exc_type is None)

    def _say(self, text: str) -> None:
        self._shown = True
        if self.log is not None:
            self.log.info("%s", text)
        else:
            print(text, file=self.file, flush=True)

    def _label(self) -> str:
        return f"{self.desc}: " if self.desc else ""

    def _count(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if not self.total:
            return f"{self.done}{unit}"
        return f"{self.done}/{self.total}{unit} ({100 * self.done // self.total}%)"

    def _extra(self) -> str:
        return "".join(f", {name} {value}" for name, value in self.figures.items())

    def _line(self, now: float) -> str:
        rate = self.done / max(now - self.started, 1e-9)
        unit = f" {self.unit}" if self.unit else ""
        text = f"{self._label()}{self._count()}, {rate:.1f}{unit}/s"
        if self.total and rate > 0 and self.done < self.total:
            text += f", ETA {_duration((self.total - self.done) / rate)}"
        return text + self._extra()


def _columns(file) -> int:
    try:
        return os.get_terminal_size(file.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", *, every: float | None = None,
             log: logging.Logger | None = None, file: IO[str] | None = None,
             tty: bool | None = None, unit: str = "") -> Iterator[T]:
    """Yield the items of ``iterable`` while showing how far along it is."""
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with Progress(desc, total, unit, every=every, log=log, file=file, tty=tty) as shown:
        for item in iterable:
            yield item
            shown.update(1)
