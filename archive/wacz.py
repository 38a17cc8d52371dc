"""WACZ export: the WARC of archive/export.py packaged with its CDXJ index and a page list, as
ReplayWeb.page and pywb open it (the `wacz` package builds the package: index, datapackage.json
with every file's hash, pages/pages.jsonl).

The WARC and the page list are written to a temporary directory first (a WACZ is a ZIP whose
index is computed over the finished WARC), then the WACZ is copied to ``out``. Each page is an
article's canonical URL at the date of its latest stored page, titled with its title, so the
replay tool lists the articles and opens each where it was archived.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from archive.export import ExportedArticle, OnArticle, write_warc

FORMAT = "wacz"
WARC_NAME = "newsarchive.warc.gz"  # its name inside the WACZ (archive/), which the index refers to


class WACZError(RuntimeError):
    """The wacz package refused to build the package."""


def write_wacz(session: Session, out: BinaryIO, *, title: str = "newsarchive export",
               on_article: OnArticle | None = None, **selection) -> int:
    from wacz.main import main as wacz_main

    with tempfile.TemporaryDirectory(prefix="newsarchive-wacz-") as folder:
        warc, pages, package = Path(folder) / WARC_NAME, Path(folder) / "pages.jsonl", Path(folder) / "out.wacz"
        with open(warc, "wb") as warc_out, open(pages, "w", encoding="utf-8") as pages_out:
            pages_out.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": title}) + "\n")

            def listed(article: ExportedArticle) -> None:
                if article.replayed_at is not None:  # nothing to replay without a stored page
                    page = {"url": article.record["url"], "ts": article.replayed_at,
                            "title": article.record["title"] or ""}
                    pages_out.write(json.dumps(page, ensure_ascii=False) + "\n")
                if on_article is not None:
                    on_article(article)

            count = write_warc(session, warc_out, gzip=True, filename=WARC_NAME, on_article=listed, **selection)
        chatter = io.StringIO()  # the wacz command narrates on stdout, which may be our output
        with contextlib.redirect_stdout(chatter):
            status = wacz_main(["create", "-o", str(package), str(warc), "--pages", str(pages), "--title", title])
        if status != 0:
            raise WACZError(f"the wacz package could not be built: {chatter.getvalue().strip()[-300:]}")
        with open(package, "rb") as built:
            shutil.copyfileobj(built, out, 1 << 20)
    return count
