"""What the last-resort date steps cost the extractor, in one run: pages/s of crawler.extract with
every step, without the search of the page's text for dates (htmldate's extensive search, run
only when the page's metadata, markup and datelines give none), without re-expressing UTC stamps
in the page's offset, and without both. The variants take turns page by page, so load on the
machine hits all alike; the date parsers are warmed first, as in a long-lived extraction worker.

Usage: .venv/bin/python -m bench.dates [--sets aeb,trafeval]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime

from htmldate.extractors import try_date_expr

import crawler.extract as extract_module
from bench.datasets import load_aeb, load_trafeval, page_url
from crawler.text_dates import parse_date

_guess, _offset = extract_module.guess_date, extract_module.in_page_offset


def _guess_without_text_search(tree, url, *, extensive=False):
    return None if extensive else _guess(tree, url)


VARIANTS = {
    "every step": (_guess, _offset),
    "no text search": (_guess_without_text_search, _offset),
    "no page offset": (_guess, lambda instant, shown: instant),
    "neither": (_guess_without_text_search, lambda instant, shown: instant),
}


def warm_up() -> None:
    try_date_expr("vvv 17 qqq 2021", "%Y-%m-%d", True, datetime(1995, 1, 1), datetime.now())  # all locales
    for language in ("de", "en", "es", "fr", "it"):
        parse_date("12 qqq 2024 x", language)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="aeb,trafeval")
    args = parser.parse_args(argv)
    warm_up()
    loaders = {"aeb": load_aeb, "trafeval": load_trafeval}
    try:
        for name in args.sets.split(","):
            pages = loaders[name]()[0]
            seconds = dict.fromkeys(VARIANTS, 0.0)
            for page in pages:
                for variant, (guess, offset) in VARIANTS.items():
                    extract_module.guess_date, extract_module.in_page_offset = guess, offset
                    started = time.perf_counter()
                    extract_module.extract(page.body, page_url(page))
                    seconds[variant] += time.perf_counter() - started
            print(f"== {name}: {len(pages)} pages")
            for variant, spent in seconds.items():
                ratio = spent / seconds["neither"]
                print(f"  {variant:16} {len(pages) / spent:6.1f} pages/s  {ratio:.3f}x the time of neither")
    finally:
        extract_module.guess_date, extract_module.in_page_offset = _guess, _offset
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
