"""`newsarchive demo`: serve the bundled demo site on loopback and archive it."""

from __future__ import annotations

import os
import time

import click

from archive.health import archive_counts, run_record, source_count
from archive.search import search
from archive.sources import add_source
from crawler import runner
from crawler.netguard import ALLOW_ENV
from crawler.processes import pid_alive
from newsarchive.cli import isoformat_all, json_option, pass_context, print_json, print_table
from newsarchive.commands.crawl import PROGRESS, print_summary
from newsarchive.demo.server import DemoServer

DEMO_PORT = 8631  # fixed, so that a second `demo` finds the same URLs already archived
DEMO_QUERY = "defense"
DEMO_SETTINGS = {"LOG_LEVEL": "WARNING", "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False",
                 "NEWSARCHIVE_PROGRESS": PROGRESS}


def start_server(port: int) -> DemoServer:
    try:
        return DemoServer(port=port).start()
    except OSError:  # port taken: any free one will do
        return DemoServer(port=0).start()


@click.command()
@click.option("--port", default=DEMO_PORT, show_default=True, help="Loopback port to serve the demo site on.")
@json_option
@pass_context
def demo(ctx, port, as_json):
    """Serve the bundled demo news site on 127.0.0.1, crawl its feed into the archive, show the result.

    With --json: the demo site, the run (as `stats --json` shows it), the archive's counts and
    the search's hits (as `search --json`).

    Example: newsarchive --db demo.db demo
    """
    os.environ[ALLOW_ENV] = "1"  # the demo site is on loopback, which is refused otherwise
    started = time.monotonic()
    server = start_server(port)
    try:
        site_url = f"{server.base_url}/"
        click.echo(f"demo site: {site_url}  archive: {ctx.db.safe_url}", err=as_json)
        with ctx.db.transaction() as session:
            # the feed, and the home page as a site to follow (it links a syndicated copy)
            feed, _ = add_source(session, server.url("/feed.xml"), kind="feed")
            home, _ = add_source(session, server.url("/"), kind="site")
            jobs = runner.jobs_for_sources([feed, home])
        run = runner.run(ctx.db, jobs, overrides=DEMO_SETTINGS)
    finally:
        server.stop()
    if as_json:
        with ctx.db.session() as session:
            counts = {"sources": source_count(session), **archive_counts(session)}
            hits = search(session, DEMO_QUERY, limit=3)
        print_json(isoformat_all({"site": site_url, "run": run_record(run, alive=pid_alive), "archive": counts,
                                  "search": {"query": DEMO_QUERY, "hits": [h.as_dict() for h in hits]}}))
        return 0 if run.status == "ok" else 1
    print_summary(run)
    click.echo()
    with ctx.db.session() as session:
        counts = {"sources": source_count(session), **archive_counts(session)}
    print_table([counts], ["sources", "articles", "revisions", "duplicates", "aliases"])
    click.echo(f"\nnewsarchive search {DEMO_QUERY}   (accent-insensitive: finds « défense »)")
    with ctx.db.session() as session:
        hits = search(session, DEMO_QUERY, limit=3)
    print_table([{"id": h.id, "title": (h.title or "")[:70], "url": h.url} for h in hits], ["id", "title", "url"])
    click.echo(f"\ndemo done in {time.monotonic() - started:.1f} s")
    return 0 if run.status == "ok" else 1


COMMANDS = [demo]
