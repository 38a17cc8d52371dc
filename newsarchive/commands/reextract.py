"""`newsarchive reextract`: re-run the current extractor over the stored raw pages."""

from __future__ import annotations

from email.message import Message

import click

from archive.reextract import reextract as run_reextract
from newsarchive.cli import json_option, pass_context, print_json


def charset_of(headers: list[tuple[str, str]]) -> str | None:
    """The charset parameter of the stored Content-Type header, if any."""
    for name, value in headers:
        if name.lower() == "content-type":
            message = Message()
            message["Content-Type"] = value
            return message.get_content_charset()
    return None


def extracted_text(body: bytes, url: str, headers: list[tuple[str, str]]) -> str | None:
    """The clean text the current extractor finds in a stored page (None for a block page)."""
    from crawler.extract import extract

    article = extract(body, url, encoding=charset_of(headers))
    if article.blocked or not article.text.strip():
        return None
    return article.text


@click.command()
@click.option("--site", default=None, help="Only the articles of this site (host, without www.).")
@json_option
@pass_context
def reextract(ctx, site, as_json):
    """Re-run the current extractor over each article's latest stored raw page; record a new
    revision (pointing at the same raw page) only where the clean text changed.

    Example: newsarchive reextract --site vudailleurs.com
    """
    def report_error(article_id, exc):
        click.echo(f"article {article_id}: {type(exc).__name__}: {exc}", err=True)

    summary = run_reextract(ctx.db, extracted_text, site=site, on_error=report_error)
    if as_json:
        print_json(summary.as_dict())
    else:
        click.echo(f"checked {summary.checked}, changed {summary.changed}, unchanged {summary.unchanged}, "
                   f"skipped {summary.skipped}, errors {summary.errors}")
    return 1 if summary.errors and not summary.changed and not summary.unchanged else 0


COMMANDS = [reextract]
