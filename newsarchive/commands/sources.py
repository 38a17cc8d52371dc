"""`newsarchive sources ...`: register the feeds, sitemaps and sites to poll.

Registering many URLs at once (`add URL...`, `import FILE.opml`): every URL is checked as a
single one is (its form, then the SSRF guard, with the DNS lookups of all hosts in parallel),
then all the good ones are registered in one transaction. A URL refused among many does not
stop the others: each refused URL gets its own line on stderr and the command exits 1, so a
script sees the failure and a re-run with the corrected URLs is enough (adding is idempotent).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive.request_options import (
    InvalidOption,
    OptionChanges,
    describe,
    options_of,
    parse_auth,
    parse_header,
    parse_proxy,
    summary,
)
from archive.sources import (
    KINDS,
    SourceError,
    add_sources,
    format_interval,
    list_sources,
    parse_interval,
    remove_source,
    set_enabled,
)
from archive.urls import InvalidURL, check_url
from crawler.netguard import check_public_many
from crawler.project import spider_names
from newsarchive import opml
from newsarchive.cli import UserError, error, json_option, pass_context, print_json, print_table
from newsarchive.outputs import output_file


@click.group()
def sources():
    """Register, list, remove and re-enable sources.

    Example: newsarchive sources add https://www.vudailleurs.com/feed/ --every 30m
    """


def source_row(s) -> dict:
    """A source as `sources list --json` shows it."""
    return {
        "id": s.id, "url": s.url, "kind": s.kind, "spider": s.spider, "every": format_interval(s.every_seconds),
        "cron": s.cron, "enabled": s.enabled, "last_success": s.last_success_at, "last_error": s.last_error,
        "next_poll": s.next_poll_at, "disabled_reason": s.disabled_reason,
        # what may be shown of its request options: header names, "auth": "set", the proxy masked
        "options": describe(options_of(s)),
    }


def _register(ctx, urls, *, kind="feed", every=None, spider=None, cron=None, options=None,
              as_json=False) -> None:
    """Check every URL, register the good ones in one transaction, one line each (with --json: the
    sources as `sources list --json` shows them plus "action", one object for one URL, else a
    list); exit 1 when any was refused."""
    interval = parse_interval(every) if every else None
    urls = list(dict.fromkeys(url.strip() for url in urls))
    refused: dict[str, Exception] = {}
    for url in urls:
        try:
            check_url(url)
        except InvalidURL as exc:
            refused[url] = exc
    # behind a source's own proxy a name need not resolve here: the proxy resolves it
    proxied = bool(options and options.proxy)
    refused.update(check_public_many([u for u in urls if u not in refused], resolve=True, proxied=proxied))
    good = [url for url in urls if url not in refused]
    with ctx.db.transaction() as session:
        added = (add_sources(session, good, kind=kind, every=interval, spider=spider, cron=cron, options=options)
                 if good else [])
        rows = [{"action": "added" if created else "updated", **source_row(s)} for s, created in added]
    if len(urls) == 1 and refused:
        raise UserError(str(refused[urls[0]]))
    if as_json:
        print_json(rows[0] if len(urls) == 1 else rows)
    else:
        for row in rows:
            shown = summary(row["options"])
            click.echo(f"{row['action']} {row['kind']} {row['url']} every {row['every']}"
                       + (f" ({shown})" if shown else ""))
    for url, reason in refused.items():
        error(f"refused {url[:300]}: {reason}")
    if refused:
        raise UserError(f"{len(refused)} of {len(urls)} URL(s) refused"
                        + (f"; the other {len(good)} are registered" if good else ""))


@sources.command("add")
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option("--kind", type=click.Choice(KINDS), default="feed", show_default=True, help="What the URLs are.")
@click.option("--every", default=None, metavar="INTERVAL", help="Poll interval such as 30m, 2h, 1d. [default: 30m]")
@click.option("--spider", default=None, metavar="NAME", help="A named-site spider to crawl them with.")
@click.option("--cron", default=None, metavar="EXPR", help="A crontab expression instead of an interval.")
@click.option("--header", "headers", multiple=True, metavar="NAME:VALUE",
              help="A header (a cookie, a token) every request to the sources' own host carries; repeat for "
                   "more. Replaces the stored headers. Its value is never shown. @FILE (or @- for stdin): "
                   "one header per line of the file, kept out of `ps` and the shell's history.")
@click.option("--auth", default=None, metavar="USER:PASSWORD",
              help="HTTP basic auth, sent only to the sources' own host. Never shown. @FILE or @-: read it there.")
@click.option("--proxy", default=None, metavar="URL",
              help="An http(s) proxy for every request of these sources: http://[USER:PASSWORD@]HOST:PORT "
                   "(its password is never shown). @FILE or @-: read it there.")
@click.option("--clear-options", is_flag=True,
              help="Remove the stored headers, auth and proxy (then set those given with this command).")
@json_option
@pass_context
def add(ctx, urls, kind, every, spider, cron, headers, auth, proxy, clear_options, as_json):
    """Register one or more sources (adding one again updates it).

    All the URLs that pass the checks are registered in one transaction, whatever the others
    do; a refused URL is named on stderr and the exit status is then 1. With --json: each source
    as `sources list --json` shows it, and "action" (added or updated).

    Request options (--header, --auth, --proxy) are stored per source and carried by every
    request of its polls and articles; each one given replaces the stored one, the others stay;
    --clear-options removes them. Lists, logs and exports show only that they are set.

    Example: newsarchive sources add https://www.vudailleurs.com/feed/ https://www.lemonde.fr/rss/une.xml --every 30m

    Example: newsarchive sources add https://news.example/feed/ --header "Cookie: consent=yes" --proxy http://127.0.0.1:3128
    """
    if spider is not None and spider not in spider_names():
        raise UserError(f"unknown spider {spider!r}: one of {', '.join(spider_names())}")
    try:
        if [*headers, auth, proxy].count("@-") > 1:
            raise UserError("@- (standard input) can give the value of one option only")
        headers = [line for value in headers for line in from_file_or_as_given(value)]
        auth = from_file_or_as_given(auth)[0] if auth is not None else None
        proxy = from_file_or_as_given(proxy)[0] if proxy is not None else None
        options = OptionChanges(headers=tuple(parse_header(h) for h in headers) if headers else None,
                                auth=parse_auth(auth) if auth is not None else None,
                                proxy=parse_proxy(proxy) if proxy is not None else None, clear=clear_options)
    except InvalidOption as exc:
        raise UserError(str(exc)) from None
    try:
        _register(ctx, urls, kind=kind, every=every, spider=spider, cron=cron, options=options, as_json=as_json)
    except SourceError as exc:
        raise UserError(str(exc)) from None


def from_file_or_as_given(value: str) -> list[str]:
    """An option's value, or with ``@FILE`` (``@-``: stdin) the non-empty lines of that file, so
    that secrets stay out of the process list and the shell's history (curl's convention)."""
    if not value.startswith("@"):
        return [value]
    where = value[1:]
    try:
        text = sys.stdin.read() if where == "-" else Path(where).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {where[:200]}: {getattr(exc, 'strerror', None) or exc}") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:  # an empty file would otherwise leave the option unset, silently
        raise UserError(f"{'standard input' if where == '-' else where[:200]} gives no value")
    return lines


@sources.command("import")
@click.argument("path", metavar="FILE.opml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--every", default=None, metavar="INTERVAL", help="Poll interval such as 30m, 2h, 1d. [default: 30m]")
@json_option
@pass_context
def import_(ctx, path, every, as_json):
    """Register the feeds of an OPML subscription list (a feed reader's export), at any depth of
    its outlines. A malformed file, or one that is not OPML, registers nothing; feeds already
    registered are left as they are (or given the new --every). Each URL is checked as
    `sources add` checks it.

    Example: newsarchive sources import subscriptions.opml --every 1h
    """
    try:
        subscriptions = opml.read(path.read_bytes())
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    except opml.OpmlError as exc:
        raise UserError(f"{path}: {exc}") from None
    for linked in subscriptions.linked_lists:
        click.echo(f"skipped {linked[:300]}: an outline linking to another subscription list (not fetched)",
                   err=as_json)
    if not subscriptions.feeds:
        raise UserError(f"{path}: no feed (outline with an xmlUrl) in this OPML document")
    try:
        _register(ctx, [url for url, _ in subscriptions.feeds], every=every, as_json=as_json)
    except SourceError as exc:
        raise UserError(str(exc)) from None


@sources.command("export")
@click.option("--format", "format_", type=click.Choice(["opml"]), default="opml", show_default=True,
              help="The format to write.")
@click.option("-o", "--output", default=None, metavar="FILE",
              help="Write to FILE instead of stdout (complete or not at all: written aside, then renamed).")
@pass_context
def export(ctx, format_, output):
    """Write the registered feeds as an OPML 2.0 subscription list, which feed readers and
    `sources import` read (sitemaps and sites are not feeds: they are left out, and counted on stderr).

    Example: newsarchive sources export -o subscriptions.opml
    """
    with ctx.reader.session() as session:
        registered = list_sources(session)
    feeds = [(s.url, "") for s in registered if s.kind == "feed"]
    with output_file(output, binary=True) as out:
        out.write(opml.write(feeds))
    if len(feeds) < len(registered):
        click.echo(f"{len(registered) - len(feeds)} source(s) that are not feeds left out", err=True)


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
        print_table([{**row, "options": summary(row["options"])} for row in rows],
                    ["id", "kind", "every", "enabled", "url", "options"])
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
