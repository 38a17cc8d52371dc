"""The bundled demo news site (in the shape of Vudailleurs.com) and its loopback HTTP server.

``from newsarchive.demo import DemoServer, SITE_DIR`` works; the server module is imported
lazily so that ``python -m newsarchive.demo.server`` runs without a double-import warning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsarchive.demo.server import SITE_DIR, DemoServer, RequestRecord

__all__ = ["SITE_DIR", "DemoServer", "RequestRecord"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from newsarchive.demo import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
