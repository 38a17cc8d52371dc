"""The extractor's parser: trafilatura's tree, with every element a plain HtmlElement."""

from pathlib import Path

import pytest
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from crawler.extract import extract
from crawler.text_parse import drop_style_and_svg, parse_html

FIXTURES = Path(__file__).parent / "fixtures"


def test_forms_and_inputs_are_plain_elements():
    tree = parse_html("<html><body><form action='/s'><input name='q'><select><option>a</option></select>"
                      "</form><p>Text</p></body></html>")
    assert {type(node) for node in tree.iter()} == {HtmlElement}
    # lxml.html's own lookup gives these classes of their own (a Python call per element)
    assert type(load_html("<html><body><form><input></form><p>x</p></body></html>").find(".//input")) is not HtmlElement


@pytest.mark.parametrize("text", [
    "", "   ", "plain words, no markup", "<p>a lone paragraph</p>",
    '<?xml version="1.0" encoding="utf-8"?><html><body><p>déclaré</p></body></html>',
    "<html/>\n<body><p>self-closed html</p></body>", "\x00\x0b<html><body><p>control characters</p></body></html>",
    "<!DOCTYPE html><html><body><p>unclosed",
])
def test_odd_input_parses_as_trafilatura_parses_it(text):
    ours, theirs = parse_html(text), load_html(text)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert etree.tostring(ours) == etree.tostring(theirs)


def test_stored_pages_parse_as_trafilatura_parses_them():
    pages = sorted(FIXTURES.rglob("*.html"))
    assert len(pages) >= 10
    for path in pages:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert etree.tostring(parse_html(text)) == etree.tostring(load_html(text)), path


def test_style_sheets_and_drawings_go_and_the_text_around_them_stays():
    tree = parse_html("<html><head><style>p{color:red}</style></head><body><p>Before<svg><title>icon</title>"
                      "<path d='M0'/></svg> after</p><style>.x{}</style><p>Next</p></body></html>")
    drop_style_and_svg(tree)
    assert not tree.xpath("//style | //svg | //*[local-name()='svg']")
    assert [p.text_content() for p in tree.iter("p")] == ["Before after", "Next"]


_ICON = b'<svg class="icon" viewBox="0 0 24 24"><title>Share</title><path d="M0 0h24v24H0z"/></svg>'
_SHEET = b"<style>.share{display:flex} /* 2024-01-02 */ p{margin:0}</style>"


def _with_style_and_icons(body: bytes) -> bytes:
    """A stored page as sites serve it: style sheets in head and body, SVG icons in links and text."""
    body = body.replace(b"</head>", _SHEET + b"</head>", 1).replace(b"<body", _SHEET + b"<body", 1)
    return body.replace(b"</a>", _ICON + b"</a>").replace(b"<p>", b"<p>" + _ICON, 3)


def test_stored_pages_extract_the_same_with_or_without_style_sheets_and_drawings(monkeypatch):
    # trafilatura, jusText and our passes read text: removing style and SVG first must not change
    # what they find (it only makes every later copy and walk of the tree cheaper)
    pages = [_with_style_and_icons(path.read_bytes()) for path in sorted(FIXTURES.rglob("*.html"))]
    assert len(pages) >= 10
    stripped = [extract(body, "https://example.com/a/page") for body in pages]
    assert sum(bool(article.text) for article in stripped) >= 10
    monkeypatch.setattr("crawler.extract.drop_style_and_svg", lambda tree: None)
    kept = [extract(body, "https://example.com/a/page") for body in pages]
    assert [(a.text, a.title, a.author) for a in kept] == [(a.text, a.title, a.author) for a in stripped]


def test_a_date_in_a_style_sheet_is_not_the_page_date():
    # htmldate searches the page's markup, style sheets included, when nothing else dates a page:
    # there the digits of a data URI or a comment become a publication date
    page = (b"<html><head><title>Notes</title><style>.logo{background:url(data:image/svg+xml,%3Csvg"
            b"%20d%3D%22M45.66%2019.03%2026.1z%22%3E)}</style></head><body><article><h1>Notes</h1><p>"
            + b"A paragraph of the article without any date in it, long enough to be kept. " * 5
            + b"</p></article></body></html>")
    assert extract(page, "https://example.com/notes").published is None


def test_text_nested_past_libxml2s_default_depth_is_kept():
    # Broken markup (a <div> opened per comment or per paragraph, never closed) nests deeper than
    # the 256 levels libxml2 allows by default: the text past it was dropped, and with it the article.
    story = "<p>" + "Le conseil municipal a voté hier soir le budget de la commune. " * 5 + "</p>"
    html = "<html><body>" + "<div>" * 600 + story + "</div>" * 600 + "</body></html>"
    assert "budget de la commune" in etree.tostring(parse_html(html), encoding="unicode")
    assert extract(html, "https://journal.example/a").text.startswith("Le conseil municipal a voté")
