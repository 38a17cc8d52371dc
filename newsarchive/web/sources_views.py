"""The operators' page (`/sources`, `/api/sources`): each source's health with a small chart of
the articles it brought per day, recent crawl runs, blocked fetches, archive counts, the
scheduler. The figures are archive/health.py's, the same as `newsarchive stats`."""

from __future__ import annotations

from datetime import date, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

from archive import health
from archive.models import utcnow
from crawler.processes import pid_alive
from newsarchive.web.render import page

CHART_DAYS = 14
RUNS = 20
CHART_WIDTH, CHART_HEIGHT, GAP = 140, 32, 2
# Keys another part of the project may add to a source's row; shown when present.
OPTIONAL_COLUMNS = ("late_seconds", "overdue")


def chart(days: list[tuple[date, int]]) -> dict:
    """Bars of an inline SVG chart (server-drawn, no script): one per day, tallest = the busiest day."""
    peak = max((n for _, n in days), default=0)
    width = (CHART_WIDTH - GAP * (len(days) - 1)) / max(1, len(days))
    bars = []
    for i, (when, count) in enumerate(days):
        height = 0 if not peak else max(1.0, CHART_HEIGHT * count / peak) if count else 0
        bars.append({"x": round(i * (width + GAP), 2), "y": round(CHART_HEIGHT - height, 2),
                     "width": round(width, 2), "height": round(height, 2), "day": when.isoformat(), "count": count})
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "bars": bars, "peak": peak,
            "total": sum(n for _, n in days), "first": days[0][0].isoformat() if days else "",
            "last": days[-1][0].isoformat() if days else ""}


def gather(request: Request) -> dict:
    db = request.app.state.db
    now = utcnow()
    report = health.report(db, limit=RUNS, now=now, alive=pid_alive)
    with db.session() as session:
        per_day = health.articles_per_day(session, now, days=CHART_DAYS)
    empty = [(d, 0) for d in health.recent_days(now, CHART_DAYS)]
    report["per_day"] = {s["id"]: per_day.get(s["id"], empty) for s in report["sources"]}
    report["unsourced_per_day"] = per_day.get(None)
    return report


def sources_page(request: Request):
    report = gather(request)
    charts = {source_id: chart(days) for source_id, days in report["per_day"].items()}
    # how late polls start: shown once a scheduler has recorded it for some source
    scheduled = any(s.get("late_seconds") is not None for s in report["sources"])
    optional = list(OPTIONAL_COLUMNS) if scheduled else []
    return page(request, "sources.html", {"report": report, "charts": charts, "optional": optional,
                                           "chart_days": CHART_DAYS,
                                           "unsourced": chart(report["unsourced_per_day"])
                                           if report["unsourced_per_day"] else None})


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def sources_api(request: Request):
    """The `stats --json` report plus articles per day over the last CHART_DAYS days."""
    report = gather(request)
    report["per_day"] = {str(k): [{"day": d, "articles": n} for d, n in days] for k, days in report["per_day"].items()}
    report.pop("unsourced_per_day")
    return JSONResponse(_jsonable(report))
