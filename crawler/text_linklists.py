"""Lists of links to other articles of the same site ("Sur le même sujet", "Related", "Ver
también", whatever the heading says, in any language), recognised by structure and removed
before extraction.

A list is furniture when it has at least MIN_ITEMS items and every item is essentially one link
(LINKED_SHARE of its text) to another page of the same site. Lists of steps or facts (text, not
links), tables of contents (links within the page) and source lists (links to other sites) stay.
A short label just before such a list (a heading or a line of a few words with no sentence end)
goes with it.

The same links also come inside a paragraph, as a hover card on a name or a tag (a picture, the
name, and the latest headlines about it, shown on mouse-over): the smallest element of a
paragraph that holds at least MIN_ITEMS headlines (links of HEADLINE_WORDS words or more to
other pages of the site) and is LINKED_SHARE links is removed, and the sentence around it stays.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from crawler.text_select import is_internal_link

MIN_ITEMS = 2
LINKED_SHARE = 0.8
LABEL_MAX_WORDS = 8
HEADLINE_WORDS = 3
_SENTENCE_END = re.compile(r"[.!?…]['\"»”’)]*$")
_LABEL_TAGS = {"h2", "h3", "h4", "h5", "h6", "p", "strong", "b", "span", "div"}


def _internal_links(node: HtmlElement, host: str, path: str) -> list[HtmlElement]:
    return [a for a in node.iter("a") if is_internal_link(a.get("href"), host, path)]


def _collapsed(node: HtmlElement) -> str:
    return " ".join(node.text_content().split())


def _mostly_links(text: str, links: list[HtmlElement]) -> bool:
    """Whether the links' text is LINKED_SHARE or more of ``text`` (whitespace collapsed)."""
    return sum(len(_collapsed(a)) for a in links) >= LINKED_SHARE * len(text)


def _item_is_one_internal_link(item: HtmlElement, host: str, path: str) -> bool:
    text = _collapsed(item)
    if not text:
        return False
    links = _internal_links(item, host, path)
    return bool(links) and _mostly_links(text, links)


def is_related_list(node: HtmlElement, host: str, path: str) -> bool:
    items = [child for child in node if isinstance(child.tag, str) and child.tag == "li"]
    return len(items) >= MIN_ITEMS and all(_item_is_one_internal_link(item, host, path) for item in items)


def _label_before(node: HtmlElement) -> HtmlElement | None:
    previous = node.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    if previous is None or previous.tag not in _LABEL_TAGS or previous.find(".//a") is not None:
        return None
    text = _collapsed(previous)
    if not text or len(text.split()) > LABEL_MAX_WORDS or _SENTENCE_END.search(text):
        return None
    return previous


def drop_related_lists(tree: HtmlElement, url: str) -> int:
    """Remove same-site link lists (and their label) from the tree; returns how many."""
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path.rstrip("/")
    doomed = [node for node in tree.iter("ul", "ol") if is_related_list(node, host, path)]
    for node in doomed:
        if node.getparent() is None:
            continue
        label = _label_before(node)
        if label is not None:
            label.drop_tree()
        node.drop_tree()
    return len(doomed)


def _link_card(node: HtmlElement, host: str, path: str) -> bool:
    links = _internal_links(node, host, path)
    headlines = [a for a in links if len(a.text_content().split()) >= HEADLINE_WORDS]
    return len(headlines) >= MIN_ITEMS and _mostly_links(_collapsed(node), links)


def drop_link_cards(tree: HtmlElement, url: str) -> int:
    """Remove hover cards of other articles' headlines from inside paragraphs; returns how many."""
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path.rstrip("/")
    doomed: list[HtmlElement] = []
    for paragraph in tree.iter("p"):
        if len(paragraph.findall(".//a")) < MIN_ITEMS:  # cheap: most paragraphs have fewer links
            continue
        cards = [node for node in paragraph.iterdescendants()
                 if isinstance(node.tag, str) and node.tag != "a" and _link_card(node, host, path)]
        # the innermost: an outer wrapper may also hold the name the card is about
        doomed.extend(card for card in cards if not any(other in cards for other in card.iterdescendants()))
    for node in doomed:
        if node.getparent() is not None:
            node.drop_tree()  # keeps the tail text
    return len(doomed)
