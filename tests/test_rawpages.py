"""Raw pages: zstd with per-site dictionaries, trained off the hot path; older zlib rows still read."""

from __future__ import annotations

import io
import zlib

import pytest
import zstandard
from site_pages import archive_pages, article_page
from sqlalchemy import func, select
from warcio.archiveiterator import ArchiveIterator

from archive import dictionaries
from archive.export import write_warc
from archive.models import RawDictionary, RawPage
from archive.rawpages import RawPageError, decompress, decompress_body
from archive.store import find_article


def stored(db, site: str, n: int) -> RawPage:
    with db.session() as session:
        raw = find_article(session, f"https://{site}/articles/{n}").revisions[-1].raw_page
        assert decompress(raw) == article_page(site, n)[0]  # read back in its own session
        return raw


def test_new_pages_are_zstd_and_old_zlib_and_identity_rows_still_read(db):
    archive_pages(db, "journal.test", [1])
    raw = stored(db, "journal.test", 1)
    assert raw.compression == "zstd" and raw.dictionary_id is None
    assert zstandard.get_frame_parameters(raw.body).dict_id == 0  # a plain zstd frame
    with db.transaction() as session:
        session.add_all([RawPage(url="https://journal.test/old", status=200, headers="[]", compression="zlib",
                                 body=zlib.compress(b"<p>before a10</p>")),
                         RawPage(url="https://journal.test/plain", status=200, headers="[]", compression="identity",
                                 body=b"<p>as is</p>")])
    with db.session() as session:
        old = {r.url: decompress(r) for r in session.scalars(select(RawPage).where(RawPage.compression != "zstd"))}
    assert old == {"https://journal.test/old": b"<p>before a10</p>", "https://journal.test/plain": b"<p>as is</p>"}


def test_unreadable_bodies_are_a_clear_error():
    with pytest.raises(RawPageError, match="unknown compression 'brotli'"):
        decompress_body("brotli", b"x")
    with pytest.raises(RawPageError, match="cannot decompress a zstd body"):
        decompress_body("zstd", b"not a frame")
    with pytest.raises(RawPageError, match="needs dictionary 7"):  # detached from any session
        decompress(RawPage(id=1, compression="zstd", body=b"", dictionary_id=7))


def test_a_site_with_enough_pages_gets_a_dictionary_that_new_pages_use(db):
    archive_pages(db, "journal.test", range(20))
    archive_pages(db, "petit.test", range(3))
    assert dictionaries.train_site_dictionaries(db, min_pages=30) == []  # not enough pages yet
    trained = dictionaries.train_site_dictionaries(db, min_pages=16)
    assert [(t.site, t.site_pages, t.samples) for t in trained] == [("journal.test", 20, 20)]
    assert dictionaries.train_site_dictionaries(db, min_pages=16) == []  # retrained only when it grows

    body = archive_pages(db, "journal.test", [100])[0]
    raw = stored(db, "journal.test", 100)
    assert raw.compression == "zstd" and raw.dictionary_id == trained[0].dictionary_id
    plain = len(zstandard.ZstdCompressor(level=3).compress(body))
    assert len(raw.body) < 0.6 * plain  # the template is in the dictionary, not in every page
    assert stored(db, "petit.test", 0).dictionary_id is None
    with db.session() as session:
        row = session.get(RawDictionary, trained[0].dictionary_id)
        assert zstandard.get_frame_parameters(raw.body).dict_id == row.zstd_id

    archive_pages(db, "journal.test", range(20, 30))  # 31 articles now: 1.5x the 20 it was trained at
    again = dictionaries.train_site_dictionaries(db, min_pages=16, retrain_factor=1.5)
    assert [(t.site, t.site_pages) for t in again] == [("journal.test", 31)]
    archive_pages(db, "journal.test", [101])
    assert stored(db, "journal.test", 101).dictionary_id == again[0].dictionary_id
    assert stored(db, "journal.test", 100).dictionary_id == trained[0].dictionary_id  # still read with its own


def test_recompressing_a_site_rewrites_its_older_pages_smaller_and_identical(db):
    archive_pages(db, "journal.test", range(20))
    with db.session() as session:
        before = session.scalar(select(func.sum(func.length(RawPage.body))))
    assert dictionaries.recompress_site(db, "journal.test") == 0  # no dictionary yet
    trained = dictionaries.train_site_dictionaries(db, min_pages=16)
    assert dictionaries.recompress_site(db, "journal.test", batch=7) == 20
    assert dictionaries.recompress_site(db, "journal.test") == 0  # nothing left to do
    with db.session() as session:
        after = session.scalar(select(func.sum(func.length(RawPage.body))))
        assert session.scalar(select(func.count()).where(RawPage.dictionary_id.is_(None))) == 0
    assert after < 0.6 * before
    # every page reads back the same (stored() checks it), now with the site's dictionary
    assert {stored(db, "journal.test", n).dictionary_id for n in range(20)} == {trained[0].dictionary_id}


def test_warc_export_reads_pages_compressed_with_a_dictionary(db):
    bodies = archive_pages(db, "journal.test", range(20))
    dictionaries.train_site_dictionaries(db, min_pages=16)
    bodies += archive_pages(db, "journal.test", [50])
    out = io.BytesIO()
    with db.session() as session:
        assert write_warc(session, out) == 21
    out.seek(0)
    payloads = [r.content_stream().read() for r in ArchiveIterator(out) if r.rec_type == "response"]
    assert sorted(payloads) == sorted(bodies)
