"""`newsarchive extract`: run the extractor on local HTML files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import click

from archive.urls import InvalidURL, check_url
from crawler.extract import extract as extract_article
from newsarchive.cli import UserError


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="The URL the page was fetched from (for site, links and dates).")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
def extract(paths, url, fmt):
    """Extract the clean article from local HTML files (.html or .html.gz), one JSON line each.

    A page the archive would not keep (no article text, a block page, text with no sentences)
    has its reason in "rejected" (else null), is named on stderr, and makes the exit status 1.

    Example: newsarchive extract page.html --url https://www.vudailleurs.com/2024/11/12/otan/
    """
    refused = 0
    if url:
        try:
            check_url(url)
        except InvalidURL as exc:
            raise UserError(str(exc)) from None
    for path in paths:
        try:
            body = path.read_bytes()
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
        except (OSError, EOFError) as exc:
            raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
        article = extract_article(body, url or path.resolve().as_uri())
        refusal = article.refusal
        click.echo(json.dumps({
            "path": str(path), "url": url, "title": article.title, "text": article.text,
            "author": article.author,
            "published": article.published.isoformat() if article.published else None,
            "language": article.language, "site": article.site or None, "rejected": refusal,
        }, ensure_ascii=False))
        if refusal:
            refused += 1
            click.echo(f"{path}: {refusal}", err=True)
    return 1 if refused else 0


COMMANDS = [extract]
