"""A small, real HTTP server on loopback that serves the bundled demo news site.

Used by ``newsarchive demo`` and by the tests as the loopback HTTP fixture.
Standard library only: :class:`http.server.ThreadingHTTPServer` in a daemon thread.

Serving rules
-------------
* ``/a/b/`` serves ``<root>/a/b/index.html``; ``/`` serves ``<root>/index.html``;
  other paths (``/feed.xml``, ``/robots.txt``, ``/sitemap.xml``) are served as files.
  ``/a/b`` without the trailing slash, when ``<root>/a/b/`` is a directory, answers
  ``301`` to ``/a/b/`` (as WordPress does). Anything else is ``404``.
* The query string (``?utm_source=rss...``) is ignored for the file lookup, but kept in
  the request log.
* Every occurrence of ``{{base}}`` in a body is replaced, at serve time, by the server's
  base URL (``http://127.0.0.1:PORT``), because the port is ephemeral. The substitution
  works on bytes, so it is safe whatever the file's encoding.
* Content types come from the file extension (``.html`` -> ``text/html; charset=utf-8``,
  ``.xml`` -> ``application/xml; charset=utf-8``, ``.txt`` -> ``text/plain; charset=utf-8``, ...).
* **Sidecar headers**: a file ``X.headers`` next to a served file ``X`` holds extra
  response headers for it, one ``Name: value`` per line (blank lines and ``#`` comments
  ignored); they override the defaults. This is how ``feed.xml`` is served as
  ``application/rss+xml`` and how the windows-1252 article is explicitly (and wrongly)
  declared ``text/html; charset=utf-8``. ``*.headers`` files are never served themselves.
* Every 200 response carries a strong ``ETag`` (SHA-256 of the body after substitution)
  and a ``Last-Modified`` (the file's mtime, or the time of :meth:`DemoServer.set_page`,
  which always moves a path's date forward by at least one second). A GET/HEAD with a
  matching ``If-None-Match`` (or, without ``If-None-Match``, an ``If-Modified-Since`` not
  older than ``Last-Modified``) gets ``304 Not Modified`` with no body. HEAD is supported.
* Runtime overrides for tests: :meth:`~DemoServer.set_page` (replace/add a page, or make
  it fail with any status), :meth:`~DemoServer.set_headers` (extra headers such as
  ``Retry-After``), :meth:`~DemoServer.set_delay` (slow responses). Every request is
  logged in :attr:`DemoServer.requests` (method, path with query, headers, status).
* No access log on stderr.

Run ``python -m newsarchive.demo.server [--port N]`` to serve the site until Ctrl-C.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import math
import mimetypes
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

SITE_DIR = Path(__file__).resolve().parent / "site"
BASE_PLACEHOLDER = b"{{base}}"
SIDECAR_SUFFIX = ".headers"

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it."""

    method: str
    path: str  # with query string
    headers: dict[str, str]
    status: int
    time: float = field(default_factory=time.time)


@dataclass
class _Override:
    body: bytes
    content_type: str
    status: int
    last_modified: float


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: float | None = None


def _content_type_for(path: Path) -> str:
    ctype = _CONTENT_TYPES.get(path.suffix.lower())
    if ctype:
        return ctype
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _read_sidecar(path: Path) -> dict[str, str]:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    headers: dict[str, str] = {}
    if sidecar.is_file():
        for line in sidecar.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#") or ":" not in line:
                continue
            name, value = line.split(":", 1)
            headers[name.strip()] = value.strip()
    return headers


