"""Page metadata read from a parsed HTML tree: meta tags, JSON-LD, title, author, language,
canonical URL, site. Cheap XPath only (no network, no date guessing: see text_dates)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import tldextract
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import extract_author

from archive.urls import site_of
from crawler.text_titles import SEPARATORS, strip_site_parts

_TLD = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())  # bundled snapshot, no network
_ARTICLE_TYPES = re.compile(r"Article|BlogPosting|Report|WebPage|NewsArticle|LiveBlogPosting", re.I)
_BYLINE_PREFIX = re.compile(
    r"^\s*(?:(?:written|posted|published|reported|veröffentlicht|geschrieben|verfasst|publié|écrit|rédigé"
    r"|publicado|escrito|pubblicato|scritto)\s+)?(?:par|by|von|por|di|de|door|av|af|from|da)\s*[:\-]?\s+"
    r"|^\s*(?:author|authors|autor|autorin|autoren|auteur|auteurs|autore|autori|redaktion|texte?)\s*[:\-]\s*",
    re.I,
)
# a label glued to the name by a page that drops the space between two elements:
# "AuthorAndreas Kalt", "Veröffentlicht vonChris Jung", "ByJane Doe"
_GLUED_PREFIX = re.compile(
    r"^\s*(?i:(?:written|posted|published|veröffentlicht|geschrieben|publié|écrit|publicado|escrito|pubblicato"
    r"|scritto)\s+(?:by|von|par|por|da|di)|author|autor|autorin|auteur|autore|by)(?=[A-ZÄÖÜÀ-Ý][a-zà-ÿ])"
)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|&|\|| and | et | und | y | e | ed )\s*", re.I)
_AUTHOR_NOISE = re.compile(r"https?://|www\.|@|\d|\bmin\b")
_CREDENTIALS = frozenset("ms ma ba bs bsc msc md phd rd rdn ldn rn mph dds cpa mba jr sr dr prof".split())
# A byline that runs on into the author's role: the name ends before it. At the end of a name
# the role must be written in lower case ("Tom Gillespie News reporter"), since a capitalised one
# may be part of a name ("Letters To The Editor", a pen name "Rasender Reporter"); after a comma
# it is a part of its own ("Anna Schmidt, Korrespondentin in Paris").
_ROLE_WORDS = (r"reporter|correspondent|editor|writer|journalist|columnist|contributor|redakteur|redakteurin"
               r"|korrespondent|korrespondentin|journaliste|correspondante?|rédacteur|rédactrice|periodista"
               r"|corresponsal|redactora?|giornalista|corrispondente|redattore|redattrice")
_ROLE_QUALIFIERS = (r"news|staff|senior|chief|political|sports?|business|science|health|foreign|investigative"
                    r"|freelance|contributing|associate|managing|deputy")
_NAME_ENDS = re.compile(rf"(?<=\S)\s+(?:(?i:{_ROLE_QUALIFIERS})\s+)?(?:{_ROLE_WORDS})s?(?![\w-]).*$")
_ROLE_PART = re.compile(rf"(?:(?:{_ROLE_QUALIFIERS})\s+)?(?:{_ROLE_WORDS})s?(?![\w-])", re.I)
# "GREG BEACHAM, AP Sports Writer": an agency's title for the reporter before it
_AGENCY_ROLE = re.compile(rf"(?:ap|associated press|reuters|afp|dpa)\b.*\b(?:{_ROLE_WORDS})s?$", re.I)
_NOISE_WORDS = re.compile(r"\b(?:updated|mis à jour|publié|published|aktualisiert|actualizado|aggiornato)\b", re.I)
# Two elements run together without a space, a name in capitals and what followed it:
# "JILL LAWLESSAssociated Press" is "JILL LAWLESS" and "Associated Press" (a brand such as
# "FIFPlay" is no name in capitals: it needs a word in capitals before it)
_GLUED_CAPITALS = re.compile(r"\b((?:[A-ZÀ-Ý][A-ZÀ-Ý'.-]+ )+[A-ZÀ-Ý]{2,})(?=[A-ZÀ-Ý][a-zà-ÿ])")
# News agencies named beside a reporter are the reporter's affiliation, not a second author
_AGENCIES = frozenset((
    "associatedpress", "theassociatedpress", "ap", "reuters", "afp", "agencefrancepresse", "dpa", "ansa", "efe",
    "apa", "sda", "belga", "anp", "kyodo", "xinhua", "pa", "pressassociation"))  # squashed (see squash)
_LANG = re.compile(r"^([a-zA-Z]{2})(?:[-_]|$)")
# The words a byline's markup carries in its class, id, itemprop, rel or data- attributes: every
# one that our byline XPath and trafilatura's (trafilatura.xpaths.AUTHOR_XPATHS) look for. A page
# without any has no byline either search can find, and telling so costs a tenth of the searches.
_BYLINE_MARKS = ("uthor", "yline", "byl", "BBL", "writer", "screenname", "username", "channel-name",
                 "submitted-by", "posted-by", "journalist-name", "zuozhe", "bianji", "xiaobian")
# rel or itemprop author, a class that says byline or author-name (on the attribute axis: see
# text_dates._DATELINE)
_BYLINES = etree.XPath('//@rel[. = "author"]/.. | //@itemprop[. = "author"]/..'
                       ' | //@class[contains(., "byline") or contains(., "author-name")]/..')
_MARKED_ATTRIBUTES = etree.XPath("//@class | //@id | //@itemprop | //@rel | //@data-testid | //@data-component",
                                 smart_strings=False)


@dataclass
class PageMeta:
    """Everything read from the head/JSON-LD of a page before extraction."""

    metas: dict[str, str] = field(default_factory=dict)  # name/property/itemprop (lowercased) -> content
    ld: list[dict] = field(default_factory=list)  # JSON-LD objects of article-like types
    html_title: str | None = None
    h1: str | None = None


def read_page(tree: HtmlElement) -> PageMeta:
    page = PageMeta()
    for node in tree.iter("meta"):
        key = node.get("property") or node.get("name") or node.get("itemprop") or node.get("http-equiv")
        content = node.get("content")
        if key and content and content.strip():
            page.metas.setdefault(key.strip().lower(), " ".join(content.split()))
    for script in tree.xpath('//script[contains(@type, "ld+json")]'):
        page.ld.extend(_ld_objects(script.text or ""))
    title = tree.find(".//title")
    if title is not None:
        page.html_title = " ".join(title.text_content().split()) or None
    h1s = tree.xpath("//h1")
    if h1s:
        page.h1 = " ".join(h1s[0].text_content().split()) or None
    return page


def _ld_objects(raw: str) -> list[dict]:
    try:
        data = json.loads(raw.strip().rstrip(";"))
    except ValueError:
        return []
    found, stack = [], [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            if "@graph" in item:
                stack.append(item["@graph"])
            kind = item.get("@type")
            kind = " ".join(kind) if isinstance(kind, list) else str(kind or "")
            if _ARTICLE_TYPES.search(kind):
                found.append(item)
    # articles before generic web pages
    found.sort(key=lambda obj: "WebPage" in str(obj.get("@type")))
    return found


def ld_value(page: PageMeta, key: str) -> object | None:
    for obj in page.ld:
        if obj.get(key):
            return obj[key]
    return None


def _name(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, list):
        value = value[0] if value else None
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def site_name(page: PageMeta) -> str | None:
    return page.metas.get("og:site_name") or _name(ld_value(page, "publisher")) or page.metas.get("application-name")


def title_of(page: PageMeta, site: str) -> str | None:
    """The first title the page gives (og:title, twitter:title, JSON-LD headline, <h1>, <title>)
    without the parts that are the site's name, host, acronym or a date (crawler.text_titles)."""
    for candidate in (
        page.metas.get("og:title"),
        page.metas.get("twitter:title"),
        _name(ld_value(page, "headline")),
        page.h1,
        page.html_title,
    ):
        if candidate:
            return headline_within(strip_site_parts(candidate, [site_name(page), site]), page.h1)
    return None


