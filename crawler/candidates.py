"""Candidate extractions of a page's main text, each as a list of paragraphs.

Three extractors that fail differently: trafilatura favouring precision (misses parts of long or
oddly built articles, sometimes returns a teaser box), trafilatura's defaults (finds the whole
article more often, and more of the page around it), and jusText, which classifies every
paragraph of the page by its length, stop-word density and link density (independent of
trafilatura's tree heuristics). crawler.text_select chooses between them.
"""

from __future__ import annotations

from copy import deepcopy
from functools import lru_cache

import trafilatura
from justext import core as justext_core
from justext import get_stoplist, get_stoplists
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.settings import JUSTEXT_LANGUAGES

from crawler.justext_revise import revise_paragraph_classification
from crawler.text_select import (
    FULLER_SHARE,
    PageSignals,
    best_by_reference,
    has_article_text,
    plausible,
    supported_additions,
    without_headlines,
    worth,
)

# jusText's own defaults, except a lower stop-word bar for short paragraphs: news paragraphs of
# one or two sentences are common, and stop-word lists of some languages are short
_JUSTEXT = {"length_low": 70, "length_high": 200, "stopwords_low": 0.25, "stopwords_high": 0.3,
            "max_link_density": 0.2, "no_headings": False}


_NOT_TEXT = ("script", "style", "noscript", "template", "svg", "head", "iframe", "form", "button", "select")


def lines_of(text: str | None) -> list[str]:
    """Paragraphs of an extracted text: one per line, whitespace collapsed, none empty."""
    return [stripped for line in (text or "").splitlines() if (stripped := " ".join(line.split()))]


def trafilatura_precise(tree: HtmlElement, url: str) -> list[str]:
    """trafilatura favouring precision, in its fast mode (no fallback extractors), no comments."""
    return lines_of(trafilatura.extract(tree, url=url, include_comments=False, favor_precision=True, fast=True))


def trafilatura_default(tree: HtmlElement, url: str) -> list[str]:
    """trafilatura with its default balance (fast mode, no comments)."""
    return lines_of(trafilatura.extract(tree, url=url, include_comments=False, fast=True))


@lru_cache(maxsize=None)
def _stoplist(language: str | None) -> frozenset[str]:
    name = JUSTEXT_LANGUAGES.get(language or "")
    if name:
        try:
            return frozenset(get_stoplist(name))
        except ValueError:
            pass
    # unknown language: every list jusText has (what trafilatura does too)
    return frozenset(word for name in get_stoplists() for word in get_stoplist(name))


def justext_paragraphs(tree: HtmlElement, language: str | None) -> list:
    """jusText's paragraphs of the whole page, classified (``class_type`` "good" is content)."""
    try:
        cleaned = deepcopy(tree)
        etree.strip_elements(cleaned, *_NOT_TEXT, with_tail=False)
        etree.strip_tags(cleaned, etree.Comment)
        paragraphs = justext_core.ParagraphMaker.make_paragraphs(cleaned)
    except Exception:  # noqa: BLE001 - a page jusText cannot read gives no candidate, not a failure
        return []
    justext_core.classify_paragraphs(paragraphs, _stoplist(language), **_JUSTEXT)
    revise_paragraph_classification(paragraphs)  # jusText's, in linear time (crawler/justext_revise.py)
    return paragraphs


def justext_text(paragraphs: list) -> list[str]:
    return lines_of("\n".join(p.text for p in paragraphs if p.class_type == "good"))


def trafilatura_precise_with_fallbacks(tree: HtmlElement, url: str) -> list[str]:
    """trafilatura favouring precision, with its own fallback extractors (readability, jusText)."""
    return lines_of(trafilatura.extract(tree, url=url, include_comments=False, favor_precision=True))


def main_text(tree: HtmlElement, url: str, language: str | None, signals: PageSignals) -> list[str]:
    """The article's paragraphs, chosen among candidates computed cheapest first: a costlier
    candidate is computed only when the ones at hand do not look like the whole article
    (text_select.plausible). Other articles' headlines are removed from every candidate."""
    paragraph_chars = sum(len(p.text_content()) for p in tree.iter("p"))
    found = {"precise": without_headlines(trafilatura_precise(tree, url), signals)}
    if plausible(found["precise"], signals, paragraph_chars):
        return found["precise"]
    found["precise+fallbacks"] = without_headlines(trafilatura_precise_with_fallbacks(tree, url), signals)
    best = best_by_reference(found, signals.reference) or max(found, key=lambda n: worth(found[n], signals))
    if plausible(found[best], signals, paragraph_chars):
        return found[best]
    found["default"] = without_headlines(trafilatura_default(tree, url), signals)
    by_reference = best_by_reference(found, signals.reference)
    if by_reference:
        return found[by_reference]
    if not has_article_text(found[best], signals):
        if has_article_text(found["default"], signals):
            best = "default"
        else:  # every trafilatura pass found no sentence, or took a calendar or a table for the article
            independent = justext_candidate(tree, language, signals)
            return independent if has_article_text(independent, signals) else found[best]
    if sum(map(len, found[best])) >= FULLER_SHARE * sum(map(len, found["default"])):
        return found[best]  # the fuller pass adds little: not worth the risk of its leaks
    return supported_additions(found[best], found["default"], justext_candidate(tree, language, signals), signals)


def justext_candidate(tree: HtmlElement, language: str | None, signals: PageSignals) -> list[str]:
    """jusText's good paragraphs of the page, without other articles' headlines."""
    return without_headlines(justext_text(justext_paragraphs(tree, language)), signals)
