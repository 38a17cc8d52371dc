"""Refusing loopback and private-network targets (SSRF guard) unless the operator allows them."""

from __future__ import annotations

import ipaddress
import os
import socket
from functools import lru_cache
from urllib.parse import urlsplit

ALLOW_ENV = "NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS"


class PrivateNetworkRefused(ValueError):
    """The URL points at a loopback, private, link-local or otherwise internal address."""


def private_networks_allowed() -> bool:
    return os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


@lru_cache(maxsize=4096)
def _resolves_internal(host: str) -> bool:
    try:
        return _is_internal(host)
    except ValueError:
        pass  # a name, not an address
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False  # unresolvable: the fetch itself will fail and say so
    return any(_is_internal(info[4][0]) for info in infos)


def check_public(url: str, *, allow_private: bool | None = None) -> None:
    """Raise PrivateNetworkRefused when the URL's host is internal and that is not allowed."""
    if allow_private is None:
        allow_private = private_networks_allowed()
    if allow_private:
        return
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host and _resolves_internal(host):
        raise PrivateNetworkRefused(
            f"refusing {host}: a loopback or private-network address (set {ALLOW_ENV}=1 to allow)"
        )
