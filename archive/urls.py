"""Canonical article URLs: one article per URL once tracking and AMP variants are folded away.

clean_url builds on w3lib's canonicalize_url and courlan's tracker list (the standard tools of
Scrapy and trafilatura); normalize_host, split_host_port and check_url are also the SSRF guard's
foundation (crawler/netguard.py). Changing what clean_url returns changes archived identities:
it needs a migration like a14_canonical (archive/recanonicalize.py) to bring old URLs along.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache
from urllib.parse import unquote, unquote_plus, urljoin, urlsplit, urlunsplit

import idna
from courlan.clean import TRACKERS_RE as COURLAN_TRACKERS
from w3lib.url import canonicalize_url

# Query parameters that only track the reader or the campaign, never select content: ours, on
# top of courlan's list (see is_tracking_param).
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|itm_\w+|mtm_\w+|pk_\w+|ga_\w+|hsa_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid"
    r"|_ga|_gl|_hsenc|_hsmi|mkt_tok|igshid|yclid|ref_src|cmpid|xtor|at_medium|at_campaign|at_\w+|ocid"
    r"|__twitter_impression)$",
    re.IGNORECASE,
)
# Names courlan's list takes for trackers that also name the content on some sites
# (news.php?cid=123, ?session=2024): merging every article of such a site into one would lose them.
CONTENT_PARAMS = {"cid", "uid", "eid", "session", "keyword", "kwd"}
AMP_PARAMS = re.compile(r"^(amp|outputtype|output)$", re.IGNORECASE)
AMP_VALUES = ("", "1", "amp", "true")
AMP_PATH_SUFFIX = re.compile(r"(?:/amp)+/?$", re.IGNORECASE)


class InvalidURL(ValueError):
    """Not an absolute http(s) URL with a valid host."""


MAX_URL_LENGTH = 2048  # the URL columns' size; longer URLs are refused, never cut
MAX_HOST_LENGTH = 253
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|\d+)$")  # a last label like this makes the host an IPv4 form
_BRACKETED = re.compile(r"^\[(?P<ip>[0-9a-fA-F:.]+)\](?::(?P<port>[^:]*))?$")
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Zs", "Zl", "Zp"}


def normalize_host(host: str) -> str:
    """A host as it is looked up: percent-decoded, IDNA ASCII, lowercased, no trailing dot,
    an IPv6 address without brackets. Raises InvalidURL for anything that is not a valid host
    (empty labels, labels over 63 characters, hyphens at a label's ends, invisible or space
    characters, numbers that are not a dotted-quad IPv4 address)."""
    raw = unquote(host)
    if not raw or len(raw) > MAX_HOST_LENGTH + 2:
        raise InvalidURL(f"not a valid host: {_shown(host)!r}")
    if raw.startswith("[") or ":" in raw:
        try:
            return str(ipaddress.IPv6Address(raw.strip("[]")))
        except ValueError:
            raise InvalidURL(f"not a valid IPv6 address: {_shown(host)!r}") from None
    if any(unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in raw):
        raise InvalidURL(f"the host contains spaces or invisible characters: {_shown(host)!r}")
    name = raw[:-1] if raw.endswith(".") else raw
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            raise InvalidURL(f"not a valid host: {_shown(host)!r}") from None
    name = name.lower()
    labels = name.split(".")
    if len(name) > MAX_HOST_LENGTH or not all(_LABEL.match(label) for label in labels):
        raise InvalidURL(f"not a valid host: {_shown(host)!r}")
    if _NUMERIC_LABEL.match(labels[-1]) and not _IPV4.match(name):
        raise InvalidURL(f"not a valid IPv4 address: {_shown(host)!r}")
    return name


def _shown(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def split_host_port(netloc: str) -> tuple[str, int | None]:
    """(host as written, port or None) of a URL's netloc. Raises InvalidURL."""
    if "@" in netloc:
        raise InvalidURL("credentials in a URL are not accepted (they would be shown in lists and logs)")
    bracketed = _BRACKETED.match(netloc)
    if bracketed:
        host, port = bracketed.group("ip"), bracketed.group("port")
    elif "[" in netloc or "]" in netloc:
        raise InvalidURL(f"malformed IPv6 host: {_shown(netloc)!r}")
    else:
        host, _, port = netloc.partition(":")
    if port is None or port == "":
        return host, None
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidURL(f"malformed port in URL: {_shown(port)!r}")
    return host, int(port)


