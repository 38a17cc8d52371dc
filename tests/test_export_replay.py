"""Exports that replay tools open: the canonical URL (without utm_*) resolves to the archived response.

The WARC is indexed by cdxj-indexer (the indexer of pywb and py-wacz) and the WACZ's own index
is read; a lookup then goes as a replay tool's does: the SURT key of the URL asked for, the
capture closest in time, and a revisit followed to the response it refers to (by target URI and
date). Records are read back at the index's offsets with warcio.
"""

import gzip
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import surt
from warcio.archiveiterator import ArchiveIterator

from newsarchive.cli import main
from tests.test_export import HTML, archive  # noqa: F401 (the archive fixture)

BIN = Path(sys.executable).parent
CANONICAL = "https://journal.test/train"


def parse_cdxj(lines) -> dict[str, list[tuple[str, dict]]]:
    """{SURT key: [(timestamp, fields)]} of CDXJ lines."""
    index: dict[str, list[tuple[str, dict]]] = {}
    for line in lines:
        if not line.strip() or line.startswith("!"):
            continue
        key, timestamp, fields = line.split(" ", 2)
        index.setdefault(key, []).append((timestamp, json.loads(fields)))
    return index


def resolve(index, open_warc, url: str, timestamp: str = "99999999999999"):
    """(record type followed, response record headers, http headers, body) replayed for url at timestamp."""
    captures = index[surt.surt(url)]
    stamp, entry = min(captures, key=lambda c: abs(int(c[0]) - int(timestamp)))
    record = _record_at(open_warc(entry["filename"]), int(entry["offset"]))
    if record[0] == "revisit":
        target = record[1].get_header("WARC-Refers-To-Target-URI")
        date = record[1].get_header("WARC-Refers-To-Date")
        original = [e for ts, e in index[surt.surt(target)] if ts == date.translate(str.maketrans("", "", "-:TZ"))[:14]]
        assert len(original) == 1, "the revisit's target capture is in the index"
        response = _record_at(open_warc(original[0]["filename"]), int(original[0]["offset"]))
        assert response[1].get_header("WARC-Payload-Digest") == record[1].get_header("WARC-Payload-Digest")
        return ("revisit", *response[1:])
    return record


def _record_at(stream, offset: int):
    stream.seek(offset)
    record = next(iter(ArchiveIterator(stream)))
    return record.rec_type, record.rec_headers, record.http_headers, record.content_stream().read()


@pytest.mark.parametrize("name", ["out.warc", "out.warc.gz"])
def test_warc_canonical_url_replays_from_cdxj_index(archive, db_url, tmp_path, name):  # noqa: F811
    path = tmp_path / name
    assert main(["--db", db_url, "export", "--format", "warc", "-o", str(path)]) == 0
    indexed = subprocess.run([str(BIN / "cdxj-indexer"), str(path)], capture_output=True, text=True, check=True)
    index = parse_cdxj(indexed.stdout.splitlines())

    def open_warc(filename):
        assert filename == name
        return open(path, "rb")

    # at the time of the first fetch, the canonical URL replays the page fetched with utm_source
    kind, headers, http, body = resolve(index, open_warc, CANONICAL, "20241008060000")
    assert kind == "revisit" and body == HTML and http.get_statuscode() == "200"
    assert headers.get_header("WARC-Target-URI") == "https://journal.test/train?utm_source=rss"
    # later, the second fetch, made at the canonical URL itself
    kind, headers, _, body = resolve(index, open_warc, CANONICAL)
    assert kind == "response" and body == HTML + b"<!-- v2 -->"
    # 4 responses and 1 revisit: conversion records (the clean text) are not captures to replay
    assert sum(len(captures) for captures in index.values()) == 5


def test_wacz_validates_and_its_index_replays_the_canonical_url(archive, db_url, tmp_path):  # noqa: F811
    path = tmp_path / "journal.wacz"
    assert main(["--db", db_url, "export", "--format", "wacz", "-o", str(path)]) == 0
    validated = subprocess.run([str(BIN / "wacz"), "validate", "-f", str(path)], capture_output=True, text=True)
    assert validated.returncode == 0 and "is valid" in validated.stdout, validated.stdout + validated.stderr

    package = zipfile.ZipFile(path)
    names = set(package.namelist())
    assert {"datapackage.json", "datapackage-digest.json", "indexes/index.cdx.gz", "indexes/index.idx",
            "pages/pages.jsonl", "archive/newsarchive.warc.gz"} <= names
    index = parse_cdxj(gzip.decompress(package.read("indexes/index.cdx.gz")).decode().splitlines())

    def open_warc(filename):
        return package.open(f"archive/{filename}")

    kind, headers, _, body = resolve(index, open_warc, CANONICAL + "#ignored", "20241008060000")
    assert kind == "revisit" and body == HTML
    assert resolve(index, open_warc, CANONICAL)[3] == HTML + b"<!-- v2 -->"
    assert resolve(index, open_warc, "https://autre.test/train")[3] == b"<p>copie</p>"

    pages = [json.loads(line) for line in package.read("pages/pages.jsonl").decode().splitlines()]
    assert pages[0]["format"] == "json-pages-1.0"
    listed = {p["url"]: p for p in pages[1:]}
    assert set(listed) == {CANONICAL, "https://autre.test/train", "https://autre.test/meteo"}
    assert listed[CANONICAL]["title"] == "Train de nuit"
    # each page opens at a capture of its URL that the index has (the latest)
    stamp = listed[CANONICAL]["ts"].translate(str.maketrans("", "", "-:TZ"))[:14]
    assert stamp == "20241008070000" and stamp in {ts for ts, _ in index[surt.surt(CANONICAL)]}


def test_export_summary_as_json(archive, db_url, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "x.jsonl"
    assert main(["--db", db_url, "export", "--json", "-o", str(out)]) == 0
    assert json.loads(capsys.readouterr().out) == {"format": "jsonl", "output": str(out), "articles": 3}
    assert main(["--db", db_url, "export", "--json"]) == 1  # the export itself would be on stdout
    assert "-o FILE" in capsys.readouterr().err
