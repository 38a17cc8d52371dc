"""Imported once by the extraction pool's fork server, never by the crawler itself: it loads the
worker's code and runs one small page through it, so the extractor's lazily loaded data (the
language identifier's model, date parsers' tables) is in memory before any worker is forked.

Without it every worker, and every worker recycled after ``max_tasks`` pages, paid about 0.3 s of
imports and 0.5 s of loads on its first pages; forked from a warm server, they share its memory.
"""

from crawler.extraction_pool import extract_for_archive
from crawler.text_dates import parse_date

_PAGE = """<html><head><title>Warm-up</title>
<link rel="canonical" href="https://www.example.org/2024/01/02/warm-up/">
<meta property="article:published_time" content="2024-01-02T10:00:00Z">
</head><body><article><h1>Warm-up</h1><p class="date">2 January 2024</p><p class="byline">By A. Writer</p>
<p>This short paragraph is here so that the extractor reads a page the way it reads any article,
and the language of its text has to be identified from the words themselves.</p>
<p>A second paragraph, with a date in its text: published on Tuesday, 2 January 2024 at 10:00.</p>
</article></body></html>"""

try:
    extract_for_archive(_PAGE.encode(), "https://example.org/2024/01/02/warm-up/", {}, frozenset())
    parse_date("mardi 2 janvier 2024 à 10h00", "fr")  # a date in words: dateparser and its zone tables
except Exception:  # noqa: BLE001 - a failed warm-up leaves the workers cold, never broken
    pass
