"""The Jinja2 environment of the web app: every value autoescaped, dates in UTC, highlighting.

Archived strings are never trusted: autoescape is on for every template, and the one place
that builds markup in Python (`highlight`) escapes each piece before wrapping query words in
<mark>, so a title or text holding `<script>` shows as those characters.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from archive.request_options import summary as options_summary

TEMPLATES = Path(__file__).with_name("templates")


def when(value: datetime | str | None, *, precise: bool = True) -> str:
    """A UTC date-time as archivists read it: 2024-09-16 08:00 (UTC implied, said in the footer).
    ISO 8601 text (the JSON records' dates) is read first."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value is None:
        return "—"
    value = value.astimezone(timezone.utc) if value.tzinfo else value
    return value.strftime("%Y-%m-%d %H:%M" if precise else "%Y-%m-%d")


def day(value: datetime | None) -> str:
    return when(value, precise=False)


def highlight(pieces: list[tuple[str, bool]]) -> Markup:
    """Snippet pieces as HTML: each piece escaped, then the query words marked."""
    return Markup("").join(Markup("<mark>{}</mark>").format(text) if matched else escape(text)
                           for text, matched in pieces)


def seconds(value: float | int | None) -> str:
    """A duration for people: 45 s, 12 min, 3.5 h, 2.0 days."""
    if value is None:
        return "—"
    value = float(value)
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value < 90:
        return f"{sign}{value:.0f} s"
    if value < 90 * 60:
        return f"{sign}{value / 60:.0f} min"
    if value < 48 * 3600:
        return f"{sign}{value / 3600:.1f} h"
    return f"{sign}{value / 86400:.1f} days"


def make_templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    # options: a source's request options as they may be shown (names, "auth: set", proxy masked)
    env.filters.update(when=when, day=day, highlight=highlight, seconds=seconds, options=options_summary)
    return Jinja2Templates(env=env)


def page(request: Request, name: str, context: dict, status_code: int = 200):
    """A rendered page; `request.app.state.templates` is the app's Jinja2Templates."""
    context = {"token_required": request.app.state.token is not None, **context}
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status_code)
