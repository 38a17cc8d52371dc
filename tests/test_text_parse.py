"""The extractor's parser: trafilatura's tree, with every element a plain HtmlElement."""

from pathlib import Path

import pytest
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from crawler.text_parse import parse_html

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
