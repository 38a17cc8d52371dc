"""`newsarchive crawl` and `newsarchive revisit`: run the crawler now, print what it did.

While it runs, crawler/progress.py shows pages fetched and items archived on stderr (a bar on a
terminal); the summary goes to stdout, as a table or, with --json, as `stats --json` shows a run.
"""

from __future__ import annotations

import json

import click

from archive.health import run_record
from archive.models import CrawlRun, utcnow
from archive.sources import SourceError, get_source, list_sources
from crawler import runner
from crawler.overrides import settings_option
from crawler.processes import pid_alive
from newsarchive.cli import UserError, isoformat_all, json_option, parse_settings, pass_context, print_json, print_table

# the display of crawler.extensions.CrawlProgress (-s NEWSARCHIVE_PROGRESS= : none)
PROGRESS = "crawler.progress.Progress"


def _overrides(pairs) -> dict[str, str]:
    # Scrapy's own progress lines are INFO: shown again with -s LOG_LEVEL=INFO
    return {"LOG_LEVEL": "WARNING", "NEWSARCHIVE_PROGRESS": PROGRESS, **parse_settings(pairs)}


def report(run: CrawlRun, as_json: bool) -> None:
    """The run's summary on stdout: a table, or its `stats --json` record."""
    if not as_json:
        print_summary(run)
        return
    print_json(isoformat_all(run_record(run, alive=pid_alive)))
    if run.status != "ok":
        click.echo(f"run {run.id} {run.status}: {run.error or f'{run.errors} error(s)'}", err=True)


def print_summary(run: CrawlRun) -> None:
    dropped = json.loads(run.dropped) if run.dropped else {}
    row = {
        "run": run.id, "status": run.status, "requests": run.requests, "not_modified": run.not_modified,
        "new_articles": run.new_articles, "new_revisions": run.new_revisions, "duplicates": run.duplicates,
        "errors": run.errors,
        "dropped": ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())) or "-",
    }
    print_table([row], list(row))
    if run.error:
        click.echo(f"error: {run.error}", err=True)
    if run.status != "ok":
        click.echo(f"run {run.id} {run.status}: {run.errors} error(s), shown above; what was not archived stays "
                   "pending and is fetched by the next run", err=True)


@click.command()
@click.argument("source_keys", nargs=-1, metavar="[SOURCE]...")
@click.option("--due", is_flag=True, help="Only the sources whose next poll is due.")
@settings_option()
@json_option
@pass_context
def crawl(ctx, source_keys, due, settings, as_json):
    """Poll the named sources (URL or id), or every enabled source, now.

    Exit status is 0 when every source was polled, 1 when one failed. With --json the run is
    printed as `stats --json` shows it (null when there was nothing to crawl).

    Example: newsarchive crawl https://www.vudailleurs.com/feed/ -s DOWNLOAD_DELAY=2
    """
    overrides = _overrides(settings)
    with ctx.db.session() as session:
        try:
            sources = [get_source(session, key) for key in source_keys] or list_sources(session, enabled_only=True)
        except SourceError as exc:
            raise UserError(str(exc)) from None
    if due:
        now = utcnow()
        sources = [s for s in sources if s.next_poll_at is None or s.next_poll_at <= now]
    if not sources:
        message = "nothing to crawl" + ("" if due else ": add a source with `newsarchive sources add URL`")
        if as_json:
            print_json(None)
            click.echo(message, err=True)
        else:
            click.echo(message)
        return 0
    run = runner.run(ctx.db, runner.jobs_for_sources(sources), overrides=overrides,
                     source_id=sources[0].id if len(sources) == 1 else None)
    report(run, as_json)
    return 0 if run.status == "ok" else 1


@click.command()
@click.option("--all", "everything", is_flag=True, help="Re-fetch every archived article, not only those due.")
@settings_option()
@json_option
@pass_context
def revisit(ctx, everything, settings, as_json):
    """Re-fetch archived articles whose revisit is due; changed text becomes a new revision.

    Example: newsarchive revisit --all
    """
    run = runner.run(ctx.db, [runner.Job("revisit", {"all": "1" if everything else ""})],
                     overrides=_overrides(settings))
    report(run, as_json)
    return 0 if run.status == "ok" else 1


COMMANDS = [crawl, revisit]
