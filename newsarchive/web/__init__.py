"""`newsarchive serve`: a read-only web app over the archive, for archivists and operators.

Starlette (ASGI) with Jinja2 pages rendered on the server, served by uvicorn; no JavaScript.
Every page reads through the archive's own query API (archive.search, archive.facets,
archive.reading, archive.health, archive.export), on a database opened read-only.

- app.py: the routes and the middleware stack, assembled by `create_app`
- security.py: security headers and error pages on every response, the Host check, the token gate
- params.py: query parameters of any shape -> a checked search request, or messages
- render.py: the Jinja2 environment (autoescape, highlighting that escapes first)
- search_views.py, article_views.py, sources_views.py: pages and their JSON twins under /api/
- exports.py, streaming.py: the result set as JSONL/CSV/WARC (streamed) and as an Atom feed
"""

from newsarchive.web.app import create_app

__all__ = ["create_app"]
