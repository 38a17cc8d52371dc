"""Imported by the fork server of a long-running engine's extraction pool (after
crawler/extraction_warmup.py): it loads every language's date tables into memory before any
worker is forked.

htmldate's search of a page's free text, the last resort for pages that date themselves nowhere
else (about one page in ten), asks dateparser about every date-like string with no language set;
a string that is no date is tried against all 205 locales, and each locale's tables load and
compile on first use: about 2 s, paid by each worker (and each recycled one) on its first such
pages, each holding a private copy. Loaded here once, forked workers share them. A one-shot
crawl skips this (its pool would start 2 s later for pages that may never need it).
"""

from crawler.text_dates import load_all_date_locales

try:
    load_all_date_locales()
except Exception:  # noqa: BLE001 - a failed warm-up leaves the workers cold, never broken
    pass
