"""Per-source request options: extra headers (a cookie, a token), HTTP basic auth and a proxy that
every request of a source's polls and of its articles carries (`sources add --header/--auth/--proxy`).

They are stored on the source (archive/models.py ``Source.request_*``) and are secrets: what is
shown to people (`sources list`, `stats`, the web app, error messages) is ``describe``'s summary,
which names the headers without their values, says the auth is set, and masks the proxy's
password. The headers and the auth go only to the source's own host (``same_host``), never to
another host a feed links to; the proxy carries every request of the source.

Nothing here imports Scrapy: crawler/request_options.py puts these on requests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from archive.redact import MASK, redact
from archive.urls import InvalidURL, normalize_host, split_host_port

# RFC 9110 field names: a token (no spaces, no separators)
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Set by the crawler itself (or by HTTP): an option would break requests or the proxy guard.
RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "proxy-authorization",
                    "if-none-match", "if-modified-since", "te", "upgrade"}
MAX_OPTION_LENGTH = 4096


class InvalidOption(ValueError):
    """A request option that cannot be used (its message never contains the secret)."""


@dataclass(frozen=True)
class RequestOptions:
    """What a source's requests carry besides the crawler's own headers."""

    headers: tuple[tuple[str, str], ...] = ()
    auth: str | None = None  # "user:password" for HTTP basic auth
    proxy: str | None = None  # http(s)://[user:password@]host:port

    def __bool__(self) -> bool:
        return bool(self.headers or self.auth or self.proxy)


@dataclass(frozen=True)
class OptionChanges:
    """What `sources add` changes: each option given replaces the stored one (all of its headers
    for ``headers``); ``clear`` first removes all three."""

    headers: tuple[tuple[str, str], ...] | None = None
    auth: str | None = None
    proxy: str | None = None
    clear: bool = False

    def __bool__(self) -> bool:
        return self.clear or self.headers is not None or self.auth is not None or self.proxy is not None


def parse_header(text: str) -> tuple[str, str]:
    """'NAME: VALUE' as (name, value); InvalidOption for a missing colon, a name that is not an
    HTTP field name, a reserved name, or a value with CR, LF or other control characters."""
    name, colon, value = str(text).partition(":")
    name, value = name.strip(), value.strip()
    # what was typed is not echoed: a misplaced colon would put the secret where a name should be
    if not colon:
        raise InvalidOption("--header needs NAME:VALUE (there is no colon)")
    if not name or not _TOKEN.match(name):
        raise InvalidOption("--header: the part before the colon is not a header name (letters, digits and -, "
                            "no spaces or newlines)")
    if name.lower() in RESERVED_HEADERS:
        raise InvalidOption(f"--header: {name} is set by the crawler itself")
    if not value:
        raise InvalidOption(f"--header {name}: empty value (--clear-options removes the stored headers)")
    if _CONTROL.search(value) or len(value) > MAX_OPTION_LENGTH:
        raise InvalidOption(f"--header {name}: the value contains CR, LF or other control characters, or is "
                            f"longer than {MAX_OPTION_LENGTH}")
    try:
        value.encode("latin-1")  # what HTTP/1.1 header bytes can carry
    except UnicodeEncodeError:
        raise InvalidOption(f"--header {name}: the value has characters HTTP headers cannot carry "
                            "(percent-encode them)") from None
    return name, value


def parse_auth(text: str) -> str:
    """'USER:PASSWORD' checked; InvalidOption (without the password) when it is not one."""
    user, colon, password = str(text).partition(":")
    if not colon or not user or not password:
        raise InvalidOption("--auth needs USER:PASSWORD")
    if _CONTROL.search(text) or len(text) > MAX_OPTION_LENGTH:
        raise InvalidOption(f"--auth: control characters or longer than {MAX_OPTION_LENGTH}")
    return str(text)


def parse_proxy(text: str) -> str:
    """An http(s) proxy URL, ``scheme://[user:password@]host[:port]``; InvalidOption when it is not
    one. The messages never quote what was typed: a misplaced character puts the password
    where a host or port should be."""
    url = str(text).strip()
    form = "(http://[USER:PASSWORD@]HOST:PORT)"
    if _CONTROL.search(url) or len(url) > MAX_OPTION_LENGTH:
        raise InvalidOption(f"--proxy: control characters, or longer than {MAX_OPTION_LENGTH}")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidOption(f"--proxy: not a URL {form}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidOption(f"--proxy: not an http(s) proxy URL {form}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidOption(f"--proxy: a proxy URL has no path or query {form}")
    try:
        host, _ = split_host_port(parts.netloc.rpartition("@")[2])
        normalize_host(host)
    except InvalidURL:
        raise InvalidOption(f"--proxy: not a valid host or port {form}") from None
    return url


def same_host(source_url: str, url: str) -> bool:
    """Whether ``url`` is on the source's own host, where its headers and auth may go: the same
    host name (case-insensitive), and never from https down to plain http."""
    try:
        source, target = urlsplit(source_url), urlsplit(url)
        source_host, target_host = source.hostname, target.hostname
    except ValueError:
        return False
    if not source_host or source_host != target_host:
        return False
    return not (source.scheme.lower() == "https" and target.scheme.lower() != "https")


# -- stored on the source ------------------------------------------------------------------------

def load(headers: str | None, auth: str | None, proxy: str | None) -> RequestOptions:
    """The options as stored (headers as a JSON list of [name, value] pairs)."""
    pairs = tuple((str(n), str(v)) for n, v in json.loads(headers)) if headers else ()
    return RequestOptions(headers=pairs, auth=auth or None, proxy=proxy or None)


def options_of(source) -> RequestOptions:
    """A source's options (archive.models.Source)."""
    return load(source.request_headers, source.request_auth, source.request_proxy)


def apply_changes(source, changes: OptionChanges) -> None:
    """Change a source's stored options as `sources add` was asked to."""
    if changes.clear:
        source.request_headers = source.request_auth = source.request_proxy = None
    if changes.headers is not None:
        source.request_headers = json.dumps([list(pair) for pair in changes.headers]) if changes.headers else None
    if changes.auth is not None:
        source.request_auth = changes.auth
    if changes.proxy is not None:
        source.request_proxy = changes.proxy


# -- what people see -----------------------------------------------------------------------------

def describe(options: RequestOptions) -> dict | None:
    """What may be shown of the options: header names, whether auth is set, the proxy with its
    password masked (None when the source has none)."""
    if not options:
        return None
    return {"headers": [name for name, _ in options.headers], "auth": "set" if options.auth else None,
            "proxy": mask_proxy(options.proxy) if options.proxy else None}


def summary(described: dict | None) -> str:
    """One line for tables: 'headers: Cookie; auth: set; proxy: http://u:***@proxy:3128'."""
    if not described:
        return ""
    parts = []
    if described.get("headers"):
        parts.append("headers: " + ", ".join(described["headers"]))
    if described.get("auth"):
        parts.append("auth: set")
    if described.get("proxy"):
        parts.append(f"proxy: {described['proxy']}")
    return "; ".join(parts)


def mask_proxy(proxy: str) -> str:
    """The proxy URL with its password masked (archive.redact), a user without one kept."""
    masked = redact(proxy)
    if masked == proxy and "@" in proxy.partition("://")[2]:  # a user without password, or an odd form
        scheme, _, rest = proxy.partition("://")
        masked = f"{scheme}://{MASK}@{rest.rpartition('@')[2]}"
    return masked
