"""Only http(s) to public addresses (SSRF guard), unless the operator allows private networks.

Three layers, each where it can see what it checks:

* ``check_public(url)``: the URL itself. Only http and https; the host in its normal form
  (archive.urls.normalize_host: percent-decoded, IDNA, trailing dot removed), so ``localhost.``,
  ``127.0.0.1%2e`` and ``[::127.0.0.1]`` are the addresses they stand for; internal names
  (``localhost``, ``*.local``, single-label intranet names...) and internal addresses, including
  IPv4 addresses embedded in IPv6 ones (IPv4-mapped and -compatible, 6to4, Teredo, NAT64), are
  refused. With ``resolve=True`` (the CLI) the name is also looked up: an internal answer is
  refused, and so is a name that does not resolve unless a proxy is configured (the proxy
  resolves it, out of our sight). ``check_public_many`` checks many URLs at once (`sources add
  URL...`, `sources import`): each distinct host is looked up once, in parallel threads.
* ``crawler.resolver.GuardedResolver``: the addresses a crawl actually connects to, looked up
  off the reactor thread; internal ones are dropped (DNS rebinding), except the configured proxies'.
* The proxied-target check of ``crawler.middlewares``: a request sent through a proxy is never
  resolved by the crawler, so its host is looked up (off the reactor) and refused when internal.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable

from archive.urls import host_of

ALLOW_ENV = "NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS"
INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan", ".intranet")
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"),)
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local use, never public
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
LOOKUP_THREADS = 32  # DNS lookups in flight at once when checking many URLs


class PrivateNetworkRefused(ValueError):
    """The URL points at a loopback, private, link-local or otherwise internal address,
    or is not an http(s) URL."""


def private_networks_allowed(settings=None) -> bool:
    """Whether the operator allows private networks: a crawl's setting of that name, else the
    environment variable (the demo and the tests crawl loopback servers)."""
    if settings is not None and settings.getbool(ALLOW_ENV):
        return True
    return os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def proxy_configured() -> bool:
    """Whether the environment sends http(s) through a proxy (as Scrapy's HttpProxyMiddleware reads it)."""
    proxies = urllib.request.getproxies()
    return bool(proxies.get("http") or proxies.get("https"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for or carries."""
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if int(ip) >> 32 == 0:  # IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks)
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if any(ip in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [v4 for v4 in found if v4 is not None]


def is_internal_address(ip: IPAddress) -> bool:
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64:
            return True
        candidates += embedded_ipv4(ip)
    return any(not c.is_global or c.is_multicast for c in candidates)


def as_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_internal_name(host: str) -> bool:
    """Names that only mean something inside a network: localhost, mDNS, search-domain names."""
    return host == "localhost" or host.endswith(INTERNAL_SUFFIXES) or "." not in host


def _refuse(host: str, why: str) -> PrivateNetworkRefused:
    return PrivateNetworkRefused(f"refusing {host}: {why} (set {ALLOW_ENV}=1 to allow)")


def check_public(url: str, *, allow_private: bool | None = None, resolve: bool = False) -> None:
    """Raise InvalidURL unless the URL is a well-formed http(s) URL, PrivateNetworkRefused when its
    host is internal and private networks are not allowed. ``resolve``: also look the name up (blocking:
    for the CLI, never on the reactor thread)."""
    host = _host_to_resolve(url, allow_private)
    if host is not None and resolve:
        check_resolved(host, proxied=proxy_configured())


def _host_to_resolve(url: str, allow_private: bool | None) -> str | None:
    """The checks that need no lookup (raising as check_public does); the host name left to look
    up, or None when there is nothing to look up (an address, or private networks allowed)."""
    host = host_of(url)  # InvalidURL for anything but a well-formed http(s) URL
    if allow_private is None:
        allow_private = private_networks_allowed()
    if allow_private:
        return None
    address = as_address(host)
    if address is not None:
        if is_internal_address(address):
            raise _refuse(host, "a loopback or private-network address")
        return None
    if is_internal_name(host):
        raise _refuse(host, "a local or intranet host name")
    return host


def check_public_many(urls: Iterable[str], *, allow_private: bool | None = None, resolve: bool = False,
                      lookup: Callable[..., list] = socket.getaddrinfo,
                      proxied: bool = False) -> dict[str, ValueError]:
    """`check_public` for many URLs: the ones refused, each with its InvalidURL or
    PrivateNetworkRefused. Each distinct host name is looked up once, LOOKUP_THREADS at a time.
    ``proxied``: their requests go through a proxy (a source's own), which resolves what we cannot."""
    refused: dict[str, ValueError] = {}
    by_host: dict[str, list[str]] = {}
    for url in dict.fromkeys(urls):
        try:
            host = _host_to_resolve(url, allow_private)
        except ValueError as exc:  # InvalidURL, PrivateNetworkRefused
            refused[url] = exc
            continue
        if host is not None and resolve:
            by_host.setdefault(host, []).append(url)
    if by_host:
        proxied = proxied or proxy_configured()

        def verdict(host: str) -> PrivateNetworkRefused | None:
            try:
                check_resolved(host, proxied=proxied, lookup=lookup)
            except PrivateNetworkRefused as exc:
                return exc
            return None

        with ThreadPoolExecutor(max_workers=min(LOOKUP_THREADS, len(by_host))) as pool:
            for host, error in zip(by_host, pool.map(verdict, by_host)):
                if error is not None:
                    refused.update((url, error) for url in by_host[host])
    return refused


def check_resolved(host: str, *, proxied: bool, lookup: Callable[..., list] = socket.getaddrinfo) -> None:
    """Look a host name up; refuse it when any answer is internal, or when it does not resolve and
    no proxy will resolve it for us."""
    try:
        infos = lookup(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        if proxied:
            return  # the proxy resolves it; its host is checked where the request is sent
        raise PrivateNetworkRefused(f"refusing {host}: the name does not resolve ({exc})") from None
    for info in infos:
        address = as_address(str(info[4][0]).split("%")[0])
        if address is None or is_internal_address(address):
            raise _refuse(host, f"it resolves to a loopback or private-network address ({info[4][0]})")
