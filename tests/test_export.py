"""`export`: JSONL fields exactly, CSV, WARC that warcio checks and indexes, filters, streaming."""

import csv
import gzip
import io
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.export import FIELDS, iter_articles
from archive.models import Source
from archive.store import ArticleFields, Page, save_article
from newsarchive.cli import main

WARCIO = str(Path(sys.executable).with_name("warcio"))
STORY = "Le train de nuit Paris-Briançon reprend du service. " + " ".join(f"mot{i}" for i in range(60))
HTML = "<html><body><h1>Train de nuit</h1><p>Le train de nuit reprend… é è à</p></body></html>".encode()
WIRE = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"),
        ("Transfer-Encoding", "chunked"), ("Content-Length", "12"), ("ETag", '"v1"')]
T0 = datetime(2024, 10, 8, 6, tzinfo=timezone.utc)


@pytest.fixture
def archive(db):
    with db.transaction() as s:
        source = Source(url="https://journal.test/feed/")
        s.add(source)
        s.flush()
        source_id = source.id
    fields = ArticleFields(text=STORY, title="Train de nuit", author="Marie Curie", published=T0, language="fr")
    save_article(db, Page(url="https://journal.test/train?utm_source=rss", status=200, headers=WIRE, body=HTML,
                          fetched_at=T0), fields, source_id=source_id)
    save_article(db, Page(url="https://journal.test/train", status=200, headers=WIRE, body=HTML + b"<!-- v2 -->",
                          fetched_at=T0.replace(hour=7)),
                 ArticleFields(text=STORY + "\nMise à jour.", title="Train de nuit"))
    save_article(db, Page(url="https://autre.test/train", status=200, headers=[], body=b"<p>copie</p>",
                          fetched_at=T0.replace(hour=8)),
                 ArticleFields(text="(Avec AFP)\n" + STORY + "\nSource : AFP", title="Copie", language="fr"))
    save_article(db, Page(url="https://autre.test/meteo", status=404, headers=[], body=b"x", fetched_at=T0),
                 ArticleFields(text="La tempête arrive sur la côte.", title="Météo", language="en"))
    return db


