"""What stands between the archive and a browser: headers, error pages, the Host check, the token.

- `Guard` (outermost): security headers on every response (a CSP without scripts, nosniff,
  no referrer, no framing except the raw-capture frame) and, for an exception nothing else
  handled, a plain error page instead of a traceback: 503 when the database cannot be read.
- `HostCheck`: on a loopback bind without a token, only loopback Host headers, so a web page
  elsewhere cannot reach the archive through DNS rebinding.
- `TokenGate`: when a token is set, every route but /login and /static needs it, as
  `Authorization: Bearer TOKEN`, as the cookie the login form (or `?token=`) sets, or as
  `?token=` itself for feeds, exports and the API. Compared in constant time; the cookie holds
  an HMAC of the token, never the token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import parse_qsl, urlencode

from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import URL, Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from newsarchive.web.render import page

log = logging.getLogger("newsarchive.serve")

CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
COOKIE = "newsarchive_session"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
OPEN_PATHS = ("/login", "/static/")
MAX_LOGIN_BODY = 8192
MIN_TOKEN_CHARS = 16


class Guard:
    """Security headers on every response; unexpected errors become a plain page."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items() if k.encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if started:  # mid-stream (an export): abort the connection, the client sees it truncated
                raise
            unreadable = isinstance(exc, SQLAlchemyError)
            log.error("%s %s failed", scope.get("method"), scope.get("path"), exc_info=not unreadable)
            message = ("the archive cannot be read right now (see the server's log)" if unreadable
                       else "internal error (see the server's log)")
            response = PlainTextResponse(message, status_code=503 if unreadable else 500)
            await response(scope, receive, send_with_headers)


class HostCheck:
    """Refuses requests whose Host header is not one of `allowed` (names without port)."""

    def __init__(self, app, allowed: set[str]):
        self.app = app
        self.allowed = {h.lower() for h in allowed}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host", "").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.allowed:
                response = PlainTextResponse("unexpected Host header: this server answers on loopback only",
                                             status_code=421)
                return await response(scope, receive, send)
        await self.app(scope, receive, send)


def session_value(token: str) -> str:
    """What the session cookie holds: an HMAC of the token (the token itself never leaves the form)."""
    return hmac.new(token.encode(), b"newsarchive serve session v1", hashlib.sha256).hexdigest()


def same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def wants_page(path: str) -> bool:
    """HTML pages (a browser is redirected to log in); the rest answers 401."""
    return not (path.startswith("/api/") or path.startswith("/export.") or path == "/feed.atom"
                or "/raw/" in path)


class TokenGate:
    def __init__(self, app, token: str):
        self.app = app
        self.token = token
        self.cookie = session_value(token)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(OPEN_PATHS):
            return await self.app(scope, receive, send)
        request = Request(scope)
        authorization = request.headers.get("authorization", "")
        if authorization[:7].lower() == "bearer " and same(authorization[7:].strip(), self.token):
            return await self.app(scope, receive, send)
        if same(request.cookies.get(COOKIE), self.cookie):
            return await self.app(scope, receive, send)
        given = request.query_params.get("token")
        if same(given, self.token):
            if wants_page(scope["path"]) and request.method == "GET":
                # keep the token out of the address bar and history: cookie, then the same URL without it
                response = RedirectResponse(_without_token(request.url), status_code=303)
                set_session_cookie(response, self.cookie, request)
                return await response(scope, receive, send)
            return await self.app(scope, receive, send)
        if wants_page(scope["path"]):
            target = _without_token(request.url)
            response = RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        else:
            response = JSONResponse({"error": "a token is required (Authorization: Bearer TOKEN)"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


def _without_token(url: URL) -> str:
    query = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "token"]
    return url.path + ("?" + urlencode(query) if query else "")


def set_session_cookie(response: Response, value: str, request: Request) -> None:
    response.set_cookie(COOKIE, value, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this server only."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value \
            or any(ord(c) < 32 for c in value):
        return "/"
    return value


async def login(request: Request):
    """GET: the form. POST: check the token, set the session cookie, go back where the user was."""
    token = request.app.state.token
    if token is None:
        return RedirectResponse("/", status_code=303)
    next_path = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return page(request, "login.html", {"next": next_path, "wrong": False})
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGIN_BODY:
            return PlainTextResponse("login form too large", status_code=413)
    fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    next_path = safe_next(fields.get("next"))
    if not same(fields.get("token", "").strip(), token):
        return page(request, "login.html", {"next": next_path, "wrong": True}, status_code=401)
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, session_value(token), request)
    return response
