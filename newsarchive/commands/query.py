"""`newsarchive search | show | diff`: read the archive."""

from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy import select

from archive import diff as textdiff
from archive.lookup import article_by_url_or_id
from archive.models import Revision
from archive.reading import article_record
from archive.search import Filters, QueryError
from archive.search import search as run_search
from newsarchive import filters
from newsarchive.cli import QueryCommand, UserError, json_option, pass_context, print_json, print_table, query_text


def parse_date(value: str | None, *, end: bool = False) -> datetime | None:
    """ISO 8601 date or date-time (UTC unless an offset is given); see newsarchive/filters.py."""
    try:
        return filters.parse_date(value, end=end)
    except filters.FilterError as exc:
        raise UserError(str(exc)) from None


def filter_options(func):
    """The filters shared by `search` and `export`."""
    options = [
        click.option("--site", default=None, help="Only this site (host, without www.)."),
        click.option("--since", default=None, metavar="DATE", help="Published on or after DATE (YYYY-MM-DD)."),
        click.option("--until", default=None, metavar="DATE", help="Published on or before DATE (YYYY-MM-DD)."),
        click.option("--lang", default=None, metavar="CODE", help="Only this language (ISO 639-1, e.g. fr)."),
        click.option("--revised/--never-revised", "has_revisions", default=None,
                     help="Only articles with (or without) several revisions."),
        click.option("--no-duplicates", "no_duplicates", is_flag=True,
                     help="Leave out articles archived as copies of another."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_filters(site, since, until, lang, has_revisions, no_duplicates) -> Filters:
    try:
        return filters.build_filters(site, since, until, lang, has_revisions, no_duplicates)
    except filters.FilterError as exc:
        raise UserError(str(exc)) from None


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@click.command(cls=QueryCommand)
@click.argument("query", nargs=-1, required=True)
@filter_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="Results to show.")
@json_option
@pass_context
def search(ctx, query, site, since, until, lang, has_revisions, no_duplicates, limit, as_json):
    """Full-text search, accent-insensitive: words are AND-ed; "a phrase", a OR b, -word excludes.

    Queries matching more than 1000 articles are ranked among their 1000 most recently archived
    matches (see archive/search.py).

    Example: newsarchive search '"train de nuit" Briançon' --lang fr --since 2024-01-01
    """
    filters = make_filters(site, since, until, lang, has_revisions, no_duplicates)
    try:
        with ctx.reader.session() as session:
            hits = run_search(session, query_text(query), filters=filters, limit=limit)
    except QueryError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print_json([hit.as_dict() for hit in hits])
        return
    if not hits:
        click.echo("no match")
        return
    for hit in hits:
        published = hit.published.date().isoformat() if hit.published else "undated"
        flags = " (copy)" if hit.duplicate_of_id else ""
        flags += f" ({hit.revisions} revisions)" if hit.revisions > 1 else ""
        click.echo(f"[{hit.id}] {hit.title or '(no title)'}{flags}")
        click.echo(f"    {hit.url}  {hit.site}  {published}")
        click.echo(f"    {hit.snippet}")


def _article_or_fail(session, key: str):
    article = article_by_url_or_id(session, key.strip())
    if article is None:
        raise UserError(f"no archived article {key!r}")
    return article


@click.command()
@click.argument("article", metavar="URL|ID")
@json_option
@pass_context
def show(ctx, article, as_json):
    """An archived article: metadata, aliases, revisions with their times, copies both ways, text.

    Example: newsarchive show https://www.vudailleurs.com/2024/10/08/train-de-nuit-paris-briancon/
    """
    with ctx.reader.session() as session:
        data = article_record(session, _article_or_fail(session, article))
    if as_json:
        print_json(data)
        return
    click.echo(f"[{data['id']}] {data['title'] or '(no title)'}")
    for key in ("url", "site", "author", "published", "updated", "language", "first_seen", "last_seen"):
        if data[key]:
            click.echo(f"  {key + ':':12} {data[key]}")
    for alias in data["aliases"]:
        click.echo(f"  {'alias:':12} {alias}")
    original = data["duplicate_of"]
    if original:
        click.echo(f"  {'copy of:':12} [{original['id']}] {original['url']}")
    for copy in data["duplicates"]:
        click.echo(f"  {'copied by:':12} [{copy['id']}] {copy['url']} (first seen {copy['first_seen']})")
    click.echo(f"\nrevisions ({len(data['revisions'])}):")
    print_table(data["revisions"], ["number", "fetched_at", "words", "title"])
    click.echo("")
    click.echo(data["text"])


@click.command()
@click.argument("article", metavar="URL|ID")
@click.option("--from", "from_", type=int, default=None, metavar="N",
              help="Older revision [default: the one before --to].")
@click.option("--to", type=int, default=None, metavar="N", help="Newer revision [default: the latest].")
@json_option
@pass_context
def diff(ctx, article, from_, to, as_json):
    """What changed between two revisions of an article, by paragraph and by word.

    "+" added paragraph, "-" removed, "~" edited with [-old words-]{+new words+}. With --json:
    id, url, title, from and to (number, fetched_at, title), and the lines (mark, text, and for
    an edited line its word runs as [op, words] with op "=", "-" or "+").

    Example: newsarchive diff 42 --from 1 --to 3
    """
    with ctx.reader.session() as session:
        found = _article_or_fail(session, article)
        revisions = {r.number: r for r in session.scalars(select(Revision).where(Revision.article_id == found.id))}
        latest = max(revisions, default=0)
        to = latest if to is None else to
        from_ = to - 1 if from_ is None else from_
        head = {"id": found.id, "url": found.canonical_url, "title": found.title}
        if latest < 2 and (from_, to) == (0, 1):
            if as_json:
                print_json({**head, "from": None, "to": _revision(revisions[1]) if 1 in revisions else None,
                            "lines": []})
            else:
                click.echo(f"[{found.id}] {found.canonical_url} has a single revision: nothing to compare")
            return
        for number in (from_, to):
            if number not in revisions:
                raise UserError(f"article {found.id} has no revision {number} (it has 1 to {latest})")
        old, new = revisions[from_], revisions[to]
        if as_json:
            lines = [{"mark": line.mark, "text": line.text, "parts": [list(p) for p in line.parts]}
                     for line in textdiff.diff_paragraphs(old.text, new.text)]
            print_json({**head, "from": _revision(old), "to": _revision(new), "lines": lines})
            return
        click.echo(textdiff.render(
            old.text, new.text, old_title=old.title, new_title=new.title,
            old_label=f"revision {old.number} ({iso(old.fetched_at)})",
            new_label=f"revision {new.number} ({iso(new.fetched_at)})",
        ))


def _revision(revision: Revision) -> dict:
    return {"number": revision.number, "fetched_at": iso(revision.fetched_at), "title": revision.title}


COMMANDS = [search, show, diff]
