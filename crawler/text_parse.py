"""HTML text -> the lxml tree every step of the extractor reads (parsed once per page).

trafilatura's parser settings (comments and processing instructions dropped, no ids collected)
and its repairs of faulty markup, with two differences. libxml2's depth limit is lifted from 256
to 2048 levels (huge_tree): broken markup that opens a <div> per paragraph and never closes it
nests deeper than 256, and the text past the limit was dropped (the same trees on all 1,171
shared pages, at the same speed). And every element is a plain HtmlElement,
chosen in C. lxml.html's default asks a Python method for each element proxy it creates (to give
forms and inputs classes of their own, which nothing here uses); the extractor and trafilatura
create millions of proxies, and on news pages that lookup was a tenth of the extractor's time.
"""

from __future__ import annotations

from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HTMLParser, HtmlProcessingInstruction, fromstring
from trafilatura.utils import is_dubious_html, repair_faulty_html

_PARSER = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True,
                     huge_tree=True)
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))


def parse_html(html: str) -> HtmlElement | None:
    """The page's tree, or None when the text is empty or not HTML at all."""
    if not html.strip():
        return None
    beginning = html[:50].lower()
    html = repair_faulty_html(html, beginning)
    try:
        tree = fromstring(html, parser=_PARSER)
    except (ValueError, etree.LxmlError):  # ValueError: a str that declares its encoding (lxml wants bytes)
        tree = None
    if tree is None or len(tree) < 1:
        tree = _from_bytes(html)
    # text with no trace of "html" in its first characters that parses to a lone element is no page
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None
    return tree


def drop_style_and_svg(tree: HtmlElement) -> None:
    """Remove style sheets and inline SVG drawings (their tail text stays): no extractor reads
    them as text, and an icon set in SVG can be a third of a page's elements, which every later
    pass copies and walks again."""
    etree.strip_elements(tree, "style", "svg", "{http://www.w3.org/2000/svg}svg", with_tail=False)


def _from_bytes(html: str) -> HtmlElement | None:
    try:
        return fromstring(html.encode("utf-8", "surrogatepass"), parser=_PARSER)
    except (ValueError, etree.LxmlError):
        return None
