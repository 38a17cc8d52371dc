"""Choose the main text among candidate extractions (crawler.candidates) by signals of the page
itself, none tuned to a benchmark:

* what each paragraph is: a sentence (words and a sentence end), the text of a link to another
  page of the same site (another article's headline), the text of any other link, or neither;
* the page's own summary of its article, where it gives one: JSON-LD ``articleBody`` (the
  article as the publisher serialised it) or the description meta tags (its lead);
* agreement: a paragraph that only one extractor found, and that is no sentence, is doubtful.

A candidate's worth is the characters of its sentences, minus those of headlines and links
(other articles, menus), minus part of the rest (tables of unrelated rows, labels). When the page
gives an ``articleBody``, the candidate closest to it wins outright.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from archive.text import normalize_line
from crawler.text_quality import rejection_reason

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?…:;。！？]['\"»”’)\]]*$|[.!?。！？]['\"»”’)]*\s+\S")
_NO_SPACE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
ANCHOR_MIN_WORDS = 3  # shorter link texts (menus, "Home") are not taken for headlines
HEADLINE_WEIGHT = 2.0  # a headline of another article costs twice its length
LINK_WEIGHT = 1.0
OTHER_WEIGHT = 0.3
REFERENCE_MIN_WORDS = 40  # an articleBody shorter than this is a teaser, not a reference
REFERENCE_AGREEMENT = 0.5  # shingle F1 with the articleBody above which a candidate is that article
# a candidate shorter than SUSPICIOUSLY_SHORT characters or SHARE_OF_PARAGRAPHS of the page's <p>
# text, or with fewer than CONFIDENT_SENTENCE_CHARS of sentences and not covering the page's lead,
# is checked against the costlier candidates
SUSPICIOUSLY_SHORT = 250
SHARE_OF_PARAGRAPHS = 0.4
CONFIDENT_SENTENCE_CHARS = 1000
# a fuller candidate is merged in when the best precise one is under this share of its length
FULLER_SHARE = 0.5


@dataclass
class PageSignals:
    """What the page says about itself, read once from its tree."""

    internal_anchors: set[str] = field(default_factory=set)  # link texts to other pages of this site
    other_anchors: set[str] = field(default_factory=set)  # link texts to other sites, or without target
    reference: str | None = None  # JSON-LD articleBody
    lead: str | None = None  # og:description / description


@lru_cache(maxsize=16384)  # a page's menus repeat their links, and each link is asked about twice
def is_internal_link(href: str | None, host: str, path: str) -> bool:
    """Whether an href leads to another page of the same host (cheap: no URL joining)."""
    href = (href or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return False
    if href.startswith("//"):
        href = "http:" + href
    if "://" in href[:12]:
        try:
            parts = urlsplit(href)
            return parts.hostname == host and parts.path.rstrip("/") not in ("", path)
        except ValueError:  # a malformed href ("https://[not-an-ip]/") leads nowhere
            return False
    return href.split("#")[0].split("?")[0].rstrip("/") not in ("", path)


def page_signals(tree: HtmlElement, url: str, metas: dict[str, str], ld: list[dict]) -> PageSignals:
    signals = PageSignals()
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path.rstrip("/")
    for a in tree.iter("a"):
        raw = a.text_content()
        if raw.count(" ") < ANCHOR_MIN_WORDS - 1:  # cheap: single words are not headlines
            continue
        text = normalize_line(raw)
        if len(text.split()) < ANCHOR_MIN_WORDS:
            continue
        if is_internal_link(a.get("href"), host, path):
            signals.internal_anchors.add(text)
        else:
            signals.other_anchors.add(text)
    body = next((obj.get("articleBody") for obj in ld if isinstance(obj.get("articleBody"), str)), None)
    if body and len(_WORD.findall(body)) >= REFERENCE_MIN_WORDS:
        signals.reference = body
    signals.lead = metas.get("og:description") or metas.get("description") or metas.get("twitter:description")
    return signals


def is_sentence(line: str) -> bool:
    if _NO_SPACE_SCRIPT.search(line):
        return len(line) >= 20 and bool(_SENTENCE_END.search(line))
    return len(line.split()) >= 6 and bool(_SENTENCE_END.search(line))


def line_kind(line: str, signals: PageSignals) -> str:
    norm = normalize_line(line.lstrip("-•* "))
    if norm in signals.internal_anchors:
        return "headline"
    if norm in signals.other_anchors:
        return "link"
    return "sentence" if is_sentence(line) else "other"


def worth(lines: list[str], signals: PageSignals) -> float:
    total = 0.0
    for line in lines:
        kind = line_kind(line, signals)
        if kind == "sentence":
            total += len(line)
        elif kind == "headline":
            total -= HEADLINE_WEIGHT * len(line)
        elif kind == "link":
            total -= LINK_WEIGHT * len(line)
        else:
            total -= OTHER_WEIGHT * len(line)
    return total


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.casefold())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)} if len(words) >= 3 else {tuple(words)}


def closeness(lines: list[str], reference: str) -> float:
    """F1 of the 3-word shingles of a candidate against the reference text."""
    mine, theirs = _shingles("\n".join(lines)), _shingles(reference)
    common = len(mine & theirs)
    return 2 * common / (len(mine) + len(theirs)) if mine and theirs else 0.0


def covers(lines: list[str], text: str | None, share: float = 0.6) -> bool:
    """Whether most of ``text``'s shingles (the page's lead) appear in the candidate."""
    if not text:
        return True
    theirs = _shingles(text)
    return len(theirs & _shingles("\n".join(lines))) >= share * len(theirs)


def without_headlines(lines: list[str], signals: PageSignals) -> list[str]:
    """The candidate without paragraphs that are the text of a link to another page of the site."""
    return [line for line in lines if line_kind(line, signals) != "headline"]


def sentence_chars(lines: list[str], signals: PageSignals) -> int:
    return sum(len(line) for line in lines if line_kind(line, signals) == "sentence")


def plausible(lines: list[str], signals: PageSignals, paragraph_chars: int) -> bool:
    """Whether a candidate looks like the whole article, so that no costlier candidate is needed:
    long enough in absolute terms and against the page's <p> text, made of sentences, covering the
    page's own lead, close to its articleBody where it has one, and no junk text (a calendar or a
    keyword list that a pass took for the article, while the article is elsewhere on the page)."""
    chars = sum(map(len, lines))
    if chars < SUSPICIOUSLY_SHORT or chars < SHARE_OF_PARAGRAPHS * paragraph_chars:
        return False
    if sentence_chars(lines, signals) < CONFIDENT_SENTENCE_CHARS:
        # few sentences: maybe a calendar or a teaser (a text of many sentences is neither)
        if is_junk(lines) or not covers(lines, signals.lead, 0.5):
            return False
    return not signals.reference or closeness(lines, signals.reference) >= REFERENCE_AGREEMENT


def is_junk(lines: list[str]) -> bool:
    """Whether a candidate is no article text at all (text_quality: repetitive, or no sentence)."""
    return rejection_reason("\n".join(lines)) is not None


def has_article_text(lines: list[str], signals: PageSignals) -> bool:
    """Whether a candidate has at least one sentence that is not a link, and is no junk."""
    return sentence_chars(lines, signals) > 0 and not is_junk(lines)


def best_by_reference(candidates: dict[str, list[str]], reference: str | None) -> str | None:
    """The candidate closest to the page's articleBody, when one is close enough."""
    if not reference:
        return None
    scores = {name: closeness(lines, reference) for name, lines in candidates.items() if lines}
    best = max(scores, key=lambda name: scores[name], default=None)
    return best if best is not None and scores[best] >= REFERENCE_AGREEMENT else None


def supported_additions(base: list[str], fuller: list[str], independent: list[str], signals: PageSignals) -> list[str]:
    """``fuller`` with only what it adds to ``base`` when that is a sentence the independent
    extractor found too; the rest of a leaky pass (other stories, tables, live posts) stays out.
    In the fuller candidate's order, with base paragraphs it lacks appended."""
    base_pool, other_pool = _pool(base), _pool(independent)
    kept = []
    for line in fuller:
        own = _shingles(line)
        if _share(own, base_pool) >= 0.5 or (line_kind(line, signals) == "sentence" and _share(own, other_pool) >= 0.5):
            kept.append(line)
    kept_pool = _pool(kept)
    return kept + [line for line in base if _share(_shingles(line), kept_pool) < 0.5] if kept else base


def _pool(lines: list[str]) -> set[tuple[str, ...]]:
    pool: set[tuple[str, ...]] = set()
    for line in lines:
        pool |= _shingles(line)
    return pool


def _share(shingles: set, pool: set) -> float:
    return len(shingles & pool) / len(shingles) if shingles else 0.0