def test_jsonl_fields_exactly(archive, db_url, capsys):
    assert main(["--db", db_url, "export", "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [list(line) for line in lines] == [list(FIELDS)] * 3 and lines[0]["id"] < lines[1]["id"]
    first, copy, other = lines
    assert first == {
        "id": first["id"], "url": "https://journal.test/train", "title": "Train de nuit",
        "text": STORY + "\nMise à jour.", "author": "Marie Curie", "published": "2024-10-08T06:00:00+00:00",
        "site": "journal.test", "language": "fr", "first_seen": "2024-10-08T06:00:00+00:00",
        "last_seen": "2024-10-08T07:00:00+00:00", "revisions": 2, "duplicate_of": None,
        "aliases": ["https://journal.test/train?utm_source=rss"], "source": "https://journal.test/feed/",
    }
    assert copy["duplicate_of"] == "https://journal.test/train" and copy["source"] is None
    assert other["published"] is None and other["aliases"] == []


def test_filters_and_query(archive, db_url, capsys, tmp_path):
    out = tmp_path / "x.jsonl"
    assert main(["--db", db_url, "export", "--format", "jsonl", "--site", "autre.test", "-o", str(out)]) == 0
    assert [json.loads(x)["url"] for x in out.read_text().splitlines()] == ["https://autre.test/train",
                                                                            "https://autre.test/meteo"]
    assert main(["--db", db_url, "export", "briancon", "--no-duplicates", "--lang", "fr"]) == 0
    assert [json.loads(x)["url"] for x in capsys.readouterr().out.splitlines()] == ["https://journal.test/train"]
    assert main(["--db", db_url, "export", "tempete", "--since", "2024-10-01"]) == 0
    assert capsys.readouterr().out == ""  # undated articles are outside any date range
    assert main(["--db", db_url, "export", "*"]) == 1
    assert main(["--db", db_url, "export", "--until", "demain"]) == 1


def test_csv_same_columns(archive, db_url, tmp_path):
    out = tmp_path / "x.csv.gz"
    assert main(["--db", db_url, "export", "--format", "csv", "-o", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(out.read_bytes()).decode())))
    assert list(rows[0]) == list(FIELDS) and len(rows) == 3
    assert rows[0]["aliases"] == "https://journal.test/train?utm_source=rss" and rows[0]["revisions"] == "2"
    assert rows[0]["text"].endswith("Mise à jour.") and rows[1]["duplicate_of"] == "https://journal.test/train"


@pytest.mark.parametrize("name", ["out.warc", "out.warc.gz"])
def test_warc_passes_warcio_check_and_index(archive, db_url, tmp_path, name):
    path = tmp_path / name
    assert main(["--db", db_url, "export", "--format", "warc", "-o", str(path)]) == 0
    if name.endswith(".gz"):
        assert path.read_bytes()[:2] == b"\x1f\x8b"
    check = subprocess.run([WARCIO, "check", "-v", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    index = subprocess.run([WARCIO, "index", str(path)], capture_output=True, text=True)
    assert index.returncode == 0 and len(index.stdout.splitlines()) == 1 + 4 + 1 + 3  # info, responses, revisit, texts

    with open(path, "rb") as stream:
        records = list(_read(stream))
    types = [r[0] for r in records]
    assert types == ["warcinfo", "response", "revisit", "response", "conversion", "response", "conversion",
                     "response", "conversion"]
    # the first fetch, under the URL fetched, and a revisit of it under the canonical URL
    _, fetched_uri, fetched, _, fetched_body = records[1]
    assert fetched_uri == "https://journal.test/train?utm_source=rss" and fetched_body == HTML
    _, uri, revisit, revisit_http, payload = records[2]
    assert uri == "https://journal.test/train" and payload == b""
    assert revisit.get_header("WARC-Profile") == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    assert revisit.get_header("WARC-Refers-To-Target-URI") == fetched_uri
    assert revisit.get_header("WARC-Refers-To-Date") == fetched.get_header("WARC-Date")
    assert revisit.get_header("WARC-Refers-To") == fetched.get_header("WARC-Record-ID")
    assert revisit.get_header("WARC-Payload-Digest") == fetched.get_header("WARC-Payload-Digest")
    assert revisit_http.get_statuscode() == "200"
    # the second fetch was at the canonical URL itself: no revisit needed
    _, uri, headers, http, body = records[3]
    assert uri == "https://journal.test/train" and body == HTML + b"<!-- v2 -->"
    assert http.get_statuscode() == "200" and http.protocol == "HTTP/1.1"
    assert http.get_header("Content-Encoding") is None and http.get_header("Transfer-Encoding") is None
    assert http.get_header("Content-Length") == str(len(body)) and http.get_header("ETag") == '"v1"'
    _, uri, text_headers, _, text = records[4]
    assert text_headers.get_header("WARC-Refers-To") == headers.get_header("WARC-Record-ID")
    assert text_headers.get_header("Content-Type") == "text/plain; charset=utf-8"
    assert text_headers.get_header("WARC-Date") == headers.get_header("WARC-Date")
    assert text.decode().endswith("Mise à jour.") and uri == "https://journal.test/train"
    assert records[7][3].statusline == "404 Not Found"


def _read(stream):
    for record in ArchiveIterator(stream):
        yield (record.rec_type, record.rec_headers.get_header("WARC-Target-URI"), record.rec_headers,
               record.http_headers, record.content_stream().read())


def test_export_streams_in_bounded_partitions(db):
    for i in range(7):
        save_article(db, Page(url=f"https://journal.test/{i}", status=200, headers=[], body=b"x"),
                     ArticleFields(text=f"Article {i}"))
    with db.session() as s:
        sizes = [len(part) for part in iter_articles(s, partition=3)]
    assert sizes == [3, 3, 1]