def _merge_headers(base: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """Merge ``extra`` into ``base``, header names compared case-insensitively."""
    merged = dict(base)
    for name, value in extra.items():
        for existing in [k for k in merged if k.lower() == name.lower()]:
            del merged[existing]
        merged[name] = value
    return merged


def _normalize_path(path: str) -> str:
    """The lookup key of a request path: no query, no fragment, percent-decoded."""
    path = urlsplit(path).path or "/"
    path = unquote(path)
    if not path.startswith("/"):
        path = "/" + path
    return path


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        # Clients that time out and hang up (timeout tests) are expected: stay quiet.
        return


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"  # what Vudailleurs-like WordPress hosts announce
    timeout = 30  # idle keep-alive connections do not hold a thread forever
    demo: "DemoServer"  # set on the per-server subclass

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        demo = self.demo
        key = _normalize_path(self.path)
        delay = demo._delay_for(key)
        if delay:
            time.sleep(delay)
        response = demo._resolve(key, self.path)
        status = response.status
        headers = dict(response.headers)
        body = response.body

        if status == 200:
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            headers = _merge_headers({"ETag": etag}, headers)
            if response.last_modified is not None:
                headers = _merge_headers(
                    {"Last-Modified": email.utils.formatdate(response.last_modified, usegmt=True)},
                    headers,
                )
            if self._not_modified(etag, response.last_modified):
                status = 304
                body = b""
                headers = {
                    k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")
                }

        demo._log(
            RequestRecord(
                method=self.command,
                path=self.path,
                headers={k: v for k, v in self.headers.items()},
                status=status,
            )
        )
        try:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() == "content-length":
                    continue
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and status != 304 and body:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _not_modified(self, etag: str, last_modified: float | None) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            candidates = [c.strip() for c in inm.split(",")]
            # Weak comparison for If-None-Match (RFC 9110 13.1.2).
            bare = etag.removeprefix("W/")
            return "*" in candidates or any(c.removeprefix("W/") == bare for c in candidates)
        ims = self.headers.get("If-Modified-Since")
        if ims is not None and last_modified is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return int(last_modified) <= since
        return False


class DemoServer:
    """The demo site on a loopback HTTP server (also a context manager)."""

    def __init__(self, root: Path | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root).resolve() if root is not None else SITE_DIR
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._overrides: dict[str, _Override] = {}
        self._extra_headers: dict[str, dict[str, str]] = {}
        self._delays: dict[str, float] = {}
        self._last_modified: dict[str, float] = {}
        self._httpd: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "DemoServer":
        if self._httpd is not None:
            return self
        handler = type("DemoHandler", (_Handler,), {"demo": self})
        self._httpd = _QuietServer((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"newsarchive-demo-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "DemoServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("DemoServer is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        if not path.startswith("/"):
            path = "/" + path
        return self.base_url + path

    # -- runtime control ---------------------------------------------------------------------
    def set_page(
        self,
        path: str,
        body: bytes | str,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
    ) -> None:
        """Replace or add the page at ``path`` (``{{base}}`` is substituted in it too)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        key = _normalize_path(path)
        with self._lock:
            previous = self._last_modified.get(key)
            if previous is None:
                previous = self._file_mtime(key) or 0.0
            # Whole seconds (HTTP dates), strictly later than the previous version.
            stamp = max(float(math.floor(time.time())), math.floor(previous) + 1.0)
            self._last_modified[key] = stamp
            self._overrides[key] = _Override(bytes(body), content_type, int(status), stamp)

    def remove_page(self, path: str) -> None:
        """Forget a :meth:`set_page` override (the file on disk, if any, is served again)."""
        with self._lock:
            self._overrides.pop(_normalize_path(path), None)

    def set_headers(self, path: str, headers: dict[str, str]) -> None:
        """Extra response headers for ``path`` (they override the defaults)."""
        with self._lock:
            self._extra_headers[_normalize_path(path)] = dict(headers)

    def set_delay(self, path: str, seconds: float) -> None:
        """Wait ``seconds`` before answering requests for ``path`` (0 removes the delay)."""
        with self._lock:
            key = _normalize_path(path)
            if seconds > 0:
                self._delays[key] = float(seconds)
            else:
                self._delays.pop(key, None)

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the request log."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- internals ---------------------------------------------------------------------------
    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    def _delay_for(self, key: str) -> float:
        with self._lock:
            return self._delays.get(key, 0.0)

    def _substitute(self, body: bytes) -> bytes:
        if BASE_PLACEHOLDER in body:
            body = body.replace(BASE_PLACEHOLDER, self.base_url.encode("ascii"))
        return body

    def _file_for(self, key: str) -> Path | None:
        """The file serving ``key`` (``None`` if there is none); directories need a slash."""
        relative = key.lstrip("/")
        if key.endswith("/"):
            relative += "index.html"
        candidate = (self.root / relative).resolve()
        try:
            candidate.relative_to(self.root)
        except ValueError:
            return None  # path traversal
        if candidate.name.endswith(SIDECAR_SUFFIX) or not candidate.is_file():
            return None
        return candidate

    def _file_mtime(self, key: str) -> float | None:
        file = self._file_for(key)
        return file.stat().st_mtime if file is not None else None

    def _resolve(self, key: str, raw_path: str) -> _Response:
        with self._lock:
            override = self._overrides.get(key)
            extra = dict(self._extra_headers.get(key, {}))
        if override is not None:
            headers = {"Content-Type": override.content_type}
            return _Response(
                status=override.status,
                body=self._substitute(override.body),
                headers=_merge_headers(headers, extra),
                last_modified=override.last_modified,
            )

        file = self._file_for(key)
        if file is not None:
            headers = {"Content-Type": _content_type_for(file)}
            headers = _merge_headers(headers, _read_sidecar(file))
            return _Response(
                status=200,
                body=self._substitute(file.read_bytes()),
                headers=_merge_headers(headers, extra),
                last_modified=file.stat().st_mtime,
            )

        if not key.endswith("/") and self._file_for(key + "/") is not None:
            query = urlsplit(raw_path).query
            location = self.url(key + "/" + ("?" + query if query else ""))
            body = b'<!DOCTYPE html><html lang="fr"><title>301</title><p>Moved Permanently</p></html>'
            return _Response(
                status=301,
                body=body,
                headers=_merge_headers({"Location": location, "Content-Type": "text/html; charset=utf-8"}, extra),
            )

        body = (
            '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
            "<title>Page non trouvée – Vudailleurs.com</title></head>"
            "<body><h1>Oups ! Cette page est introuvable.</h1></body></html>\n"
        ).encode("utf-8")
        return _Response(
            status=404,
            body=body,
            headers=_merge_headers({"Content-Type": "text/html; charset=utf-8"}, extra),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the newsarchive demo site on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--root", type=Path, default=None, help="site directory (default: bundled)")
    args = parser.parse_args(argv)
    server = DemoServer(root=args.root, host=args.host, port=args.port).start()
    print(f"Serving the demo site at {server.base_url}/ (Ctrl-C to stop)", flush=True)
    print(f"  feed:    {server.url('/feed.xml')}", flush=True)
    print(f"  sitemap: {server.url('/sitemap.xml')}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
