"""`newsarchive stats`: is the archive healthy? Sources, recent crawl runs, blocks, counts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import lease, runs
from archive.models import Alias, Article, BlockedFetch, CrawlRun, FrontierURL, Revision, utcnow
from archive.sources import format_interval, list_sources
from crawler.processes import pid_alive
from newsarchive.cli import json_option, pass_context, print_json, print_table

WINDOW_DAYS = 7


def source_health(session: Session, now: datetime) -> list[dict]:
    since = now - timedelta(days=WINDOW_DAYS)
    recent = dict(session.execute(
        select(Article.source_id, func.count(Article.id)).where(Article.first_seen >= since)
        .group_by(Article.source_id)).all())
    rows = []
    for s in list_sources(session):
        rows.append({
            "id": s.id, "url": s.url, "kind": s.kind, "enabled": s.enabled,
            "state": "ok" if s.enabled and not s.consecutive_failures else
                     "failing" if s.enabled else "disabled",
            "disabled_reason": s.disabled_reason,
            "every": format_interval(s.every_seconds), "cron": s.cron,
            "poll_every": format_interval(s.poll_seconds) if s.poll_seconds else None,
            "last_success": s.last_success_at, "last_error_at": s.last_error_at, "last_error": s.last_error,
            "failure_score": s.failure_score, "consecutive_failures": s.consecutive_failures,
            "next_poll": s.next_poll_at,
            "articles_7d": recent.get(s.id, 0),
            "articles_per_day": round(recent.get(s.id, 0) / WINDOW_DAYS, 1),
        })
    return rows


def recent_runs(session: Session, limit: int) -> list[dict]:
    rows = []
    for run in runs.recent_runs(session, limit=limit):
        end = run.finished_at
        rows.append({
            "id": run.id, "source_id": run.source_id, "status": runs.shown_status(run, alive=pid_alive), "pid": run.pid,
            "started": run.started_at, "finished": end,
            "seconds": round((end - run.started_at).total_seconds(), 1) if end else None,
            "requests": run.requests, "not_modified": run.not_modified, "new_articles": run.new_articles,
            "new_revisions": run.new_revisions, "duplicates": run.duplicates, "errors": run.errors,
            "dropped": json.loads(run.dropped) if run.dropped else {}, "error": run.error,
        })
    return rows


def blocked_fetches(session: Session) -> list[dict]:
    query = (select(BlockedFetch.site, BlockedFetch.reason, func.count(BlockedFetch.id),
                    func.max(BlockedFetch.fetched_at))
             .group_by(BlockedFetch.site, BlockedFetch.reason)
             .order_by(func.count(BlockedFetch.id).desc(), BlockedFetch.site))
    return [{"site": site, "reason": reason, "count": count, "last": _aware(last)}
            for site, reason, count, last in session.execute(query)]


def archive_counts(session: Session) -> dict:
    count = lambda query: session.scalar(query) or 0  # noqa: E731
    return {
        "articles": count(select(func.count(Article.id))),
        "revisions": count(select(func.count(Revision.id))),
        "duplicates": count(select(func.count(Article.id)).where(Article.duplicate_of_id.is_not(None))),
        "aliases": count(select(func.count(Alias.id))),
        "frontier_pending": count(select(func.count(FrontierURL.id)).where(FrontierURL.state == "pending")),
        "frontier_failed": count(select(func.count(FrontierURL.id)).where(FrontierURL.state == "failed")),
        "runs": count(select(func.count(CrawlRun.id))),
    }


def gather(db, *, limit: int = 10) -> dict:
    now = utcnow()
    with db.session() as session:
        report = {
            "generated_at": now,
            "sources": source_health(session, now),
            "runs": recent_runs(session, limit),
            "blocked": blocked_fetches(session),
            "archive": archive_counts(session),
        }
    held = lease.current(db)
    report["scheduler"] = None if held is None else {
        "holder": held.holder, "heartbeat": held.heartbeat_at, "expires": held.expires_at,
        "alive": not held.expired(now)}
    return report


@click.command()
@click.option("--runs", "limit", default=10, show_default=True, type=click.IntRange(0, 1000),
              help="How many recent crawl runs to show.")
@json_option
@pass_context
def stats(ctx, limit, as_json):
    """Sources' health, recent crawl runs, blocked fetches by site, archive counts.

    A run still 'running' whose process is gone shows as 'abandoned' (the crawl was killed;
    what it had not archived is still in the frontier and is fetched by the next run).

    Example: newsarchive stats --json
    """
    report = gather(ctx.reader, limit=limit)
    if as_json:
        print_json(_isoformat(report))
        return 0
    _print_report(report)
    return 0


def _print_report(report: dict) -> None:
    click.echo(f"sources ({len(report['sources'])})")
    if report["sources"]:
        print_table([{**s, "last_success": _short(s["last_success"]), "next_poll": _short(s["next_poll"]),
                      "score": f"{s['failure_score']:g}", "per_day": s["articles_per_day"],
                      "poll": s["poll_every"] or s["cron"] or s["every"],
                      "last_error": _clip(f"{_short(s['last_error_at'])} {s['last_error']}")
                      if s["last_error"] else None}
                     for s in report["sources"]],
                    ["id", "state", "poll", "last_success", "next_poll", "score", "per_day", "last_error", "url"])
        for s in report["sources"]:
            if s["disabled_reason"]:
                click.echo(f"  source {s['id']} {s['disabled_reason']} (newsarchive sources enable {s['url']})")
    click.echo(f"\nrecent runs ({len(report['runs'])})")
    if report["runs"]:
        print_table([{**r, "source": r["source_id"], "started": _short(r["started"]), "s": r["seconds"],
                      "304": r["not_modified"], "new": r["new_articles"], "revised": r["new_revisions"],
                      "dupes": r["duplicates"],
                      "dropped": ", ".join(f"{k} {v}" for k, v in sorted(r["dropped"].items())) or None,
                      "error": _clip(r["error"])} for r in report["runs"]],
                    ["id", "source", "status", "started", "s", "requests", "304", "new", "revised", "dupes",
                     "errors", "dropped", "error"])
    click.echo(f"\nblocked fetches ({sum(b['count'] for b in report['blocked'])})")
    if report["blocked"]:
        print_table([{**b, "last": _short(b["last"])} for b in report["blocked"]], ["site", "reason", "count", "last"])
    click.echo("\narchive")
    print_table([report["archive"]], list(report["archive"]))
    held = report["scheduler"]
    click.echo("\nscheduler: " + ("none running" if held is None else
               f"{held['holder']}, last heartbeat {_short(held['heartbeat'])} UTC"
               + ("" if held["alive"] else " (lease expired: it died or hung)")))


def _aware(value):
    if isinstance(value, str):  # SQLite aggregates come back as text
        value = datetime.fromisoformat(value)
    return value


def _short(value) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else None


def _clip(text: str | None, width: int = 60) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _isoformat(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _isoformat(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_isoformat(v) for v in value]
    return value


COMMANDS = [stats]
