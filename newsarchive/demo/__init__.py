"""The bundled demo news site (in the shape of Vudailleurs.com) and its loopback HTTP server."""

from newsarchive.demo.server import SITE_DIR, DemoServer, RequestRecord

__all__ = ["SITE_DIR", "DemoServer", "RequestRecord"]
