"""The article's lead (standfirst) when the extractors left it out.

Many pages set their lead apart from the body, in a "summary", "intro" or "chapo" block above it,
and trafilatura often skips that block. The page names its lead itself: the description meta tags
repeat it (whole or cut short). When the extracted text does not hold the description, the block
of the page that starts with it, above the extracted text, is put back in front of it (or, when
that block is the whole article typed straight into a <div>, its first line up to a <br>). A page
with no description, or one that describes itself otherwise, still names its lead in the block's
class ("teaser", "standfirst", "chapo", "intro"...): such a block between the headline and the text
is put back too.

A sub-headline (a "deck": a heading element, or a block its class names dek, deck, subhead,
subtitle or strapline) is a headline under the headline, not text: it stays out, as the headline
does.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from crawler.html_classes import names_any
from crawler.text_select import is_sentence

LEAD_MIN_WORDS = 8  # a shorter description is a tagline, not a lead
PREFIX_CHARS = 60  # how much of the description must open the block
MAX_LEAD_CHARS = 1500  # a longer block is a container of the article, not its lead
_BLOCKS = frozenset({"p", "div", "h2", "h3", "h4", "section", "header", "span", "strong", "em", "b", "td", "li"})
_LINE_BREAKERS = _BLOCKS - {"span", "strong", "em", "b"} | {"br"}  # what ends a line inside a block
_HEADINGS = frozenset({"h2", "h3", "h4"})
_DECK_WORDS = frozenset({"dek", "deck", "subhead", "subheadline", "subtitle", "strapline"})
_LEAD_WORDS = frozenset({"lead", "teaser", "intro", "introduction", "standfirst", "chapo", "chapeau", "summary",
                         "excerpt", "abstract"})
_MEDIA_WORDS = frozenset({"image", "img", "media", "art", "photo", "video", "figure", "caption", "credit", "picture"})
_NOT_PROSE = etree.XPath(".//*[self::script or self::noscript or self::img or self::figure or self::picture"
                         " or self::video or self::iframe][1]")
_NOT_LEAD_WITHIN = frozenset({"a", "figure", "figcaption"})
_CUT_SHORT = re.compile(r"[,;:]\s*(?:\.\.\.|…)$")
# where a lead can be: the elements with a class that follow the headline, the nearest first (a
# search of the whole page's classes cost as much as the rest of this module)
NAMED_LEAD_REACH = 80
_AFTER_HEADLINE = etree.XPath(f"(//h1)[1]/following::*[@class][position() <= {NAMED_LEAD_REACH}]")
_TEXT_WITH = etree.XPath("//body//text()[contains(., $words)]")


def _visible_text(node: HtmlElement) -> str:
    return " ".join(node.text_content().split())


def _squashed(text: str) -> str:
    return " ".join(text.split()).casefold()


def with_lead(lines: list[str], tree: HtmlElement, lead: str | None) -> list[str]:
    """``lines`` with the page's lead block in front when the extractors missed it."""
    if not lines or not lead or len(lead.split()) < LEAD_MIN_WORDS:
        return lines
    opening = " ".join(lead.split()[:5])
    if opening in "\n".join(lines):  # the text holds the lead (lines are whitespace-collapsed)
        return lines
    prefix = _squashed(lead.rstrip(".…").rstrip())[:PREFIX_CHARS]
    page: str | None = None  # the body's text, read once, for the first block that could be the lead
    for text_node in _TEXT_WITH(tree, words=opening):
        block = text_node.getparent()
        while block is not None and block.tag not in _BLOCKS:
            block = block.getparent()
        if block is None or any(a.tag == "a" for a in block.iterancestors()):
            continue  # a teaser's link to the article, not its lead
        if _is_deck(block):
            return lines
        text = _visible_text(block)
        if len(text) > MAX_LEAD_CHARS:  # a container: the lead may be its first line, up to a <br>
            text = next((run for run in _runs(block) if _squashed(run).startswith(prefix)), "")
        if len(text) > MAX_LEAD_CHARS or not _squashed(text).startswith(prefix) or not is_sentence(text):
            continue
        if page is None:
            page = " ".join(tree.xpath("string(//body)").split())
        if _above(page, text, lines[0]):
            return [text, *lines]
    return lines


def with_named_lead(lines: list[str], tree: HtmlElement, headline: str | None) -> list[str]:
    """``lines`` with the block between the headline and the text that its class names a lead
    (lead, teaser, intro, standfirst, chapo...), when the page's description did not find it."""
    if not lines or not headline:
        return lines
    page: str | None = None
    extracted = "\n".join(lines)
    for block in _AFTER_HEADLINE(tree):
        text = _named_lead_text(block)
        if text is None or text[:PREFIX_CHARS] in extracted:
            continue
        if page is None:
            page = " ".join(tree.xpath("string(//body)").split())
        if 0 <= page.find(headline) < page.find(text[:PREFIX_CHARS]) and _above(page, text, lines[0]):
            return [text, *lines]
    return lines


def _named_lead_text(block: HtmlElement) -> str | None:
    """The block's text when it is prose its class names a lead; None for a sub-headline, the
    picture at the top ("lead-image", "lead-art") and its caption, another story's teaser (a
    link), or a teaser cut short ("... plague,...")."""
    classes = block.get("class")
    if block.tag not in _BLOCKS or not names_any(classes, _LEAD_WORDS) or names_any(classes, _MEDIA_WORDS):
        return None
    if _is_deck(block) or _NOT_PROSE(block) or any(a.tag in _NOT_LEAD_WITHIN for a in block.iterancestors()):
        return None
    text = _visible_text(block)
    if not is_sentence(text) or len(text) > MAX_LEAD_CHARS or _CUT_SHORT.search(text):
        return None
    linked = sum(len(_visible_text(a)) for a in block.iter("a"))
    return text if linked <= 0.5 * len(text) else None


def _runs(block: HtmlElement) -> list[str]:
    """The lines a reader sees in a block that holds text and inline elements: its content split
    at each <br> and each child block (text typed straight into a <div>, lines broken by <br>)."""
    runs, current = [], [block.text or ""]
    for child in block:
        if isinstance(child.tag, str) and child.tag in _LINE_BREAKERS:
            runs.append(current)
            current = []
        else:
            current.append(child.text_content() if isinstance(child.tag, str) else "")
        current.append(child.tail or "")
    runs.append(current)
    return [text for run in runs if (text := " ".join("".join(run).split()))]


def _is_deck(block: HtmlElement) -> bool:
    return any(node.tag in _HEADINGS or names_any(node.get("class"), _DECK_WORDS)
               for node in [block, *block.iterancestors()][:3])


def _above(page: str, lead: str, first_line: str) -> bool:
    """Whether the lead comes before the extracted text's first paragraph in the page's text."""
    at_lead, at_text = page.find(lead[:PREFIX_CHARS]), page.find(" ".join(first_line.split())[:PREFIX_CHARS])
    return 0 <= at_lead < at_text