def check_url(url: str) -> str:
    """Return the URL stripped, or raise InvalidURL with a message a user can act on."""
    url = (url or "").strip()
    if any(unicodedata.category(c) == "Cc" for c in url):
        raise InvalidURL(f"the URL contains control characters (tab, newline...): {_shown(url)!r}")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL longer than {MAX_URL_LENGTH} characters: {_shown(url)!r}")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidURL(f"malformed URL: {_shown(url)!r}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidURL(f"not an absolute http(s) URL: {_shown(url)!r}")
    host, _ = split_host_port(parts.netloc)
    normalize_host(host)
    return url


def join_url(base: str, link: str) -> str | None:
    """``link`` made absolute against ``base``, or None when it cannot be (a malformed link)."""
    try:
        return urljoin(base, link.strip())
    except (ValueError, AttributeError):
        return None


def host_of(url: str) -> str:
    """The normalized host of a valid http(s) URL (see normalize_host). Raises InvalidURL."""
    return normalize_host(split_host_port(urlsplit(check_url(url)).netloc)[0])


def is_tracking_param(name: str, value: str = "") -> bool:
    """Whether a query parameter (decoded) only tracks the reader or marks an AMP variant.

    courlan's pattern is searched in the name as courlan does, but a word it finds must end the
    name or a ``_``/``-`` part of it: "ref" and "utm_source" are trackers, "reference" and
    "gallery" (courlan alone would drop "ga...") are not."""
    name = name.lower()
    if TRACKING_PARAMS.match(name) or (AMP_PARAMS.match(name) and value.lower() in AMP_VALUES):
        return True
    if name in CONTENT_PARAMS:
        return False
    return any(found.group().endswith("_") or not name[found.end():found.end() + 1].isalnum()
               for found in COURLAN_TRACKERS.finditer(name))


_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|$)")  # a "." or ".." path segment


@lru_cache(maxsize=8192)  # a batch asks for an item's canonical URL several times; crawls repeat URLs
def clean_url(url: str) -> str:
    """The canonical form of an article URL: w3lib's canonicalize_url (query sorted, percent-
    encoding normalized, dot segments resolved, fragment removed), then tracking parameters and
    AMP markers removed, the host normalized (see normalize_host) and a default port dropped.

    ``?b=2&a=1#top`` and ``?a=1&b=2&utm_source=rss`` are the same article. A canonical URL is its
    own canonical form (migration a14_canonical relies on it): a dot segment that only appears
    once the first pass has dropped empty parameters ("/.;" becomes "/.") is resolved by another."""
    cleaned = _clean_once(url)
    for _ in range(3):
        if not _DOT_SEGMENT.search(urlsplit(cleaned).path):
            break
        cleaned = _clean_once(cleaned)
    return cleaned


def _clean_once(url: str) -> str:
    try:
        parts = urlsplit(canonicalize_url(check_url(url)))
    except ValueError:
        raise InvalidURL(f"malformed URL: {_shown(url)!r}") from None
    host, port = split_host_port(parts.netloc)
    host = normalize_host(host)
    if ":" in host:
        host = f"[{host}]"
    if port and (parts.scheme.lower(), port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = "&".join(pair for pair in parts.query.split("&") if pair and not _tracks(pair))
    path = AMP_PATH_SUFFIX.sub("/", parts.path) or "/"
    cleaned = urlunsplit((parts.scheme.lower(), host, path, query, ""))
    if len(cleaned) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL longer than {MAX_URL_LENGTH} characters once encoded: {_shown(url)!r}")
    return cleaned


def _tracks(pair: str) -> bool:
    """Whether one encoded ``name=value`` of a canonical query is a tracking or AMP parameter;
    the kept pairs stay exactly as canonicalize_url encoded them."""
    name, _, value = pair.partition("=")
    return is_tracking_param(unquote_plus(name), unquote_plus(value))


def normalize_site(site: str) -> str:
    """A site as the archive stores it: lowercased, without a leading "www." or trailing dot."""
    site = site.strip().lower().rstrip(".")
    return site[4:] if site.startswith("www.") else site


def site_of(url: str) -> str:
    """The site an URL belongs to: its host, normalized ("" when the URL has no valid host)."""
    try:
        return normalize_site(host_of(url))
    except InvalidURL:
        return normalize_site(urlsplit(url).hostname or "") if "://" in url else ""
