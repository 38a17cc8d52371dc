"""Canonical article URLs: one article per URL once tracking and AMP variants are folded away."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

import idna
from w3lib.url import safe_url_string

# Query parameters that only track the reader or the campaign, never select content.
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|_ga|_gl|igshid|yclid"
    r"|ref_src|cmpid|xtor|at_medium|at_campaign|at_\w+|ocid|__twitter_impression)$",
    re.IGNORECASE,
)
AMP_PARAMS = re.compile(r"^(amp|outputtype|output)$", re.IGNORECASE)
AMP_PATH_SUFFIX = re.compile(r"/amp/?$", re.IGNORECASE)


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


def clean_url(url: str) -> str:
    """The URL without tracking parameters, AMP markers and fragment; host lowercased."""
    parts = urlsplit(safe_url_string(check_url(url)))
    host, port = split_host_port(parts.netloc)
    host = normalize_host(host)
    if ":" in host:
        host = f"[{host}]"
    if port and (parts.scheme.lower(), port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(key) and not (AMP_PARAMS.match(key) and value.lower() in ("", "1", "amp", "true"))
    ]
    path = AMP_PATH_SUFFIX.sub("/", parts.path) or "/"
    cleaned = urlunsplit((parts.scheme.lower(), host, path or "/", urlencode(query), ""))
    if len(cleaned) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL longer than {MAX_URL_LENGTH} characters once encoded: {_shown(url)!r}")
    return cleaned


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
