"""OPML, the feed readers' subscription lists: read one (`sources import`), write one (`sources export`).

Reading is two steps. The file must first be a well-formed XML document whose root is
``<opml>`` (the standard library's expat parser, which expands no external entity and stops
entity-expansion bombs); listparser's own parser recovers from broken markup, which would
import half of a truncated file. Then listparser walks the outlines, nested at any depth, and
gives each feed's ``xmlUrl``; it is handed the document expat read, re-encoded as UTF-8 (it
would read other encodings, or UTF-8 without a declaration, as Latin-1). Outlines that only link to
another subscription list are not fetched: they are reported, never followed.
"""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import datetime, timezone

import listparser

MAX_BYTES = 64 << 20  # a list of 100,000 feeds is about 15 MB


class OpmlError(ValueError):
    """Not a readable OPML document (malformed XML, another format, too large)."""


@dataclass(frozen=True)
class Subscriptions:
    feeds: list[tuple[str, str]]  # (xmlUrl, title), in document order, each URL once
    linked_lists: list[str]  # outlines pointing at other subscription lists (not followed)
    without_feed: int  # outlines with a web page (htmlUrl) but no feed


def read(data: bytes) -> Subscriptions:
    """The feeds of an OPML document. Raises OpmlError, with a one-line reason."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"larger than {MAX_BYTES >> 20} MB: not a subscription list")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise OpmlError(f"malformed OPML: {exc}") from None
    tag = root.tag.rsplit("}", 1)[-1]
    if tag.lower() != "opml":
        raise OpmlError(f"not an OPML document: its root element is <{tag}>, not <opml>")
    if root.find("body") is None:
        raise OpmlError("not an OPML document: it has no <body>")
    # What expat read, as UTF-8 with its declaration: listparser's HTML parser would read bytes
    # without one (or in another encoding) as Latin-1. Bytes, never a URL: it fetches nothing.
    parsed = listparser.parse(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))
    feeds = {}
    for feed in parsed.feeds:
        feeds.setdefault(feed.url, feed.get("title") or "")
    return Subscriptions(list(feeds.items()), [item.url for item in parsed.lists], len(parsed.opportunities))


def write(feeds: list[tuple[str, str]], *, title: str = "newsarchive sources",
          now: datetime | None = None) -> bytes:
    """An OPML 2.0 document listing these (feed URL, title) pairs, as feed readers import it."""
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = title
    ElementTree.SubElement(head, "dateCreated").text = email.utils.format_datetime(now or datetime.now(timezone.utc))
    body = ElementTree.SubElement(opml, "body")
    for url, name in feeds:
        ElementTree.SubElement(body, "outline", type="rss", text=name or url, title=name or url, xmlUrl=url)
    ElementTree.indent(opml)
    return ElementTree.tostring(opml, encoding="utf-8", xml_declaration=True) + b"\n"
