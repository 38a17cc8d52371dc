"""`newsarchive export`: the archive as JSON Lines, CSV, WARC or WACZ, streamed, with progress on stderr."""

from __future__ import annotations

import click

from archive import export as exporter
from archive import wacz
from archive.search import QueryError, parse_query
from crawler.progress import Progress
from newsarchive.cli import QueryCommand, UserError, json_option, pass_context, print_json, query_text
from newsarchive.commands.query import filter_options, make_filters
from newsarchive.outputs import output_file

FORMATS = (*exporter.FORMATS, wacz.FORMAT)
BINARY = ("warc", wacz.FORMAT)


@click.command(cls=QueryCommand)
@click.argument("query", nargs=-1)
@click.option("--format", "format_", type=click.Choice(FORMATS), default="jsonl", show_default=True,
              help="jsonl: one article per line; csv: same columns; warc: raw responses, revisits under the "
                   "canonical URLs, clean text; wacz: that WARC with its CDXJ index and page list "
                   "(ReplayWeb.page, pywb).")
@click.option("-o", "--output", default=None, metavar="FILE",
              help="Write to FILE instead of stdout (FILE.gz: gzip-compressed, per record for WARC).")
@filter_options
@json_option
@pass_context
def export(ctx, query, format_, output, site, since, until, lang, has_revisions, no_duplicates, as_json):
    """Export articles (all, or those matching QUERY and the filters), streamed.

    JSONL fields: id, url, title, text, author, published, site, language, first_seen, last_seen,
    revisions, duplicate_of, aliases, source. Progress goes to stderr (a bar on a terminal);
    with --json and -o, a summary {format, output, articles} is printed on stdout.

    Example: newsarchive export --format wacz -o vudailleurs.wacz --site vudailleurs.com --since 2024-09-01
    """
    to_stdout = output in (None, "-")
    if as_json and to_stdout:
        raise UserError("--json prints a summary on stdout: give the export a file with -o FILE")
    filters = make_filters(site, since, until, lang, has_revisions, no_duplicates)
    try:
        parsed = parse_query(query_text(query)) if query else None
    except QueryError as exc:
        raise UserError(str(exc)) from None
    selection = {"filters": filters, "query": parsed}
    with ctx.reader.session() as session, output_file(output, format_ in BINARY) as out:
        total = exporter.count_articles(session, **selection)
        with Progress("export", total=total, unit="articles") as shown:
            written = lambda article: shown.update(1)  # noqa: E731
            count = _write(session, out, format_, output, selection, written)
    if as_json:
        print_json({"format": format_, "output": output, "articles": count})
    elif not to_stdout:
        click.echo(f"exported {count} articles to {output}", err=True)


def _write(session, out, format_, output, selection, on_article) -> int:
    if format_ == "jsonl":
        return exporter.write_jsonl(session, out, on_article=on_article, **selection)
    if format_ == "csv":
        return exporter.write_csv(session, out, on_article=on_article, **selection)
    name = (output or "newsarchive.warc").rsplit("/", 1)[-1]
    if format_ == wacz.FORMAT:
        try:
            return wacz.write_wacz(session, out, title=f"newsarchive export: {name}", on_article=on_article,
                                   **selection)
        except wacz.WACZError as exc:
            raise UserError(str(exc)) from None
    return exporter.write_warc(session, out, gzip=bool(output and output.endswith(".gz")), filename=name,
                               on_article=on_article, **selection)


COMMANDS = [export]
