"""The tests' loopback HTTP server: the demo site (newsarchive/demo/server.py), changed while a test
runs, every request logged.

It runs as its own process, started once per test run by tests/conftest.py (as Scrapy's own
tests/mockserver.py does): ``python -m tests.mockserver`` prints the port of its control API on
its first line, then serves until its stdin closes. Each test asks it for a site of its own: a
fresh listening port with its own robots.txt, its own ``{{base}}`` and its own request log, so
tests never see each other's pages or requests. Everything listens on 127.0.0.1.

Control API (JSON bodies)::

    POST   /sites                  {"root": DIR or null}   -> {"id": N, "port": P}
    DELETE /sites/N                                         close the site's port
    POST   /sites/N/pages          {"path", "body" (base64), "content_type", "status"}
    DELETE /sites/N/pages?path=P                            serve the file again
    POST   /sites/N/headers        {"path", "headers"}      extra response headers
    POST   /sites/N/delay          {"path", "seconds"}      answer slowly (0: at once)
    GET    /sites/N/requests                                -> [{"method", "path", "headers", "status", "time"}]
    DELETE /sites/N/requests

Tests use it through :class:`MockSite` (``site.url(...)``, ``site.set_page(...)``,
``site.requests``...), which ``MockServer.new_site()`` returns.
"""

from __future__ import annotations

import base64
import json
import math
import re
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from newsarchive.demo.server import DemoServer, Response, merge_headers, path_key

ROOT = Path(__file__).resolve().parents[1]

START_TIMEOUT = 30.0


@dataclass(frozen=True)
class RequestRecord:
    """One request as the site saw it."""

    method: str
    path: str  # with its query string (a proxy sees the absolute URL)
    headers: dict[str, str]
    status: int
    time: float = field(default_factory=time.time)


# -- the server process ----------------------------------------------------------------------------

class ControlledSite(DemoServer):
    """The demo site with pages, headers and delays set at run time, and a request log."""

    def __init__(self, root: Path | None = None):
        super().__init__(root)
        self.lock = threading.Lock()
        self.log: list[RequestRecord] = []
        self.pages: dict[str, Response] = {}
        self.extra_headers: dict[str, dict[str, str]] = {}
        self.delays: dict[str, float] = {}
        self.last_modified: dict[str, float] = {}

    def set_page(self, path: str, body: bytes, content_type: str, status: int) -> None:
        key = path_key(path)
        with self.lock:
            file = self.file_for(key)
            previous = self.last_modified.get(key, file.stat().st_mtime if file else 0.0)
            # whole seconds (HTTP dates), strictly later than the previous version of the page
            stamp = max(float(math.floor(time.time())), math.floor(previous) + 1.0)
            self.last_modified[key] = stamp
            self.pages[key] = Response(status, body, {"Content-Type": content_type}, stamp)

    def response(self, path: str) -> Response:
        key = path_key(path)
        with self.lock:
            delay, page, extra = self.delays.get(key, 0.0), self.pages.get(key), self.extra_headers.get(key, {})
        if delay:
            time.sleep(delay)
        if page is not None:
            page = Response(page.status, self.substitute(page.body), page.headers, page.last_modified)
        response = page or super().response(path)
        response.headers = merge_headers(response.headers, extra)
        return response

    def served(self, method: str, path: str, headers: dict[str, str], status: int) -> None:
        with self.lock:
            self.log.append(RequestRecord(method, path, headers, status))


