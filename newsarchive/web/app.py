"""The web app assembled: routes (all GET but the login form), middleware, error pages.

Middleware, outermost first: `Guard` (security headers, error pages), `HostCheck` (loopback
binds without a token), `TokenGate` (when a token is set). No route writes to the archive, and
the archive is opened read-only anyway (`Database(url, readonly=True)`, see `serve`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from archive.db import Database
from archive.facets import GroupCache
from newsarchive.web import article_views, exports, search_views, security, sources_views
from newsarchive.web.render import make_templates, page

STATIC = Path(__file__).with_name("static")


def _http_error(request: Request, exc: HTTPException):
    """404s and 405s: JSON under /api/ and for downloads, a page elsewhere."""
    headers = getattr(exc, "headers", None)
    if not security.wants_page(request.url.path):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=headers)
    return page(request, "error.html", {"status": exc.status_code, "message": exc.detail},
                status_code=exc.status_code)


def create_app(db: Database, *, token: str | None = None, allowed_hosts: set[str] | None = None) -> Starlette:
    """The app over `db`. `token`: required on every request when set. `allowed_hosts`: when
    set, the only Host header names answered (a loopback bind without a token)."""
    routes = [
        Route("/", search_views.search_page),
        Route("/articles/{key}", article_views.article_page),
        Route("/articles/{key}/raw/{raw}", article_views.raw_capture),
        Route("/sources", sources_views.sources_page),
        Route("/export.{format}", exports.export),
        Route("/feed.atom", exports.feed),
        Route("/api/search", search_views.search_api),
        Route("/api/articles/{key}", article_views.article_api),
        Route("/api/sources", sources_views.sources_api),
        Route("/login", security.login, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(security.Guard)]
    if allowed_hosts is not None:
        middleware.append(Middleware(security.HostCheck, allowed=allowed_hosts))
    if token is not None:
        middleware.append(Middleware(security.TokenGate, token=token))
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: _http_error})
    app.state.db = db
    app.state.token = token
    app.state.templates = make_templates()
    app.state.workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="newsarchive-facets")
    app.state.facet_cache = GroupCache()
    return app
