"""Re-extracting a stored raw page as the crawl would: the stored charset, the site's learned
furniture and its named spider's drop selectors for the page's date.

Shared by the crawl's re-clean after furniture is learned, `boilerplate --pin` and `reextract`,
so none of them puts furniture back that another removed.
"""

from __future__ import annotations

from datetime import datetime
from email.message import Message

from crawler.extract import extract


def charset_of(headers: list[tuple[str, str]]) -> str | None:
    """The charset parameter of a stored Content-Type header, if any."""
    for name, value in headers:
        if name.lower() == "content-type":
            message = Message()
            message["Content-Type"] = value
            return message.get_content_charset()
    return None


def stored_page_text(body: bytes, url: str, headers: list[tuple[str, str]], fetched_at: datetime | None = None,
                     *, furniture: frozenset[int] = frozenset(), selectors_for=None) -> str | None:
    """The clean text of a stored page, or None when it is a block page or has no text."""
    if selectors_for is None:
        from crawler.spiders.site_base import site_drop_selectors as selectors_for
    article = extract(body, url, encoding=charset_of(headers), furniture=furniture,
                      drop_selectors=tuple(selectors_for(url, fetched_at)))
    return None if article.blocked or not article.text.strip() else article.text
