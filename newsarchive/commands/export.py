"""`newsarchive export`: the archive as JSON Lines, CSV or WARC, streamed."""

from __future__ import annotations

import gzip as gzip_module
import io
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import click

from archive import export as exporter
from archive.search import QueryError, parse_query
from newsarchive.cli import QueryCommand, UserError, pass_context, query_text
from newsarchive.commands.query import filter_options, make_filters


@contextmanager
def output_file(path: str | None, binary: bool):
    """The file to write (stdout for none or "-"); text gzip-compressed when it ends with .gz
    (WARC compresses itself, record by record, as the format expects).

    A file is written under a temporary name beside it and renamed when complete, so a failure
    (disk full, interrupted) never leaves a partial export under the name asked for."""
    if path in (None, "-"):
        yield (getattr(sys.stdout, "buffer", None) or click.get_binary_stream("stdout")) if binary else sys.stdout
        return
    target = Path(path)
    try:
        handle = tempfile.NamedTemporaryFile("wb", dir=target.parent, prefix=f".{target.name}.", suffix=".part",
                                             delete=False)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with handle:
            if binary:
                yield handle
            elif path.endswith(".gz"):
                with gzip_module.open(handle, "wt", encoding="utf-8", newline="") as text:
                    yield text
            else:
                with io.TextIOWrapper(handle, encoding="utf-8", newline="") as text:
                    yield text
        os.replace(handle.name, target)
    except OSError as exc:
        Path(handle.name).unlink(missing_ok=True)
        raise UserError(f"could not write {path}: {exc.strerror or exc}; nothing was written") from None
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


@click.command(cls=QueryCommand)
@click.argument("query", nargs=-1)
@click.option("--format", "format_", type=click.Choice(exporter.FORMATS), default="jsonl", show_default=True,
              help="jsonl: one article per line; csv: same columns; warc: raw responses + clean text.")
@click.option("-o", "--output", default=None, metavar="FILE",
              help="Write to FILE instead of stdout (FILE.gz: gzip-compressed, per record for WARC).")
@filter_options
@pass_context
def export(ctx, query, format_, output, site, since, until, lang, has_revisions, no_duplicates):
    """Export articles (all, or those matching QUERY and the filters), streamed.

    JSONL fields: id, url, title, text, author, published, site, language, first_seen, last_seen,
    revisions, duplicate_of, aliases, source.

    Example: newsarchive export --format warc -o vudailleurs.warc.gz --site vudailleurs.com --since 2024-09-01
    """
    filters = make_filters(site, since, until, lang, has_revisions, no_duplicates)
    try:
        parsed = parse_query(query_text(query)) if query else None
    except QueryError as exc:
        raise UserError(str(exc)) from None
    selection = {"filters": filters, "query": parsed}
    binary = format_ == "warc"
    with ctx.reader.session() as session, output_file(output, binary) as out:
        if format_ == "jsonl":
            count = exporter.write_jsonl(session, out, **selection)
        elif format_ == "csv":
            count = exporter.write_csv(session, out, **selection)
        else:
            name = (output or "newsarchive.warc").rsplit("/", 1)[-1]
            count = exporter.write_warc(session, out, gzip=bool(output and output.endswith(".gz")),
                                        filename=name, **selection)
    if output not in (None, "-"):
        click.echo(f"exported {count} articles to {output}", err=True)


COMMANDS = [export]
