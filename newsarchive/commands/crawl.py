"""`newsarchive crawl` and `newsarchive revisit`: run the crawler now, print what it did.

While it runs, crawler/progress.py shows pages fetched and items archived on stderr (a bar on a
terminal); the summary goes to stdout, as a table or, with --json, as `stats --json` shows a run.
"""

from __future__ import annotations

import json
import time

import click

from archive import fleet, queued, runs
from archive.health import run_record
from archive.models import CrawlRun, Source, utcnow
from archive.sources import SourceError, get_source, list_sources
from crawler import runner
from crawler.overrides import settings_option
from crawler.processes import pid_alive
from crawler.queue.link import QUEUE_ENV, QueueError, mask, queue_url
from crawler.queue.push import push_polls
from newsarchive.cli import (
    Duration,
    UserError,
    isoformat_all,
    json_option,
    parse_settings,
    pass_context,
    print_json,
    print_table,
)

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
@click.option("--queue", "queue_flag", metavar="URL",
              help=f"Queue the polls for `newsarchive worker`s on this Redis URL (else ${QUEUE_ENV}, if set) "
                   "instead of crawling here.")
@click.option("--wait", is_flag=True,
              help="With a queue: wait until everything queued is archived or failed, then print the summary.")
@click.option("--wait-timeout", metavar="DURATION", type=Duration(), default=None,
              help="With a queue: wait (--wait) at most this long (30s, 10m, 2h): then exit 1, the run recorded as "
                   "failed; what is queued stays queued.")
@settings_option()
@json_option
@pass_context
def crawl(ctx, source_keys, due, queue_flag, wait, wait_timeout, settings, as_json):
    """Poll the named sources (URL or id), or every enabled source, now.

    Exit status is 0 when every source was polled, 1 when one failed. With --json the run is
    printed as `stats --json` shows it (null when there was nothing to crawl). With a queue
    (--queue or $NEWSARCHIVE_QUEUE) the polls are queued for the workers; --wait then follows them
    (for at most --wait-timeout).

    Example: newsarchive crawl https://www.vudailleurs.com/feed/ -s DOWNLOAD_DELAY=2
    """
    try:
        queue = queue_url(queue_flag)
    except QueueError as exc:
        raise UserError(str(exc)) from None
    wait = wait or wait_timeout is not None
    if wait and queue is None:
        raise UserError(f"--wait follows queued polls: give --queue URL or set {QUEUE_ENV}")
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
    if queue is not None:
        if settings:
            click.echo("note: -s settings are the workers' (`newsarchive worker -s ...`): not applied to queued polls",
                       err=True)
        return enqueue(ctx.db, queue, sources, wait=wait, as_json=as_json, timeout=wait_timeout)
    run = runner.run(ctx.db, runner.jobs_for_sources(sources), overrides=overrides,
                     source_id=sources[0].id if len(sources) == 1 else None)
    report(run, as_json)
    return 0 if run.status == "ok" else 1


WAIT_SECONDS = 0.5
WAIT_NOTE_SECONDS = 30.0


def enqueue(db, queue: str, sources: list[Source], *, wait: bool, as_json: bool, timeout: float | None = None) -> int:
    """Queue a poll of each source for the workers; with ``wait``, follow them to the end (or for
    ``timeout`` seconds) and report them as one run (its figures read from the archive the
    workers wrote)."""
    run_id = runs.start_run(db, source_id=sources[0].id if len(sources) == 1 else None) if wait else None
    since = utcnow()
    try:
        count = push_polls(queue, [(s.id, s.url) for s in sources])
    except QueueError as exc:
        if run_id is not None:
            runs.close_run(db, run_id, status="failed", error=str(exc))
        raise UserError(str(exc)) from None
    if not wait:
        if as_json:
            print_json({"queued": count, "queue": mask(queue)})
        else:
            click.echo(f"queued {count} poll(s) for the workers on {mask(queue)}")
        return 0
    assert run_id is not None
    ids = [s.id for s in sources]
    noted = started = time.monotonic()
    status, error = "ok", None
    try:
        while not (left := queued.progress(db, ids, since)).done:
            if timeout is not None and time.monotonic() - started >= timeout:
                status = "failed"
                error = (f"gave up waiting for the workers after {timeout:g} s: {left.polls_left} poll(s), "
                         f"{left.pages_left} page(s) left, still queued")
                break
            if time.monotonic() - noted >= WAIT_NOTE_SECONDS:
                noted = time.monotonic()
                runs.heartbeat(db, run_id, {})  # alive, for `stats` on the other hosts
                with db.session() as session:
                    alive = sum(1 for w in fleet.workers(session, alive=pid_alive) if w["alive"])
                none = "" if alive else " (no worker is running: start `newsarchive worker`)"
                click.echo(f"waiting for the workers: {left.polls_left} poll(s), {left.pages_left} page(s) left"
                           + none, err=True)
            time.sleep(WAIT_SECONDS)
    except KeyboardInterrupt:
        runs.close_run(db, run_id, status="failed", error="interrupted while waiting for the workers")
        raise
    runs.heartbeat(db, run_id, queued.figures(db, ids, since), final=True)
    runs.close_run(db, run_id, status=status, error=error)
    with db.session() as session:
        run = session.get(CrawlRun, run_id)
    assert run is not None
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
