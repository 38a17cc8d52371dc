"""`newsarchive sources ...`: register the feeds, sitemaps and sites to poll."""

from __future__ import annotations

import click

from archive.sources import KINDS, SourceError, add_source, format_interval, list_sources, parse_interval
from archive.sources import remove_source, set_enabled
from archive.urls import InvalidURL
from crawler import runner
from crawler.netguard import PrivateNetworkRefused, check_public
from newsarchive.cli import UserError, json_option, pass_context, print_json, print_table


@click.group()
def sources():
    """Register, list, remove and re-enable sources.

    Example: newsarchive sources add https://www.vudailleurs.com/feed/ --every 30m
    """


@sources.command("add")
@click.argument("url")
@click.option("--kind", type=click.Choice(KINDS), default="feed", show_default=True, help="What the URL is.")
@click.option("--every", default=None, metavar="INTERVAL", help="Poll interval such as 30m, 2h, 1d. [default: 30m]")
@click.option("--spider", default=None, metavar="NAME", help="A named-site spider to crawl it with.")
@click.option("--cron", default=None, metavar="EXPR", help="A crontab expression instead of an interval.")
@json_option
@pass_context
def add(ctx, url, kind, every, spider, cron, as_json):
    """Register a source (adding it again updates it). With --json: the source as `sources list
    --json` shows it, and "action" (added or updated).

    Example: newsarchive sources add https://www.vudailleurs.com/feed/ --every 30m
    """
    if spider is not None and spider not in runner.spider_names():
        raise UserError(f"unknown spider {spider!r}: one of {', '.join(runner.spider_names())}")
    try:
        interval = parse_interval(every) if every else None
        check_public(url, resolve=True)
        with ctx.db.transaction() as session:
            source, created = add_source(session, url, kind=kind, every=interval, spider=spider, cron=cron)
            session.flush()
            row = source_row(source)
    except (SourceError, InvalidURL, PrivateNetworkRefused) as exc:
        raise UserError(str(exc)) from None
    action = "added" if created else "updated"
    if as_json:
        print_json({"action": action, **row})
    else:
        click.echo(f"{action} {row['kind']} {row['url']} every {row['every']}")


def source_row(s) -> dict:
    """A source as `sources list --json` shows it."""
    return {
        "id": s.id, "url": s.url, "kind": s.kind, "spider": s.spider, "every": format_interval(s.every_seconds),
        "cron": s.cron, "enabled": s.enabled, "last_success": s.last_success_at, "last_error": s.last_error,
        "next_poll": s.next_poll_at, "disabled_reason": s.disabled_reason,
    }


@sources.command("list")
@json_option
@pass_context
def list_(ctx, as_json):
    """List sources with their state.

    Example: newsarchive sources list --json
    """
    with ctx.reader.session() as session:
        rows = [source_row(s) for s in list_sources(session)]
    if as_json:
        print_json(rows)
    elif rows:
        print_table(rows, ["id", "kind", "every", "enabled", "url"])
    else:
        click.echo("no sources yet: newsarchive sources add URL")


def _change(ctx, url, action, verb, as_json):
    try:
        with ctx.db.transaction() as session:
            row = source_row(action(session, url))
    except SourceError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print_json({"action": verb, **row})
    else:
        click.echo(f"{verb} {url}")


@sources.command("remove")
@click.argument("url")
@json_option
@pass_context
def remove(ctx, url, as_json):
    """Remove a source (its archived articles stay).

    Example: newsarchive sources remove https://www.vudailleurs.com/feed/
    """
    _change(ctx, url, remove_source, "removed", as_json)


@sources.command("enable")
@click.argument("url")
@json_option
@pass_context
def enable(ctx, url, as_json):
    """Re-enable a source that was disabled after repeated failures.

    Example: newsarchive sources enable https://www.vudailleurs.com/feed/
    """
    _change(ctx, url, lambda s, u: set_enabled(s, u, True), "enabled", as_json)


@sources.command("disable")
@click.argument("url")
@json_option
@pass_context
def disable(ctx, url, as_json):
    """Stop polling a source without removing it.

    Example: newsarchive sources disable https://www.vudailleurs.com/feed/
    """
    _change(ctx, url, lambda s, u: set_enabled(s, u, False), "disabled", as_json)


COMMANDS = [sources]
