"""Functions for the extraction pool's workers in tests: each misbehaves the way a page can."""

from __future__ import annotations

import os
import time


def echo(body: bytes, url: str, kwargs: dict) -> tuple[int, str, int]:
    return len(body), url, os.getpid()


def hang(body: bytes, url: str, kwargs: dict) -> None:
    while True:  # a page the extractor never finishes
        time.sleep(0.05)


def crash(body: bytes, url: str, kwargs: dict) -> None:
    os._exit(3)  # a worker that dies (a segfault in a C library looks like this to the pool)


def hog(body: bytes, url: str, kwargs: dict) -> int:
    return len(bytearray(8 * 1024**3))  # more memory than the limit allows


def warmth(body: bytes, url: str, kwargs: dict) -> tuple[bool, bool, bool]:
    """What a worker has loaded before its first page: the worker's code, the language
    identifier's model and dateparser."""
    import sys

    from py3langid import langid

    return "crawler.extraction_pool" in sys.modules, langid.IDENTIFIER is not None, "dateparser" in sys.modules


def date_locales(body: bytes, url: str, kwargs: dict) -> int:
    """How many dateparser locales a worker has loaded before its first page."""
    from dateparser.languages.loader import LocaleDataLoader

    return len(LocaleDataLoader._loaded_locales)


def parent(body: bytes, url: str, kwargs: dict) -> int:
    """The process the worker was forked from."""
    return os.getppid()