class _Control(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sites: dict[int, ControlledSite] = {}
    _route = re.compile(r"^/sites(?:/(\d+)(?:/(pages|headers|delay|requests))?)?$")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the name the base class uses
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        match = self._route.match(url.path)
        length = int(self.headers.get("Content-Length") or 0)
        data = json.loads(self.rfile.read(length) or b"{}")
        try:
            if match is None:
                raise KeyError(url.path)
            site_id, part = match.groups()
            result = self._act(method, int(site_id) if site_id else None, part, data, parse_qs(url.query))
            self._reply(200, result)
        except (KeyError, ValueError, TypeError) as exc:
            self._reply(404 if isinstance(exc, KeyError) else 400, {"error": repr(exc)})

    def _act(self, method: str, site_id: int | None, part: str | None, data: dict, query: dict):
        if site_id is None and method == "POST":
            site = ControlledSite(Path(data["root"]) if data.get("root") else None).start()
            self.sites[site.port] = site
            return {"id": site.port, "port": site.port}
        site = self.sites[site_id] if site_id is not None else None
        if site is None:
            raise KeyError(method)
        if part is None and method == "DELETE":
            self.sites.pop(site_id).stop()
        elif part == "pages" and method == "POST":
            site.set_page(data["path"], base64.b64decode(data["body"]), data["content_type"], int(data["status"]))
        elif part == "pages" and method == "DELETE":
            with site.lock:
                site.pages.pop(path_key(query["path"][0]), None)
        elif part == "headers" and method == "POST":
            with site.lock:
                site.extra_headers[path_key(data["path"])] = dict(data["headers"])
        elif part == "delay" and method == "POST":
            with site.lock:
                site.delays[path_key(data["path"])] = float(data["seconds"])
        elif part == "requests" and method == "GET":
            with site.lock:
                return [asdict(record) for record in site.log]
        elif part == "requests" and method == "DELETE":
            with site.lock:
                site.log.clear()
        else:
            raise KeyError(f"{method} {part}")
        return {}

    def _reply(self, status: int, value) -> None:
        body = json.dumps(value).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve() -> None:
    """The mock server process: print the control port, serve until stdin closes (the test run ended)."""
    control = ThreadingHTTPServer(("127.0.0.1", 0), _Control)
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(f"port {control.server_address[1]}", flush=True)
    sys.stdin.read()  # EOF: the parent closed the pipe, or died
    for site in list(_Control.sites.values()):
        site.stop()
    control.shutdown()


# -- the test side ---------------------------------------------------------------------------------

class MockServer:
    """The mock server process, seen from the tests."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.mockserver"], cwd=ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.port = self._read_port()
        # never through a proxy a test configured for the crawl it runs
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _read_port(self) -> int:
        found: list[str] = []
        reader = threading.Thread(target=lambda: found.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        match = re.match(r"port (\d+)", found[0] if found else "")
        if match is None:
            self.close()
            raise RuntimeError(f"the mock server did not start within {START_TIMEOUT:.0f} s: {found!r}")
        return int(match.group(1))

    def call(self, method: str, path: str, payload: dict | None = None):
        data = json.dumps(payload).encode("utf-8") if payload is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with self._opener.open(request, timeout=30) as response:
            return json.loads(response.read())

    def new_site(self, root: Path | str | None = None) -> MockSite:
        """A site of its own on a fresh port: the demo site, or the files under ``root``."""
        created = self.call("POST", "/sites", {"root": str(root) if root is not None else None})
        return MockSite(self, created["id"], created["port"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class MockSite:
    """One site of the mock server: its address, what it serves, what it was asked."""

    def __init__(self, server: MockServer, site_id: int, port: int):
        self.server, self.id, self.port = server, site_id, port
        self.host = "127.0.0.1"
        self.base_url = f"http://{self.host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def set_page(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8",
                 status: int = 200) -> None:
        """Replace or add the page at ``path`` (``{{base}}`` is substituted in it too); its
        Last-Modified moves forward by at least a second."""
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        self._call("POST", "/pages", {"path": path, "body": base64.b64encode(raw).decode("ascii"),
                                      "content_type": content_type, "status": status})

    def remove_page(self, path: str) -> None:
        """Forget a set_page (the file on disk, if any, is served again)."""
        self._call("DELETE", f"/pages?path={quote(path)}")

    def set_headers(self, path: str, headers: dict[str, str]) -> None:
        """Extra response headers for ``path`` (they override the defaults)."""
        self._call("POST", "/headers", {"path": path, "headers": headers})

    def set_delay(self, path: str, seconds: float) -> None:
        """Wait ``seconds`` before answering requests for ``path`` (0 removes the delay)."""
        self._call("POST", "/delay", {"path": path, "seconds": seconds})

    @property
    def requests(self) -> list[RequestRecord]:
        """The requests the site answered so far, oldest first."""
        return [RequestRecord(**record) for record in self._call("GET", "/requests")]

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def close(self) -> None:
        self._call("DELETE", "")

    def _call(self, method: str, part: str, payload: dict | None = None):
        return self.server.call(method, f"/sites/{self.id}{part}", payload)


if __name__ == "__main__":
    serve()
