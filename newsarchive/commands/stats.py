"""`newsarchive stats`: is the archive healthy? Sources, recent crawl runs, blocks, counts.

The figures come from archive/health.py (the web app's sources page shows the same); this
module only prints them.
"""

from __future__ import annotations

import click

from archive import health
from crawler.processes import pid_alive
from crawler.queue.link import QUEUE_ENV, QueueError, mask, queue_url
from crawler.queue.push import depth
from newsarchive.cli import isoformat_all, json_option, pass_context, print_json, print_table


@click.command()
@click.option("--runs", "limit", default=10, show_default=True, type=click.IntRange(0, 1000),
              help="How many recent crawl runs to show.")
@click.option("--queue", "queue_flag", metavar="URL",
              help=f"The workers' shared queue, to show its depth (else ${QUEUE_ENV}, if set).")
@json_option
@pass_context
def stats(ctx, limit, queue_flag, as_json):
    """Sources' health, recent crawl runs, blocked fetches by site, archive counts.

    A run still 'running' whose process is gone shows as 'abandoned' (the crawl was killed;
    what it had not archived is still in the frontier and is fetched by the next run).

    Example: newsarchive stats --json
    """
    report = health.report(ctx.reader, limit=limit, alive=pid_alive)
    report["queue"] = _queue(queue_flag)
    if as_json:
        print_json(isoformat_all(report))
        return 0
    _print_report(report)
    return 0


def _print_report(report: dict) -> None:
    click.echo(f"sources ({len(report['sources'])})")
    if report["sources"]:
        # how late polls start, once a scheduler has recorded it: a scheduler falling behind shows here
        scheduled = any(s.get("late_seconds") is not None for s in report["sources"])
        print_table([{**s, "last_success": _short(s["last_success"]), "next_poll": _short(s["next_poll"]),
                      "score": f"{s['failure_score']:g}", "per_day": s["articles_per_day"],
                      "poll": s["poll_every"] or s["cron"] or s["every"],
                      "late": f"{s['late_seconds']:.0f}s" if s.get("late_seconds") is not None else None,
                      "overdue": "OVERDUE" if s.get("overdue") else None,
                      "last_error": _clip(f"{_short(s['last_error_at'])} {s['last_error']}")
                      if s["last_error"] else None}
                     for s in report["sources"]],
                    ["id", "state", "poll", "last_success", "next_poll", *(["late", "overdue"] if scheduled else []),
                     "score", "per_day", "last_error", "url"])
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
    _print_workers(report)
    click.echo("\narchive")
    print_table([report["archive"]], list(report["archive"]))
    held = report["scheduler"]
    click.echo("\nscheduler: " + ("none running" if held is None else
               f"{held['holder']}, last heartbeat {_short(held['heartbeat'])} UTC"
               + ("" if held["alive"] else " (lease expired: it died or hung)")))


def _queue(flag: str | None) -> dict | None:
    """The shared queue's depth (an unreachable queue is said, not raised: the rest still shows)."""
    try:
        url = queue_url(flag)
        return None if url is None else {"url": mask(url), "depth": depth(url), "error": None}
    except QueueError as exc:
        return {"url": mask(flag or ""), "depth": None, "error": str(exc)}


def _print_workers(report: dict) -> None:
    workers = report["workers"]
    click.echo(f"\nworkers ({sum(1 for w in workers if w['alive'])} alive)")
    if workers:
        print_table([{**w, "started": _short(w["started"]), "heartbeat": _short(w["heartbeat"]),
                      "archived": w["pages_archived"], "pages/s": w["pages_per_second"],
                      "state": "alive" if w["alive"] else "gone"} for w in workers],
                    ["run", "host", "pid", "started", "heartbeat", "archived", "pages/s", "errors", "state"])
    claims = report["claims"]
    oldest = claims["oldest"]
    click.echo(f"claims: {claims['held']} held, {claims['expired']} expired (queued again by the workers)"
               + (f"; oldest until {_short(oldest['until'])} UTC by {oldest['holder']}" if oldest else ""))
    queue = report["queue"]
    if queue is not None:
        click.echo(f"queue {queue['url']}: " + (f"{queue['depth']} request(s) waiting" if queue["error"] is None
                                                else queue["error"]))


def _short(value) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else None


def _clip(text: str | None, width: int = 60) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


COMMANDS = [stats]
