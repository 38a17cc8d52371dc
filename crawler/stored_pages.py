"""Re-extracting a stored raw page as the crawl would: the stored charset, the site's learned
furniture and its named spider's drop selectors for the page's date.

Shared by the crawl's re-clean after furniture is learned, `boilerplate --pin` and `reextract`,
so none of them puts furniture back that another removed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from crawler.extract import Article, extract
from crawler.headers import charset_of
from crawler.site_selectors import site_drop_selectors

SelectorsFor = Callable[[str, "datetime | None"], tuple[str, ...]]  # (url, crawled) -> CSS selectors


def stored_page_text(body: bytes, url: str, headers: list[tuple[str, str]], fetched_at: datetime | None = None,
                     *, furniture: frozenset[int] = frozenset(),
                     selectors_for: SelectorsFor = site_drop_selectors,
                     extractor: Callable[..., Article] = extract) -> str | None:
    """The clean text of a stored page, or None when it is a block page or has no text.
    ``extractor``: crawler.extract.extract, or a pool's (the crawl re-cleans in its workers)."""
    article = extractor(body, url, encoding=charset_of(headers), furniture=furniture,
                        drop_selectors=tuple(selectors_for(url, fetched_at)))
    return None if article.blocked or not article.text.strip() else article.text
