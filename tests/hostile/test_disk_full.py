"""A crawl into an archive on a full disk: it says so (one line per page it could not archive and
a summary), exits non-zero, records the run as partial or failed, and the pages it could not
archive are fetched by the next run, each archived exactly once."""

from __future__ import annotations

import random
import shutil

from sqlalchemy import func, select

from archive import disk_reserve
from archive.db import Database
from archive.models import Article, CrawlRun, FrontierURL, Revision
from newsarchive.cli import main
from tests.clirun import FAST, run_cli
from tests.hostile.mounts import tmpfs

PAGES = 40
WORDS = [f"mot{i}" for i in range(3000)]


def build_site(root, pages: int) -> list[str]:
    """A feed of ``pages`` long articles of random words (they compress badly, so they fill a disk)."""
    rng = random.Random(7)
    paths = [f"/2024/11/{1 + i % 28:02d}/article-{i}/" for i in range(pages)]
    for path in paths:
        folder = root / path.strip("/")
        folder.mkdir(parents=True)
        paragraphs = "".join(f"<p>{' '.join(rng.choices(WORDS, k=120))}.</p>" for _ in range(25))
        folder.joinpath("index.html").write_text(
            f"<html lang='fr'><head><title>Article {path}</title></head><body><article><h1>Article {path}</h1>"
            f"{paragraphs}</article></body></html>", "utf-8")
    items = "".join(f"<item><title>{p}</title><link>{{{{base}}}}{p}</link></item>" for p in paths)
    (root / "feed.xml").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
                                   "</channel></rss>", "utf-8")
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return paths


def counts(url: str) -> tuple[int, int, int]:
    db = Database(url)
    with db.session() as session:
        result = (session.scalar(select(func.count(Article.id))), session.scalar(select(func.count(Revision.id))),
                  session.scalar(select(func.count(FrontierURL.id)).where(FrontierURL.state == "pending")))
    db.dispose()
    return result


def test_a_crawl_on_a_full_disk_fails_loudly_and_the_next_run_archives_the_rest(tmp_path, sqlite_template, new_site):
    site_root = tmp_path / "site"
    site_root.mkdir()
    build_site(site_root, PAGES)
    site = new_site(root=site_root)
    with tmpfs(tmp_path / "disk", "1500k") as remount:
        shutil.copy(sqlite_template, tmp_path / "disk" / "archive.db")
        url = f"sqlite:///{tmp_path / 'disk' / 'archive.db'}"
        assert main(["--db", url, "sources", "add", site.url("/feed.xml")]) == 0

        # batches of 5: the first ones fit before the disk fills, however fast the pages come
        # (a batch is all or nothing, and 40 pages in one batch would leave nothing archived)
        full = run_cli(url, "crawl", *FAST, "-s", "NEWSARCHIVE_BATCH_SIZE=5")
        assert full.returncode != 0
        assert "Traceback" not in full.stderr, full.stderr[-3000:]
        failed_lines = [line for line in full.stderr.splitlines() if "could not archive" in line]
        assert failed_lines and len(full.stderr.splitlines()) <= len(failed_lines) + 6, full.stderr[-3000:]
        archived, _, pending = counts(url)
        assert 0 < archived < PAGES and archived + pending == PAGES
        assert not (tmp_path / "disk" / "archive.db-reserve").exists()  # given back for the last records

        remount("64m")  # the operator frees space
        db = Database(url)
        with db.session() as session:
            first = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).first()
            assert first.status in ("partial", "failed") and first.errors == len(failed_lines)
        db.dispose()
        again = run_cli(url, "crawl", *FAST)
        assert again.returncode == 0, again.stderr[-3000:]
        assert counts(url) == (PAGES, PAGES, 0)  # every article once, one revision each


def test_a_crawl_holds_room_beside_a_sqlite_archive_and_none_on_a_full_disk(tmp_path):
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    assert disk_reserve.hold(url)
    reserve = tmp_path / "archive.db-reserve"
    assert reserve.stat().st_blocks * 512 >= disk_reserve.RESERVE_BYTES  # real blocks, not a sparse file
    disk_reserve.release(url)
    assert not reserve.exists()
    assert not disk_reserve.hold("postgresql+psycopg://127.0.0.1/test")  # the server owns its disk
    with tmpfs(tmp_path / "disk", "128k"):
        (tmp_path / "disk" / "filler").write_bytes(b"x" * 100_000)
        full = f"sqlite:///{tmp_path / 'disk' / 'archive.db'}"
        assert not disk_reserve.hold(full)
        assert not (tmp_path / "disk" / "archive.db-reserve").exists()  # no partial reserve left
