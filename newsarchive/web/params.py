"""Query parameters of any shape -> a checked search request, or messages saying what is wrong.

The parameters are the CLI's filters under the same names (`q`, `site`, `since`, `until`,
`lang`) plus `revised` (yes | no), `duplicates` (show | hide), `sort` (rank | newest) and
`page`. Nothing here raises: a value that cannot be used is dropped and explained in
`errors`, so every request gets a page (400 when something was wrong).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from archive.search import ORDERS, RANK_CANDIDATES, Filters, Query, QueryError, parse_query
from archive.urls import normalize_site
from newsarchive.filters import FilterError, build_filters

PER_PAGE = 20
MAX_PAGE = RANK_CANDIDATES // PER_PAGE
MAX_QUERY_CHARS = 500
MAX_FIELD_CHARS = 255
CHOICES = {"revised": ("", "yes", "no"), "duplicates": ("show", "hide"), "sort": ORDERS}
FIELDS = ("q", "site", "since", "until", "lang", "revised", "duplicates", "sort", "page")


def clean(value: str | None, limit: int) -> tuple[str, bool]:
    """The value without control or other unprintable characters, trimmed; and whether it fit."""
    value = "".join(ch if ch.isprintable() else " " for ch in (value or "")).strip()
    return value[:limit], len(value) <= limit


@dataclass
class SearchRequest:
    q: str = ""
    site: str = ""
    since: str = ""
    until: str = ""
    lang: str = ""
    revised: str = ""
    duplicates: str = "show"
    sort: str = "rank"
    page: int = 1
    query: Query | None = None  # None: no query typed (browse the newest articles)
    filters: Filters = field(default_factory=Filters)
    errors: list[str] = field(default_factory=list)

    @property
    def site_key(self) -> str:
        """The site filter as the archive stores sites (to mark the chosen one)."""
        return normalize_site(self.site) if self.site else ""

    @property
    def offset(self) -> int:
        return (self.page - 1) * PER_PAGE

    def params(self, **changes) -> dict[str, str]:
        """The request's parameters with `changes`, defaults left out (for links)."""
        values = {name: str(getattr(self, name)) for name in FIELDS}
        values.update({k: str(v) for k, v in changes.items() if v is not None})
        defaults = {"duplicates": "show", "sort": "rank", "page": "1"}
        return {k: v for k, v in values.items() if v and v != defaults.get(k)}

    def link(self, path: str = "/", **changes) -> str:
        """`path` with this request's parameters and `changes` (page back to 1 unless given)."""
        changes.setdefault("page", 1)
        query = urlencode(self.params(**changes))
        return path + ("?" + query if query else "")

    def selection_link(self, path: str) -> str:
        """`path` with the query and filters only (exports and the feed take no page or order)."""
        query = urlencode({k: v for k, v in self.params().items() if k not in ("page", "sort")})
        return path + ("?" + query if query else "")


def read_search(params: QueryParams) -> SearchRequest:
    request = SearchRequest()
    for name in ("q", "site", "since", "until", "lang"):
        limit = MAX_QUERY_CHARS if name == "q" else MAX_FIELD_CHARS
        value, fits = clean(params.get(name), limit)
        if not fits:
            request.errors.append(f"{name} is too long (at most {limit} characters): cut short")
        setattr(request, name, value)
    for name, allowed in CHOICES.items():
        value, _ = clean(params.get(name), MAX_FIELD_CHARS)
        value = value.lower()
        if value and value not in allowed:
            request.errors.append(f"{name} must be one of {', '.join(a for a in allowed if a)}, not {value!r}")
        elif value:
            setattr(request, name, value)
    request.page = _page(params.get("page"), request.errors)
    revised = {"yes": True, "no": False}.get(request.revised)
    hide_copies = request.duplicates == "hide"
    try:
        request.filters = build_filters(request.site or None, request.since or None, request.until or None,
                                        request.lang or None, revised, hide_copies)
    except FilterError as exc:  # the dates are dropped, the other filters kept
        request.errors.append(str(exc).replace("--since", "since").replace("--until", "until"))
        request.since = request.until = ""
        request.filters = build_filters(request.site or None, None, None, request.lang or None, revised,
                                        hide_copies)
    if request.q:
        try:
            request.query = parse_query(request.q)
        except QueryError as exc:
            request.errors.append(str(exc))
    return request


def _page(value: str | None, errors: list[str]) -> int:
    if value in (None, ""):
        return 1
    number = read_number(value, limit=MAX_PAGE)
    if number is None:
        errors.append(f"page must be a number from 1 to {MAX_PAGE} (results stop after {RANK_CANDIDATES}; "
                      "narrow the query or export the whole result set)")
        return 1
    return number


def read_number(value: str | None, *, limit: int = 2**31 - 1) -> int | None:
    """A positive id from a path or parameter, or None (huge, signed or not a number)."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10 or not 0 < int(text) <= limit:
        return None
    return int(text)
