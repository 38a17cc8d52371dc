"""`newsarchive sources ...`: register the feeds, sitemaps and sites to poll."""

from __future__ import annotations

import click

from archive.sources import (
    KINDS,
    SourceError,
    add_source,
    format_interval,
    list_sources,
    parse_interval,
    remove_source,
    set_enabled,
)
from archive.urls import InvalidURL
from crawler.netguard import PrivateNetworkRefused, check_public
from crawler.project import spider_names
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
    if spider is not None and spider not in spider_names():
        raise UserError(f"unknown spider {spider!r}: one of {', '.join(spider_names())}")
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


def _change_command(name: str, verb: str, action, summary: str) -> click.Command:
    """`sources NAME URL [--json]`: one change to a registered source (URL or id)."""

    @json_option
    @pass_context
    def change(ctx, url, as_json):
        try:
            with ctx.db.transaction() as session:
                row = source_row(action(session, url))
        except SourceError as exc:
            raise UserError(str(exc)) from None
        if as_json:
            print_json({"action": verb, **row})
        else:
            click.echo(f"{verb} {url}")

    help_text = f"{summary}\n\nExample: newsarchive sources {name} https://www.vudailleurs.com/feed/"
    return sources.command(name, help=help_text)(click.argument("url")(change))


remove = _change_command("remove", "removed", remove_source, "Remove a source (its archived articles stay).")
enable = _change_command("enable", "enabled", lambda s, u: set_enabled(s, u, True),
                         "Re-enable a source that was disabled after repeated failures.")
disable = _change_command("disable", "disabled", lambda s, u: set_enabled(s, u, False),
                          "Stop polling a source without removing it.")


COMMANDS = [sources]
