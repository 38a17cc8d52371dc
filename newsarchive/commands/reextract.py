"""`newsarchive reextract`: re-run the current extractor over the stored raw pages."""

from __future__ import annotations

import click

from archive import furniture
from archive.reextract import articles_to_check
from archive.reextract import reextract as run_reextract
from archive.urls import site_of
from crawler.progress import Progress
from crawler.stored_pages import stored_page_text
from newsarchive.cli import json_option, pass_context, print_json


def text_with_learned_furniture(db):
    """Re-extraction as the crawl does it: each site's learned furniture and spider selectors."""
    known: dict[str, frozenset[int]] = {}

    def extracted_text(body, url, headers, fetched_at):
        site = site_of(url)
        if site not in known:
            with db.session() as session:
                known[site] = furniture.furniture_fingerprints(session, site)
        return stored_page_text(body, url, headers, fetched_at, furniture=known[site])

    return extracted_text


@click.command()
@click.option("--site", default=None, help="Only the articles of this site (host, without www.).")
@json_option
@pass_context
def reextract(ctx, site, as_json):
    """Re-run the current extractor over each article's latest stored raw page; record a new
    revision (pointing at the same raw page) only where the clean text changed.

    Progress goes to stderr: a bar on a terminal, a line every 10 s otherwise.

    Example: newsarchive reextract --site vudailleurs.com
    """
    def report_error(article_id, exc):
        click.echo(f"article {article_id}: {type(exc).__name__}: {exc}", err=True)

    with Progress("reextract", total=articles_to_check(ctx.db, site=site), unit="articles") as shown:
        def batch_done(so_far):
            shown.update(so_far.checked - shown.done, changed=so_far.changed)

        summary = run_reextract(ctx.db, text_with_learned_furniture(ctx.db), site=site, on_error=report_error,
                                on_batch=batch_done)
    if as_json:
        print_json(summary.as_dict())
    else:
        click.echo(f"checked {summary.checked}, changed {summary.changed}, unchanged {summary.unchanged}, "
                   f"skipped {summary.skipped}, errors {summary.errors}")
    return 1 if summary.errors and not summary.changed and not summary.unchanged else 0


COMMANDS = [reextract]
