"""Extraction off the reactor: a pool of worker processes running crawler.extract.

trafilatura takes tens of milliseconds a page, and the crawler's reactor thread must not spend
them: while it extracts, no download progresses. The pool (pebble, one process per core by
default) takes a page and gives a Deferred of its Article back. A page that takes longer than
``timeout`` seconds is abandoned and its worker killed and replaced; a worker that crashes is
replaced; one that exceeds ``memory_mb`` of address space fails that page with MemoryError; and
every worker is recycled after ``max_tasks`` pages, so memory stays flat over months.

Workers are started by a fork server (never forked from the crawler, whose threads and reactor
must not be copied), which has loaded the extractor and its data (crawler/extraction_warmup.py),
so a worker, also one recycled, starts warm.
"""

from __future__ import annotations

import os
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Any, Callable, NamedTuple

from pebble import ProcessExpired, ProcessPool
from twisted.internet.defer import Deferred

from archive.dedup import BandKeys
from archive.text import line_fingerprint
from crawler import fork_server
from crawler.extract import Article, extract

DEFAULT_TIMEOUT = 20.0
DEFAULT_MEMORY_MB = 2048
DEFAULT_MAX_TASKS = 2000


class Prepared(NamedTuple):
    """An extracted page made ready for the archive (ready_for_archive)."""

    article: Article
    lines: dict[int, str]
    band_keys: BandKeys


class ExtractionFailed(Exception):
    """A page the pool could not extract: ``reason`` is "timeout", "memory", "crashed" or "error"."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def _limit_memory(memory_mb: int | None) -> None:
    if memory_mb:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def extract_page(body: bytes, url: str, kwargs: dict[str, Any]):
    """What a worker runs: the pure extractor."""
    return extract(body, url, **kwargs)


def ready_for_archive(article: Article, furniture: frozenset[int] | None) -> Prepared:
    """The article without its site's known ``furniture`` (line fingerprints; None: the crawl
    learns none), its lines before that (for learning, keyed by fingerprint), and the
    near-duplicate band keys of its text as archived. Fingerprints and MinHash are CPU work: a
    crawl does them in the worker, beside the extraction, not on the reactor or writer thread."""
    lines: dict[int, str] = {}
    if furniture is not None and not article.blocked:
        text = article.text.splitlines()
        prints = [line_fingerprint(line) for line in text]
        for fp, line in zip(prints, text):
            lines.setdefault(fp, line)  # a repeated line: its first wording
        if furniture.intersection(prints):
            article = replace(article, text="\n".join(line for line, fp in zip(text, prints) if fp not in furniture))
    return Prepared(article, lines, BandKeys.of(article.text))


def extract_for_archive(body: bytes, url: str, kwargs: dict[str, Any], furniture: frozenset[int] | None) -> Prepared:
    """What a crawl's worker runs: the extractor, then ready_for_archive."""
    return ready_for_archive(extract(body, url, **kwargs), furniture)


class ExtractionPool:
    def __init__(self, reactor, *, processes: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                 memory_mb: int | None = DEFAULT_MEMORY_MB, max_tasks: int = DEFAULT_MAX_TASKS,
                 function: Callable = extract_page, warm_date_locales: bool = False):
        self.reactor = reactor
        self.timeout = timeout
        self.function = function
        self.processes = processes or os.cpu_count() or 1
        context = fork_server.configure(warm_date_locales)  # started early by a crawl (its module doc)
        self._pool = ProcessPool(max_workers=self.processes, max_tasks=max_tasks, initializer=_limit_memory,
                                 initargs=(memory_mb,), context=context)

    @classmethod
    def from_settings(cls, settings, reactor) -> ExtractionPool:
        return cls(reactor,
                   processes=settings.getint("NEWSARCHIVE_EXTRACT_PROCESSES") or None,
                   timeout=settings.getfloat("NEWSARCHIVE_EXTRACT_TIMEOUT", DEFAULT_TIMEOUT),
                   memory_mb=settings.getint("NEWSARCHIVE_EXTRACT_MEMORY_MB", DEFAULT_MEMORY_MB) or None,
                   max_tasks=settings.getint("NEWSARCHIVE_EXTRACT_MAX_TASKS", DEFAULT_MAX_TASKS),
                   warm_date_locales=settings.getbool("NEWSARCHIVE_EXTRACT_WARM_LOCALES"))

    def extract(self, body: bytes, url: str, **kwargs) -> Deferred:
        """A Deferred firing with the page's Article, or failing with ExtractionFailed."""
        return self._deferred(self.function, (body, url, kwargs))

    def extract_for_archive(self, body: bytes, url: str, furniture: frozenset[int] | None, **kwargs) -> Deferred:
        """A Deferred firing with the page's Prepared article (extract_for_archive), or failing
        with ExtractionFailed. A pool made with another function gives that function's result."""
        if self.function is not extract_page:
            return self.extract(body, url, **kwargs)
        return self._deferred(extract_for_archive, (body, url, kwargs, furniture))

    def _deferred(self, function: Callable, args: tuple) -> Deferred:
        result: Deferred = Deferred()
        future = self._pool.schedule(function, args=args, timeout=self.timeout)

        def done(future) -> None:  # in the pool's thread: hand the outcome to the reactor thread
            try:
                outcome, failed = future.result(), False
            except BaseException as exc:  # noqa: BLE001 - every failure becomes an ExtractionFailed
                outcome, failed = _failure(exc, self.timeout), True
            self.reactor.callFromThread(result.errback if failed else result.callback, outcome)

        future.add_done_callback(done)
        return result

    def extract_waiting(self, body: bytes, url: str, **kwargs):
        """The page's Article, waited for in the calling thread (never the reactor's: the archive's
        writer thread re-cleans stored pages this way). Raises ExtractionFailed."""
        try:
            return self._pool.schedule(self.function, args=(body, url, kwargs), timeout=self.timeout).result()
        except BaseException as exc:  # noqa: BLE001 - every failure becomes an ExtractionFailed
            raise _failure(exc, self.timeout) from None

    def close(self) -> None:
        """Stop the workers (pages in flight are abandoned: their URLs stay pending)."""
        self._pool.stop()
        self._pool.join(timeout=10)


def _failure(exc: BaseException, timeout: float) -> ExtractionFailed:
    if isinstance(exc, FutureTimeout):
        return ExtractionFailed("timeout", f"extraction took more than {timeout:g} s")
    if isinstance(exc, MemoryError):
        return ExtractionFailed("memory", "extraction exceeded the memory limit")
    if isinstance(exc, ProcessExpired):
        return ExtractionFailed("crashed", f"the extraction worker died (exit code {exc.exitcode})")
    return ExtractionFailed("error", f"{type(exc).__name__}: {str(exc)[:300]}")