def headline_within(title: str, h1: str | None) -> str:
    """The visible headline when the title is it plus parts around it ("Opinion | <h1>",
    "<h1> - Auto News"): the h1 must be whole separator-delimited parts of the title."""
    if not h1 or h1 == title or len(h1) < 10:
        return title
    pieces = SEPARATORS.split(title)
    for start in range(len(pieces)):
        for end in range(start + 1, len(pieces) + 1):
            if (start, end) != (0, len(pieces)) and squash(" ".join(pieces[start:end])) == squash(h1):
                return h1
    return title


def squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def author_of(page: PageMeta, tree: HtmlElement) -> str | None:
    value = ld_value(page, "author") or ld_value(page, "creator")
    names: list[str] = []
    if value:
        for item in value if isinstance(value, list) else [value]:
            # an organisation as "author" (often the publisher itself) yields to a person byline
            if isinstance(item, dict) and "Organization" in str(item.get("@type")):
                continue
            name = _name(item)
            if name:
                names.extend(clean_authors(name))
    if not names:
        for key in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "dcterms.creator",
                    "byl"):
            if page.metas.get(key):
                names = clean_authors(page.metas[key])
                if names:
                    break
    if not names and has_byline_marks(tree):
        for node in _BYLINES(tree)[:3]:
            names = clean_authors(node.text_content())
            if names:
                break
        if not names:  # trafilatura's byline search
            names = clean_authors(extract_author(tree) or "")
    if not names and value:  # an organisation named as author
        items = value if isinstance(value, list) else [value]
        names = [n for item in items for n in clean_authors(_name(item) or "")]
    return ", ".join(dict.fromkeys(names)) or None


