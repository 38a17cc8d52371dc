"""A Datasette plugin for newsarchive archives, loaded by Datasette when both are installed.

- Links the full-text index to `articles` and the `article_texts` view in every attached
  newsarchive archive, whatever its file name, so `?_search=` works. The links are those of
  the shipped metadata.json (written for the default file name, newsarchive.db, for a Datasette
  without this plugin: `datasette newsarchive.db --metadata metadata.json`).
- Adds SQL functions to read the compressed raw pages through archive.rawpages (so any
  compression the archive learns is read here too):
  `raw_body(compression, body, dictionary_id)` -> the page's bytes, and
  `raw_text(compression, body, headers, dictionary_id)` -> its text, decoded with the charset of
  its stored Content-Type header (UTF-8 otherwise, undecodable bytes replaced). A page compressed
  with its site's zstd dictionary names it in `dictionary_id`, read from `raw_dictionaries` in the
  same database; the shorter `raw_body(compression, body)` and `raw_text(compression, body,
  headers)` read the pages that need none (zlib, plain zstd).
"""

from __future__ import annotations

import json
import sqlite3
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from datasette import hookimpl

from archive.rawpages import decompress_body
from crawler.headers import charset_of

METADATA = Path(__file__).with_name("metadata.json")
DEFAULT_NAME = "newsarchive"


@lru_cache(maxsize=1)
def shipped_metadata() -> dict:
    return json.loads(METADATA.read_text("utf-8"))


def raw_body(compression, body, dictionary=None):
    if body is None:
        return None
    return decompress_body(compression, bytes(body), dictionary)


def raw_text(compression, body, headers=None, dictionary=None):
    data = raw_body(compression, body, dictionary)
    if data is None:
        return None
    try:
        charset = charset_of([(str(k), str(v)) for k, v in json.loads(headers or "[]")]) or "utf-8"
        return data.decode(charset, errors="replace")
    except (LookupError, ValueError, TypeError):
        return data.decode("utf-8", errors="replace")


class _Dictionaries:
    """The zstd dictionaries of one connection's archive, each read once (rows are never changed)."""

    def __init__(self, conn):
        self.conn = conn
        self.loaded: dict[int, bytes] = {}

    def get(self, dictionary_id) -> bytes | None:
        if dictionary_id is None:
            return None
        if dictionary_id not in self.loaded:
            row = self.conn.execute("SELECT data FROM raw_dictionaries WHERE id = ?", (dictionary_id,)).fetchone()
            if row is None:
                raise ValueError(f"no dictionary {dictionary_id} in raw_dictionaries")
            self.loaded[dictionary_id] = bytes(row[0])
        return self.loaded[dictionary_id]


@hookimpl
def prepare_connection(conn):
    dictionaries = _Dictionaries(conn)
    conn.create_function("raw_body", 2, raw_body)
    conn.create_function("raw_text", 3, raw_text)
    conn.create_function("raw_body", 3, lambda c, b, d: raw_body(c, b, dictionaries.get(d)))
    conn.create_function("raw_text", 4, lambda c, b, h, d: raw_text(c, b, h, dictionaries.get(d)))


@lru_cache(maxsize=64)
def _is_archive(path: str, _mtime: float) -> bool:
    """Whether a SQLite file holds a newsarchive full-text index (read-only, immutable as a last
    resort: a WAL archive on a read-only disk cannot be opened otherwise)."""
    for mode in ("mode=ro", "immutable=1"):
        try:
            conn = sqlite3.connect(f"file:{quote(path)}?{mode}", uri=True)
            try:
                return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'article_fts'").fetchall())
            finally:
                conn.close()
        except sqlite3.Error:
            continue
    return False


@hookimpl
def get_metadata(datasette, key, database, table):
    block = shipped_metadata()["databases"][DEFAULT_NAME]
    archives = {}
    for name, db in datasette.databases.items():
        path = getattr(db, "path", None)
        if path and Path(path).is_file() and _is_archive(str(path), Path(path).stat().st_mtime):
            archives[name] = block
    return {"databases": archives} if archives else {}
