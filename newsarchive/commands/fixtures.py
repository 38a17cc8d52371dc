"""`newsarchive fixtures record SPIDER URL`: record a named-site spider's test fixture.

Fetches the page once (a plain HTTP GET, every redirect checked by the SSRF guard), stores it
gzipped as ``<dir>/<spider>/page.html.gz`` and writes ``expected.json`` from the current
extraction, for a human to review before committing. Never run by the tests on a real site.
"""

from __future__ import annotations

import gzip
import json
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import click
import lxml.html

from archive.urls import InvalidURL, check_url
from crawler.extract import extract
from crawler.headers import content_type_charset
from crawler.netguard import PrivateNetworkRefused, check_public
from crawler.project import project_settings, spider_class
from crawler.spiders.site_base import SiteSpider
from crawler.text_decode import decode_html
from newsarchive.cli import UserError, json_option, print_json

DEFAULT_DIR = Path("tests") / "fixtures" / "sites"
SNIPPET_CHARS = 100


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_public(newurl, resolve=True)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, *, user_agent: str, max_bytes: int, timeout: float = 30) -> tuple[str, bytes, str | None]:
    """(final URL, body, declared charset) of one GET."""
    check_public(url, resolve=True)
    opener = urllib.request.build_opener(_GuardedRedirects)
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "Accept": "text/html,*/*;q=0.8"})
    with opener.open(request, timeout=timeout) as response:
        body = response.read(max_bytes + 1)
        if len(body) > max_bytes:
            raise ValueError(f"page larger than {max_bytes} bytes")
        return response.geturl(), body, content_type_charset(response.headers.get("Content-Type"))


def expected_from(spider, url: str, body: bytes, charset: str | None, crawled: datetime) -> dict:
    article = extract(body, url, encoding=charset, drop_selectors=spider.drop_selectors_for(crawled))
    if article.blocked:
        raise UserError(f"the page is a block page ({article.blocked}), not an article: not recorded")
    paragraphs = article.text.splitlines()
    if not paragraphs:
        raise UserError("no article text found in the page: not recorded")
    furniture = _selected_texts(body, charset, spider.drop_selectors_for(crawled))
    picks = dict.fromkeys([paragraphs[0], paragraphs[len(paragraphs) // 2], paragraphs[-1]])
    return {
        "url": url,
        "crawled": crawled.date().isoformat(),
        "provenance": f"recorded from {url} on {crawled.date().isoformat()} by `newsarchive fixtures record`;"
                      " review the fields below before committing",
        "title": article.title,
        "author": article.author,
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
        "must_contain": [p[:SNIPPET_CHARS] for p in picks],
        "must_not_contain": furniture,
    }


def _selected_texts(body: bytes, charset: str | None, selectors, limit: int = 15) -> list[str]:
    """Short texts of the elements the spider's selectors drop: what the fixture must keep out."""
    try:
        tree = lxml.html.fromstring(decode_html(body, charset))
    except (ValueError, lxml.etree.LxmlError):
        return []
    texts: dict[str, None] = {}
    for selector in selectors:
        for node in tree.cssselect(selector):
            for piece in node.itertext():
                text = " ".join(piece.split())
                # a lone word ("Culture", a menu entry) may well be in an article: not a useful check
                single_word = len(text.split()) == 1 and text.isalpha()
                if 4 <= len(text) <= SNIPPET_CHARS and not single_word and node.tag not in ("script", "style"):
                    texts.setdefault(text)
    return list(texts)[:limit]


@click.group()
def fixtures():
    """Record the stored pages that site spiders are tested on.

    Example: newsarchive fixtures record vudailleurs https://www.vudailleurs.com/2024/11/12/un-article/
    """


@fixtures.command("record")
@click.argument("spider_name", metavar="SPIDER")
@click.argument("url")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DIR,
              show_default=True, help="Where fixture folders live.")
@click.option("--force", is_flag=True, help="Replace an existing fixture.")
@json_option
def record(spider_name, url, directory, force, as_json):
    """Fetch URL once and write SPIDER's fixture (page.html.gz + expected.json to review).
    With --json: spider, url (as fetched), folder and the expected fields written.

    Example: newsarchive fixtures record vudailleurs https://www.vudailleurs.com/2024/11/12/un-article/
    """
    settings = project_settings()
    try:
        spider = spider_class(spider_name)
    except KeyError:
        raise UserError(f"no spider named {spider_name!r}") from None
    if not issubclass(spider, SiteSpider):
        raise UserError(f"{spider_name!r} is not a named-site spider: only those have fixtures")
    folder = directory / spider.name
    if (folder / "page.html.gz").exists() and not force:
        raise UserError(f"{folder} already has a fixture (use --force to replace it)")
    try:
        url = check_url(url)
        final_url, body, charset = fetch(url, user_agent=settings.get("USER_AGENT"),
                                         max_bytes=settings.getint("DOWNLOAD_MAXSIZE"))
    except (InvalidURL, PrivateNetworkRefused, ValueError, OSError) as exc:
        raise UserError(f"could not fetch {url}: {exc}") from None
    if not spider().is_article_url(final_url):
        click.echo(f"warning: {final_url} does not match {spider.name}'s article URL pattern", err=True)
    expected = expected_from(spider, final_url, body, charset, datetime.now(timezone.utc))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "page.html.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
        packed.write(body)
    (folder / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", "utf-8")
    if as_json:
        print_json({"spider": spider.name, "url": final_url, "folder": str(folder), "expected": expected})
    else:
        click.echo(f"recorded {final_url} into {folder}: review expected.json, then run pytest "
                   "tests/test_site_fixtures.py")
    return 0


COMMANDS = [fixtures]