def has_byline_marks(tree: HtmlElement) -> bool:
    """Whether the page's markup holds a byline the XPath searches could find (see _BYLINE_MARKS)."""
    attributes = " ".join(_MARKED_ATTRIBUTES(tree))
    return any(mark in attributes for mark in _BYLINE_MARKS) or tree.find(".//author") is not None


def clean_authors(raw: str) -> list[str]:
    """Names from a byline: prefixes ("Par", "By", "Von"...) removed, several names split."""
    text = " ".join(raw.split())
    text = _GLUED_PREFIX.sub("", text)
    text = _BYLINE_PREFIX.sub("", text)
    names: list[str] = []
    for part in _AUTHOR_SPLIT.split(_GLUED_CAPITALS.sub(r"\1, ", text)):
        part = _BYLINE_PREFIX.sub("", _GLUED_PREFIX.sub("", part))
        part = _NAME_ENDS.sub("", part).strip(" .-–—:|")
        too_long = len(part) > 60 or len(part.split()) > 5
        if not part or too_long or _AUTHOR_NOISE.search(part) or _NOISE_WORDS.search(part):
            continue
        if names and (part.replace(".", "").casefold() in _CREDENTIALS or _ROLE_PART.match(part)
                      or _AGENCY_ROLE.match(part)):
            continue
        names.append(part)
    people = [name for name in names if squash(name) not in _AGENCIES]
    return people or names


def language_of(page: PageMeta, tree: HtmlElement) -> str | None:
    for raw in (
        tree.get("lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        page.metas.get("og:locale"),
        page.metas.get("content-language"),
        page.metas.get("language"),
        _name(ld_value(page, "inLanguage")),
    ):
        match = _LANG.match((raw or "").strip())
        if match:
            return match.group(1).lower()
    return None


def canonical_of(tree: HtmlElement, url: str) -> str | None:
    """rel=canonical resolved against url, only when on the same registered domain."""
    for href in tree.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " canonical ")]/@href'):
        href = href.strip()
        if not href:
            continue
        try:
            absolute = urljoin(url, href)
            if urlsplit(absolute).scheme not in ("http", "https"):
                return None
        except ValueError:  # a malformed href ("https://[x]/")
            return None
        return absolute if same_site(absolute, url) else None
    return None


def same_site(a: str, b: str) -> bool:
    first, second = _TLD(a), _TLD(b)
    if not first.domain or not second.domain:
        return site_of(a) == site_of(b)
    return (first.domain, first.suffix) == (second.domain, second.suffix)
