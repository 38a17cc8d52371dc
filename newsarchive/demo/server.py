"""A small, real HTTP server on loopback serving the bundled demo news site (`newsarchive demo`).

* ``/a/b/`` serves ``<root>/a/b/index.html``, other paths files; ``/a/b`` answers 301 to ``/a/b/``
  when that is a directory (as WordPress does); else 404. The query is ignored for the lookup.
* ``{{base}}`` in a body becomes the server's base URL at serve time (the port is ephemeral).
* A sidecar file ``X.headers`` holds extra response headers for ``X``, one ``Name: value`` a
  line (``feed.xml`` is ``application/rss+xml``, the windows-1252 article wrongly says UTF-8).
* A 200 has a strong ``ETag`` (of the body after substitution) and a ``Last-Modified``; a
  matching ``If-None-Match`` (or, without one, a recent enough ``If-Modified-Since``) gets 304.

A subclass changes what a path answers by overriding :meth:`DemoServer.response` and sees each
request through :meth:`DemoServer.served` (the tests' mock server, tests/mockserver.py).
"""

from __future__ import annotations

import email.utils
import hashlib
import mimetypes
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

SITE_DIR = Path(__file__).resolve().parent / "site"
BASE_PLACEHOLDER = b"{{base}}"
SIDECAR_SUFFIX = ".headers"
_TEXT_TYPES = {".html": "text/html", ".htm": "text/html", ".xml": "application/xml", ".txt": "text/plain"}
_NOT_FOUND = ('<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>Page non trouvée – Vudailleurs.com'
              "</title></head><body><h1>Oups ! Cette page est introuvable.</h1></body></html>\n").encode("utf-8")
_MOVED = b'<!DOCTYPE html><html lang="fr"><title>301</title><p>Moved Permanently</p></html>'


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: float | None = None  # seconds since the epoch (a 200's Last-Modified)


def merge_headers(base: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """``base`` with ``extra`` over it, header names compared case-insensitively."""
    merged = {k: v for k, v in base.items() if k.lower() not in {name.lower() for name in extra}}
    return {**merged, **extra}


def path_key(path: str) -> str:
    """A request path (or a proxy's absolute URL) as a lookup key: no query, percent-decoded."""
    return "/" + unquote(urlsplit(path).path or "/").lstrip("/")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"  # what Vudailleurs-like WordPress hosts announce
    timeout = 30  # an idle keep-alive connection does not hold a thread forever
    site: DemoServer  # set on the per-server subclass

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the name the base class uses
        return

    def do_GET(self) -> None:
        self.site.answer(self, head=False)

    def do_HEAD(self) -> None:
        self.site.answer(self, head=True)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        return  # clients that time out and hang up are expected


class DemoServer:
    """The demo site on a loopback HTTP server (also a context manager)."""

    def __init__(self, root: Path | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root).resolve() if root is not None else SITE_DIR
        self.host, self.port = host, port
        self._httpd: _QuietServer | None = None

    def start(self) -> DemoServer:
        if self._httpd is None:
            self._httpd = _QuietServer((self.host, self.port), type("DemoHandler", (_Handler,), {"site": self}))
            self.port = self._httpd.server_address[1]
            threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                             name=f"newsarchive-demo-{self.port}", daemon=True).start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("DemoServer is not started")
        return f"http://{f'[{self.host}]' if ':' in self.host else self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    # -- what a path answers -----------------------------------------------------------------
    def response(self, path: str) -> Response:
        """The answer to a GET of ``path`` (the request's, with its query): a file of the site."""
        key = path_key(path)
        file = self.file_for(key)
        if file is not None:
            suffix = file.suffix.lower()
            content_type = (f"{_TEXT_TYPES[suffix]}; charset=utf-8" if suffix in _TEXT_TYPES
                            else mimetypes.guess_type(file.name)[0] or "application/octet-stream")
            return Response(200, self.substitute(file.read_bytes()),
                            merge_headers({"Content-Type": content_type}, _sidecar(file)), file.stat().st_mtime)
        if not key.endswith("/") and self.file_for(key + "/") is not None:
            query = urlsplit(path).query
            return Response(301, _MOVED, {"Location": self.url(key + "/" + ("?" + query if query else "")),
                                          "Content-Type": "text/html; charset=utf-8"})
        return Response(404, _NOT_FOUND, {"Content-Type": "text/html; charset=utf-8"})

    def file_for(self, key: str) -> Path | None:
        """The file serving a path key, if any (directories need their slash)."""
        candidate = (self.root / (key.lstrip("/") + ("index.html" if key.endswith("/") else ""))).resolve()
        if not candidate.is_relative_to(self.root) or candidate.name.endswith(SIDECAR_SUFFIX):
            return None  # outside the site (path traversal), or a sidecar
        return candidate if candidate.is_file() else None

    def substitute(self, body: bytes) -> bytes:
        return body.replace(BASE_PLACEHOLDER, self.base_url.encode("ascii"))

    def served(self, method: str, path: str, headers: dict[str, str], status: int) -> None:
        """Called once a request is answered (the tests' mock server logs it)."""

    # -- HTTP --------------------------------------------------------------------------------
    def answer(self, handler: BaseHTTPRequestHandler, *, head: bool) -> None:
        response = self.response(handler.path)
        status, headers, body = response.status, dict(response.headers), response.body
        if status == 200:
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            dates = {"Last-Modified": email.utils.formatdate(response.last_modified, usegmt=True)} \
                if response.last_modified is not None else {}
            headers = merge_headers({"ETag": etag, **dates}, headers)
            if _not_modified(handler.headers, etag, response.last_modified):
                status, body = 304, b""
                headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
        self.served(handler.command, handler.path, dict(handler.headers.items()), status)
        try:
            handler.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    handler.send_header(name, value)
            if status != 304:
                handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if not head and status != 304:
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            handler.close_connection = True


def _not_modified(request_headers, etag: str, last_modified: float | None) -> bool:
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:  # weak comparison (RFC 9110 13.1.2)
        candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
        return "*" in candidates or etag in candidates
    if_modified_since = request_headers.get("If-Modified-Since")
    if if_modified_since is None or last_modified is None:
        return False
    try:
        return int(last_modified) <= email.utils.parsedate_to_datetime(if_modified_since).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False


def _sidecar(path: Path) -> dict[str, str]:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}
    pairs = (line.split(":", 1) for line in sidecar.read_text("utf-8").splitlines()
             if ":" in line and not line.strip().startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}
