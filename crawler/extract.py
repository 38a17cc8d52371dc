"""HTML -> Article: the archive's text extractor, a pure function (no network, no Scrapy, no DB).

trafilatura finds the main text; this module adds what an archive needs around it: robust
decoding, furniture removal (learned per site, and recognised by shape), the lead when the
extractors skip it, metadata, cross-checked dates and soft-block detection. The HTML is parsed
once and the tree reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice

from trafilatura.utils import LANGID_FLAG, language_classifier

from archive.urls import site_of
from crawler import text_meta
from crawler.candidates import main_text
from crawler.text_blocks import block_reason
from crawler.text_dates import (
    choose_dates,
    dateline_date,
    dateline_dates,
    guess_date,
    in_page_offset,
    page_dates,
    zoned_time_elements,
)
from crawler.text_decode import decode_html
from crawler.text_furniture import drop_captions, drop_related_blocks, drop_selected, filter_lines, site_name_keys
from crawler.text_lead import with_lead, with_named_lead
from crawler.text_linklists import drop_link_cards, drop_related_lists
from crawler.text_meta import squash as _squash
from crawler.text_parse import drop_style_and_svg, parse_html
from crawler.text_quality import rejection_reason
from crawler.text_select import page_signals

__all__ = ["Article", "decode_html", "extract"]


@dataclass(frozen=True)
class Article:
    url: str  # the URL the page was fetched from (as given)
    canonical_url: str | None  # absolute rel=canonical href on the same registered domain as url, else None
    title: str | None
    text: str  # clean text: one paragraph per line, joined with "\n", no blank lines, stripped
    author: str | None  # without "Par ", "By ", "Von "... prefixes; several authors joined by ", "
    published: datetime | None  # timezone-aware (UTC if the page gives no offset); never in the future
    updated: datetime | None  # the page's modified date when it gives one
    language: str | None  # ISO 639-1, e.g. "fr"
    site: str  # the site of url (archive.urls.site_of: its normalized host without "www.")
    blocked: str | None = None  # soft block reason when the page is a block page, not an article
    # why the text is not an article although the page is no block page: "repetitive" (one word
    # repeated), "no-sentences" (a long text without a sentence); None for an article
    rejected: str | None = None

    @property
    def refusal(self) -> str | None:
        """Why the archive does not keep this page, as a crawl records it; None for an article."""
        if self.blocked:
            return f"blocked: {self.blocked}"
        if not self.text.strip():
            return "no article text"
        if self.rejected:
            return f"not an article: {self.rejected}"
        return None


# Under this many letters the language detector guesses ("hi" is Afrikaans, "Photo: AFP" Slovak).
MIN_LANGID_LETTERS = 20


def _letters(text: str, enough: int) -> bool:
    """Whether ``text`` has at least ``enough`` letters."""
    count = 0
    for char in text:
        count += char.isalpha()
        if count >= enough:
            return True
    return False


def extract(
    body: bytes | str,
    url: str,
    *,
    encoding: str | None = None,
    feed_date: datetime | None = None,
    furniture: frozenset[int] = frozenset(),
    drop_selectors: tuple[str, ...] = (),
) -> Article:
    """Extract the article in ``body`` (raw response bytes or decoded text) fetched from ``url``.

    encoding: the HTTP Content-Type charset (may be wrong or None). feed_date: the date the
    feed gave for this item, cross-checked with the page. furniture: fingerprints
    (archive.text.line_fingerprint) of lines learned as furniture for this site. drop_selectors: CSS
    selectors of elements the site's spider knows are furniture.
    """
    site = site_of(url)
    html = decode_html(body, encoding)
    tree = parse_html(html)
    if tree is None:
        return Article(url, None, None, "", None, None, None, None, site)

    # first: every later pass (htmldate's and trafilatura's copies included) walks a smaller tree, and
    # a date htmldate finds in a style sheet is a data URI's digits, not the page's date
    drop_style_and_svg(tree)
    page = text_meta.read_page(tree)
    title = text_meta.title_of(page, site)
    published_dates, modified_dates = page_dates(page, tree)
    published, updated = choose_dates(published_dates, modified_dates, url, feed_date)
    language = text_meta.language_of(page, tree)
    if published is None and feed_date is None:
        # last resorts, surest first: htmldate's markup heuristics, the visible dateline, then
        # dates in the page's text (what trafilatura does by default)
        guessed = guess_date(tree, url) or dateline_date(tree, language) or guess_date(tree, url, extensive=True)
        published, _ = choose_dates([guessed] if guessed else [], [], url, None)
    elif published is not None:  # the datelines are parsed only for a UTC stamp (lazily)
        published = in_page_offset(published, chain(zoned_time_elements(tree),
                                                    islice(dateline_dates(tree, language, timed=True), 2)))
    canonical = text_meta.canonical_of(tree, url)
    author = text_meta.author_of(page, tree)
    names = site_name_keys(text_meta.site_name(page), site)

    if drop_selectors:
        drop_selected(tree, drop_selectors)
    signals = page_signals(tree, url, page.metas, page.ld)  # before furniture is removed: its links count
    drop_related_blocks(tree)
    drop_captions(tree)
    drop_related_lists(tree, url)
    drop_link_cards(tree, url)
    lines = filter_lines(main_text(tree, url, language, signals), furniture, names)
    if lines and _squash(lines[0]) in {_squash(t) for t in (title, page.h1, page.html_title) if t}:
        lines = lines[1:]  # the headline repeated at the top of the body
    lines = with_named_lead(with_lead(lines, tree, signals.lead), tree, page.h1)
    text = "\n".join(lines)
    if language is None and LANGID_FLAG and _letters(text, MIN_LANGID_LETTERS):  # trafilatura's detector, if installed
        language = (language_classifier(text, "") or "")[:2] or None

    blocked = block_reason(tree, page.html_title or title, text)
    rejected = None if blocked else rejection_reason(text)
    return Article(url, canonical, title, text, author, published, updated, language, site, blocked, rejected)

