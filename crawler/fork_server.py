"""The extraction pool's fork server, and starting it before the crawl needs it.

The pool's workers are forked from a server process that first loads the extractor and warms
it up (crawler/extraction_warmup.py: about 1 s of imports and a first page). Started when the
first page reaches the pool, that second is spent while downloaded pages wait. `start` launches
the server at once, as its own process, so it warms up while the crawler is still importing and
opening its spider; the pool then finds it ready. It is cheap to call and does nothing when the
server already runs. This module imports nothing heavy, so the crawl's own imports come after.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import forkserver

WARMUP = "crawler.extraction_warmup"
DATE_LOCALES_WARMUP = "crawler.date_locales_warmup"  # long-running engines only (its module doc)


def preload(warm_date_locales: bool) -> list[str]:
    """The modules the fork server imports before it forks any worker."""
    return [WARMUP, *([DATE_LOCALES_WARMUP] if warm_date_locales else [])]


def pool_wanted(settings) -> bool:
    """Whether a crawl with these Scrapy settings extracts in a pool (0 processes: inline)."""
    return settings.get("NEWSARCHIVE_EXTRACT_PROCESSES") not in (0, "0")


def configure(warm_date_locales: bool) -> multiprocessing.context.BaseContext:
    """The multiprocessing context of the pool's workers, with the server's preload set (the
    first call in a process decides: a running server keeps what it loaded)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload(warm_date_locales))
    return context


def start(settings) -> None:
    """Launch the fork server now for a crawl with these settings (if it uses a pool)."""
    if pool_wanted(settings):
        configure(settings.getbool("NEWSARCHIVE_EXTRACT_WARM_LOCALES"))
        forkserver.ensure_running()
