"""The search page (`/`) and its JSON twin (`/api/search`): ranked hits, facets, pages.

Without a query the page lists the newest archived articles under the same filters. One
request costs one ranked search (or one walk down the newest articles) and one facet count
(archive/facets.py), run side by side: both bounded, whatever the query; the count is reused
while the archive does not change (paging, switching filters other than dates).
"""

from __future__ import annotations

import calendar
import math

from starlette.requests import Request
from starlette.responses import JSONResponse

from archive.browse import latest
from archive.facets import Facets, facet_counts
from archive.search import RANK_CANDIDATES, search
from archive.snippets import marked_pieces
from newsarchive.web.params import PER_PAGE, SearchRequest, read_search
from newsarchive.web.render import page


def run(request: Request, wanted: SearchRequest):
    """(hits of the requested page, facets) for a checked request. The facets are counted in
    another thread, on their own connection, while the hits are fetched: the page waits for the
    slower of the two, not for both."""
    state = request.app.state
    if wanted.q and wanted.query is None:  # typed, but nothing to search for (the error says why)
        return [], Facets(total=0, capped=False)
    counting = state.workers.submit(count, state, wanted)
    with state.db.session() as session:
        if wanted.query is not None:
            hits = search(session, wanted.query, filters=wanted.filters, limit=PER_PAGE, offset=wanted.offset,
                          order=wanted.sort)
            for hit in hits:  # the query's words marked in the title too
                hit.extra["title_pieces"] = marked_pieces(hit.title or "", wanted.query.words)
        else:
            hits = latest(session, filters=wanted.filters, limit=PER_PAGE, offset=wanted.offset)
    return hits, counting.result()


def count(state, wanted: SearchRequest) -> Facets:
    with state.db.session() as session:
        return facet_counts(session, wanted.query, wanted.filters, cache=state.facet_cache)


def pages(wanted: SearchRequest, facets: Facets) -> dict:
    """Which pages exist: ranked results stop after RANK_CANDIDATES."""
    reachable = min(facets.total, RANK_CANDIDATES) if wanted.query is not None else facets.total
    last = max(1, min(math.ceil(reachable / PER_PAGE), RANK_CANDIDATES // PER_PAGE))
    window = range(max(1, wanted.page - 4), min(last, wanted.page + 4) + 1)
    return {"current": wanted.page, "last": last, "window": list(window),
            "truncated": wanted.query is not None and facets.total > RANK_CANDIDATES}


def month_range(month: str) -> tuple[str, str]:
    """'2024-09' -> ('2024-09-01', '2024-09-30'): the since/until of one month."""
    if not (len(month) == 7 and month[:4].isdigit() and month[4] == "-" and month[5:].isdigit()
            and 1 <= int(month[5:]) <= 12):
        return "", ""
    year, number = int(month[:4]), int(month[5:7])
    return f"{month}-01", f"{month}-{calendar.monthrange(year, number)[1]:02d}"


def search_page(request: Request):
    wanted = read_search(request.query_params)
    hits, facets = run(request, wanted)
    months = [(m, n, *(month_range(m) if m else ("", ""))) for m, n in facets.months]
    context = {"wanted": wanted, "hits": hits, "facets": facets, "months": months, "pages": pages(wanted, facets),
               "per_page": PER_PAGE, "rank_candidates": RANK_CANDIDATES}
    return page(request, "search.html", context, status_code=400 if wanted.errors else 200)


def facets_json(facets: Facets) -> dict:
    return {"total": facets.total, "capped": facets.capped,
            "sites": [{"site": s, "count": n} for s, n in facets.sites],
            "languages": [{"language": lang, "count": n} for lang, n in facets.languages],
            "months": [{"month": m, "count": n} for m, n in facets.months],
            "revised": {"yes": facets.revised, "no": facets.never_revised},
            "duplicates": {"copies": facets.copies, "originals": facets.originals}}


def search_api(request: Request):
    """/api/search?q=…: the page's results as JSON (the same hit fields as `search --json`)."""
    wanted = read_search(request.query_params)
    if wanted.errors:
        return JSONResponse({"error": "; ".join(wanted.errors)}, status_code=400)
    hits, facets = run(request, wanted)
    return JSONResponse({"query": wanted.q, "page": wanted.page, "per_page": PER_PAGE, "sort": wanted.sort,
                         "pages": pages(wanted, facets)["last"], "results": [h.as_dict() for h in hits],
                         "facets": facets_json(facets)})
