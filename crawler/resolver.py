"""The crawl's name resolver: looks names up off the reactor thread, caches answers for a while,
and never hands an internal address to a connection (the SSRF guard at connect time).

Checking a name when a request is made and connecting later would leave a window for DNS
rebinding (a name that answers a public address to the check and a private one to the
connection). Here the addresses checked are the addresses connected to, because the connection
gets its addresses from this resolver. A configured proxy's host is allowed (the operator chose
it); requests sent through it are checked by crawler.middlewares.ProxiedTargetGuard.

Installed by Scrapy from the TWISTED_DNS_RESOLVER setting (crawler/settings.py), or by
``install(reactor, settings)`` for a crawler runner that manages its own reactor.
"""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

from twisted.internet._resolver import GAIResolver
from twisted.internet.interfaces import IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer

from crawler.netguard import as_address, is_internal_address, private_networks_allowed

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300.0  # DNS answers are reused this long (a crawl that runs for months sees changes)
CACHE_SIZE = 10_000

# Hosts of the proxies requests are sent through: connecting to them is the operator's choice.
_proxy_hosts: set[str] = set()


def allow_proxy(proxy_url: str) -> None:
    host = (urlsplit(proxy_url if "://" in proxy_url else f"http://{proxy_url}").hostname or "").lower()
    if host:
        _proxy_hosts.add(host)


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:  # the lookup runs in a thread and cannot be interrupted
        pass


@implementer(IResolutionReceiver)
class _Checked:
    """Passes on the public addresses of a lookup, caches them, and reports refused ones."""

    def __init__(self, resolver: GuardedResolver, receiver, name: str):
        self.resolver, self.receiver, self.name = resolver, receiver, name
        self.addresses: list = []
        self.refused: list[str] = []

    def resolutionBegan(self, resolution) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address) -> None:
        if self.resolver.permits(self.name, address.host):
            self.addresses.append(address)
            self.receiver.addressResolved(address)
        else:
            self.refused.append(address.host)

    def resolutionComplete(self) -> None:
        if self.refused:
            logger.warning("refusing to connect to %s: it resolves to internal address(es) %s",
                           self.name, ", ".join(sorted(set(self.refused))))
        if self.addresses:
            self.resolver.remember(self.name, self.addresses)
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class GuardedResolver:
    def __init__(self, reactor, *, allow_private: bool = False, cache_seconds: float = CACHE_SECONDS):
        self.reactor = reactor
        self.allow_private = allow_private
        self.cache_seconds = cache_seconds
        # twisted's getaddrinfo resolver, in the reactor's thread pool: never on the reactor thread
        self.upstream = GAIResolver(reactor, reactor.getThreadPool)
        self._cache: dict[str, tuple[float, list]] = {}

    @classmethod
    def from_crawler(cls, crawler, reactor):
        settings = crawler.settings
        allow = private_networks_allowed(settings)
        seconds = settings.getfloat("NEWSARCHIVE_DNS_CACHE_SECONDS", CACHE_SECONDS)
        return cls(reactor, allow_private=allow, cache_seconds=seconds if settings.getbool("DNSCACHE_ENABLED") else 0)

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def permits(self, name: str, address: str) -> bool:
        if self.allow_private or name.lower() in _proxy_hosts:
            return True
        ip = as_address(address.split("%")[0])
        return ip is not None and not is_internal_address(ip)

    def remember(self, name: str, addresses: list) -> None:
        if self.cache_seconds <= 0:
            return
        if len(self._cache) >= CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[name] = (time.monotonic() + self.cache_seconds, addresses)

    def resolveHostName(self, resolutionReceiver, hostName: str, portNumber: int = 0, addressTypes=None,
                        transportSemantics: str = "TCP"):
        cached = self._cache.get(hostName)
        if cached is not None and cached[0] > time.monotonic():
            resolution = _Resolution(hostName)
            resolutionReceiver.resolutionBegan(resolution)
            for address in cached[1]:
                resolutionReceiver.addressResolved(type(address)(address.type, address.host, portNumber))
            resolutionReceiver.resolutionComplete()
            return resolution
        return self.upstream.resolveHostName(_Checked(self, resolutionReceiver, hostName), hostName, portNumber,
                                             addressTypes, transportSemantics)


def install(reactor, settings) -> GuardedResolver:
    """Install the guarded resolver on a reactor a crawler runner manages itself."""

    holder = SimpleNamespace(settings=settings)  # what from_crawler reads of a crawler
    resolver = GuardedResolver.from_crawler(holder, reactor)
    resolver.install_on_reactor()
    return resolver
