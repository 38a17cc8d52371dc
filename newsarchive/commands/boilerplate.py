"""`newsarchive boilerplate SITE`: the page furniture learned for a site, and operator pins."""

from __future__ import annotations

import click

from archive import furniture
from archive.reextract import Summary
from archive.text import line_fingerprint
from archive.urls import normalize_site
from crawler.stored_pages import stored_page_text
from newsarchive.cli import UserError, json_option, pass_context, print_json, print_table


@click.command()
@click.argument("site", required=False)
@click.option("--pin", "pin", metavar="TEXT", help="Always treat this paragraph as furniture.")
@click.option("--keep", "keep", metavar="TEXT", help="Never treat this paragraph as furniture.")
@click.option("--unpin", "unpin", metavar="TEXT", help="Let the page counts decide again.")
@click.option("--limit", default=50, show_default=True, help="How many lines to show.")
@click.option("--min-pages", default=2, show_default=True, help="Hide lines seen on fewer pages (pins always show).")
@json_option
@pass_context
def boilerplate(ctx, site, pin, keep, unpin, limit, min_pages, as_json):
    """Show the paragraphs learned for SITE (without SITE: the sites learned) (status learned,
    counting, pinned or kept), or pin one.

    A paragraph seen on at least 5 distinct pages and on 30 % of the site's learned pages is
    furniture and is removed from its articles. Pinning a line also re-cleans the site's archived
    articles that contain it (a new revision each); --keep and --unpin take effect on the next
    crawl (and on `reextract`).

    Example: newsarchive boilerplate vudailleurs.com --pin "- Publicité -"
    """
    if site is None and not (pin or keep or unpin):
        return _list_sites(ctx, as_json)
    site = normalize_site(site or "")
    if not site:
        raise UserError("SITE must be a host name such as vudailleurs.com")
    actions = [(text, value) for text, value in ((pin, True), (keep, False), (unpin, None)) if text is not None]
    if len(actions) > 1:
        raise UserError("give one of --pin, --keep, --unpin at a time")
    if actions:
        text, value = actions[0]
        if not text.strip():
            raise UserError("the paragraph text is empty")
        try:
            with ctx.db.transaction() as session:
                line = furniture.set_pinned(session, site, line_fingerprint(text), text.strip(), value)
        except KeyError:
            raise UserError(f"no such line learned for {site}: {text!r}") from None
        recleaned = _reclean_pinned(ctx.db, site, text.strip()).changed if value is True else None
        if as_json:
            print_json({"site": site, "fingerprint": line.fingerprint, "sample": line.sample, "status": line.status,
                        "recleaned": recleaned})
            return 0
        click.echo(f"{line.status}: {line.sample!r} on {site}")
        if recleaned is not None:
            click.echo(f"re-cleaned {recleaned} archived article(s) of {site}")
        return 0

    with ctx.reader.session() as session:
        pages = furniture.learned_pages(session, site)
        lines = furniture.site_lines(session, site, limit=limit, min_pages=min_pages)
    rows = [{"fingerprint": line.fingerprint, "sample": line.sample, "pages": line.pages,
             "status": line.status, "furniture": line.furniture} for line in lines]
    if as_json:
        print_json({"site": site, "pages_learned": pages, "threshold": furniture.threshold(pages), "lines": rows})
        return 0
    if not rows:
        click.echo(f"nothing learned for {site} yet ({pages} pages)")
        return 0
    click.echo(f"{site}: {pages} pages learned; furniture from {furniture.threshold(pages)} pages")
    print_table([dict(row, sample=_short(row["sample"])) for row in rows], ["status", "pages", "sample"])
    return 0


def _list_sites(ctx, as_json: bool) -> int:
    with ctx.reader.session() as session:
        rows = [{"site": site, "pages_learned": pages,
                 "furniture": len(furniture.furniture_fingerprints(session, site))}
                for site, pages in furniture.learned_sites(session)]
    if as_json:
        print_json(rows)
    elif rows:
        print_table(rows, ["site", "pages_learned", "furniture"])
    else:
        click.echo("nothing learned yet: sites are learned as their articles are archived")
    return 0


def _reclean_pinned(db, site: str, text: str) -> Summary:
    with db.session() as session:
        known = furniture.furniture_fingerprints(session, site)
    pinned = line_fingerprint(text)

    def reextract(body, url, headers, fetched_at):
        return stored_page_text(body, url, headers, fetched_at, furniture=known)

    return furniture.reclean(db, site, [text], reextract,
                             affected=lambda body: any(line_fingerprint(line) == pinned for line in body.splitlines()))


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


COMMANDS = [boilerplate]
