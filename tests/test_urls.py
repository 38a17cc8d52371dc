"""Canonical article URLs: w3lib's canonical form, courlan's and our tracker lists, AMP markers."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.store import ArticleFields, Page, save_article
from archive.urls import InvalidURL, clean_url, is_tracking_param


@pytest.mark.parametrize("url, canonical", [
    # the same query in another order, or with a fragment, is the same article
    ("https://news.test/a?b=2&a=1", "https://news.test/a?a=1&b=2"),
    ("https://news.test/a?a=1&b=2#comments", "https://news.test/a?a=1&b=2"),
    ("https://news.test/a?b=5&b=2", "https://news.test/a?b=2&b=5"),
    # percent-encoding normalized: case of escapes, unreserved characters, spaces, non-ASCII
    ("https://news.test/caf%c3%a9?q=b%20c", "https://news.test/caf%C3%A9?q=b+c"),
    ("https://news.test/%7Eauteur/", "https://news.test/~auteur/"),
    ("https://news.test/résumé", "https://news.test/r%C3%A9sum%C3%A9"),
    ("https://news.test/a/../b/./c", "https://news.test/b/c"),
    # host as it is looked up, default port dropped, other ports kept
    ("HTTPS://News.TEST.:443", "https://news.test/"),
    ("http://news.test:8080/a", "http://news.test:8080/a"),
    ("https://bücher.test/x", "https://xn--bcher-kva.test/x"),
    ("http://[::0:1]:80/a", "http://[::1]/a"),
    # our tracker rules
    ("https://news.test/a?utm_source=rss&utm_medium=rss&fbclid=x&gclid=y", "https://news.test/a"),
    ("https://news.test/a?itm_source=home&mtm_campaign=nl&ga_source=x&pk_kwd=y&id=4", "https://news.test/a?id=4"),
    ("https://news.test/a?_ga=1.2&_gl=3&xtor=RSS-1&at_medium=social&page=2", "https://news.test/a?page=2"),
    # courlan's list: whole words or parts of a name, never a longer word that starts like one
    ("https://news.test/a?ref=rss&source=twitter&aff_id=3&partnerid=9", "https://news.test/a"),
    ("https://news.test/a?reference=7&gallery=5&global=1&sources=2", "https://news.test/a?gallery=5&global=1"
                                                                     "&reference=7&sources=2"),
    # names courlan drops that select content on some sites
    ("https://news.test/news.php?cid=123&session=2024", "https://news.test/news.php?cid=123&session=2024"),
    # AMP variants
    ("https://news.test/story/amp/", "https://news.test/story/"),
    ("https://news.test/story/amp/amp", "https://news.test/story/"),
    ("https://news.test/story/?amp=1&outputType=amp", "https://news.test/story/"),
    ("https://news.test/story/?output=print", "https://news.test/story/?output=print"),
    # a blank parameter is kept (it may select content), an empty query is not
    ("https://news.test/a?print&x=", "https://news.test/a?print=&x="),
    ("https://news.test/a?", "https://news.test/a"),
])
def test_canonical_form(url, canonical):
    assert clean_url(url) == canonical
    assert clean_url(canonical) == canonical  # canonical URLs are fixed points


@pytest.mark.parametrize("name, tracking", [
    ("utm_content", True), ("UTM_Source", True), ("itm_medium", True), ("mtm_kwd", True), ("ga_campaign", True),
    ("fbclid", True), ("msclkid", True), ("ref_src", True), ("campaign", True), ("medium", True),
    ("id", False), ("page", False), ("q", False), ("p", False), ("gallery", False), ("referendum", False),
    ("affaire", False), ("cid", False), ("uid", False), ("session", False),
])
def test_tracking_parameter_names(name, tracking):
    assert is_tracking_param(name) is tracking


@pytest.mark.parametrize("url", ["ftp://news.test/a", "https://", "https://exa mple.test/", "javascript:alert(1)",
                                 "https://news.test/" + "a" * 2100, "https://user:pw@news.test/"])
def test_invalid_urls_are_refused(url):
    with pytest.raises(InvalidURL):
        clean_url(url)


def test_reordered_and_tracked_variants_are_one_article(db):
    body = b"<p>x</p>"
    first = save_article(db, Page(url="https://news.test/a?b=2&a=1", status=200, headers=[], body=body),
                         ArticleFields(text="Un\nDeux"))
    second = save_article(db, Page(url="https://news.test/a?a=1&b=2&itm_source=home", status=200, headers=[],
                                   body=body), ArticleFields(text="Un\nDeux"))
    assert first.article_id == second.article_id and first.canonical_url == "https://news.test/a?a=1&b=2"
    assert second.outcome.value == "unchanged"


@pytest.mark.parametrize(("url", "expected"), [
    ("https://news.test/.;", "https://news.test/"),  # "/." only once the empty parameters are gone
    ("https://news.test/a/..;", "https://news.test/"),
    ("https://news.test/a/.;/b", "https://news.test/a/.;/b"),  # ".;" inside a path is no dot segment
])
def test_dot_segments_left_by_dropped_parameters_are_resolved(url, expected):
    assert clean_url(url) == expected and clean_url(expected) == expected


_PART = st.text(alphabet="abcAB09-_.~%é /?=&#+;:", max_size=12)


@given(path=st.lists(_PART, max_size=4), query=st.lists(st.tuples(_PART, _PART), max_size=5), fragment=_PART)
@settings(max_examples=300, deadline=None)
def test_canonical_urls_are_fixed_points(path, query, fragment):
    """Migration a14_canonical relies on it: canonicalizing a canonical URL changes nothing."""
    url = "https://news.test/" + "/".join(path) + "?" + "&".join(f"{k}={v}" for k, v in query) + "#" + fragment
    try:
        canonical = clean_url(url)
    except InvalidURL:
        return
    assert clean_url(canonical) == canonical
