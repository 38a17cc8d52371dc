"""Canonical article URLs: one article per URL once tracking and AMP variants are folded away."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
    """Not an absolute http(s) URL."""


def check_url(url: str) -> str:
    """Return the URL stripped, or raise InvalidURL with a message a user can act on."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidURL(f"not an absolute http(s) URL: {url!r}")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise InvalidURL(f"malformed port in URL: {url!r}") from None
    return url


def clean_url(url: str) -> str:
    """The URL without tracking parameters, AMP markers and fragment; host lowercased."""
    parts = urlsplit(safe_url_string(check_url(url)))
    host = parts.hostname or ""
    port = parts.port
    if port and (parts.scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(key) and not (AMP_PARAMS.match(key) and value.lower() in ("", "1", "amp", "true"))
    ]
    path = AMP_PATH_SUFFIX.sub("/", parts.path) or "/"
    return urlunsplit((parts.scheme.lower(), host, path or "/", urlencode(query), ""))


def normalize_site(site: str) -> str:
    """A site as the archive stores it: lowercased, without a leading "www." or trailing dot."""
    site = site.strip().lower().rstrip(".")
    return site[4:] if site.startswith("www.") else site


def site_of(url: str) -> str:
    """The site an URL belongs to: its host, normalized."""
    return normalize_site(urlsplit(url).hostname or "")
