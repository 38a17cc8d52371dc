"""Raw page bodies: compressed with zstd, with their site's dictionary once it has one.

News pages of one site share most of their bytes (the template: head, navigation, scripts,
footer), which a page compressed alone cannot exploit; a zstd dictionary trained from the
site's stored pages (archive/dictionaries.py) holds those shared bytes once, so each page stores
little more than its own article. A page is written as ``compression = "zstd"`` with
``dictionary_id`` naming the dictionary (NULL: plain zstd). Rows written before a10_storage stay
``zlib``; ``identity`` is an uncompressed body. `decompress` reads all of them.

Dictionary rows are immutable (retraining adds a row), so a dictionary read once in a session is
good for the whole session: SQLAlchemy's identity map keeps it, nothing is cached across
sessions or archives. zstd checks the dictionary id written in each frame, so a page is never
decoded with the wrong dictionary.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import zstandard
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from archive.models import RawDictionary, RawPage

# zstd level 3 (zstd's default): as small as zlib level 6 and ten times faster, with a
# dictionary half the size; higher levels cost 3-5x the CPU of the write path for a few percent.
LEVEL = 3
ZSTD, ZLIB, IDENTITY = "zstd", "zlib", "identity"


class RawPageError(ValueError):
    """A stored body that cannot be read back (unknown compression, missing dictionary, corrupt)."""


@dataclass(frozen=True)
class Compressor:
    """Compresses bodies for one site: with its newest dictionary, or plain zstd without one."""

    dictionary_id: int | None = None
    dictionary: zstandard.ZstdCompressionDict | None = None

    @classmethod
    def for_dictionary(cls, row: RawDictionary | None) -> Compressor:
        if row is None:
            return cls()
        dictionary = zstandard.ZstdCompressionDict(row.data)
        dictionary.precompute_compress(level=LEVEL)
        return cls(row.id, dictionary)

    def compress(self, body: bytes) -> tuple[str, bytes, int | None]:
        """(compression, stored bytes, dictionary id) of a body."""
        compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=self.dictionary) if self.dictionary \
            else zstandard.ZstdCompressor(level=LEVEL)
        return ZSTD, compressor.compress(body), self.dictionary_id


def newest_dictionary(session: Session, site: str) -> RawDictionary | None:
    return session.scalars(select(RawDictionary).where(RawDictionary.site == site)
                           .order_by(RawDictionary.id.desc()).limit(1)).first()


def compressors_for(session: Session, sites) -> dict[str, Compressor]:
    """One compressor per site, each with the site's newest dictionary (one indexed query a site)."""
    return {site: Compressor.for_dictionary(newest_dictionary(session, site)) for site in set(sites)}


def decompress_body(compression: str, body: bytes, dictionary: bytes | None = None) -> bytes:
    """A stored body's bytes; ``dictionary``: the raw bytes of the zstd dictionary it names."""
    try:
        if compression == ZSTD:
            data = zstandard.ZstdCompressionDict(dictionary) if dictionary is not None else None
            decompressor = zstandard.ZstdDecompressor(dict_data=data) if data else zstandard.ZstdDecompressor()
            return decompressor.decompress(body)  # the frame records its size: no size guess needed
        if compression == ZLIB:
            return zlib.decompress(body)
        if compression == IDENTITY:
            return body
    except (zstandard.ZstdError, zlib.error) as exc:
        raise RawPageError(f"cannot decompress a {compression} body: {exc}") from None
    raise RawPageError(f"unknown compression {compression!r}")


def decompress(raw: RawPage) -> bytes:
    """The body of a stored raw page. A page compressed with a dictionary is read through the
    session that loaded it (the dictionary row is fetched once per session)."""
    dictionary = None
    if raw.dictionary_id is not None:
        session = object_session(raw)
        if session is None:
            raise RawPageError(f"raw page {raw.id} needs dictionary {raw.dictionary_id}: read it in a session")
        row = session.get(RawDictionary, raw.dictionary_id)
        if row is None:
            raise RawPageError(f"raw page {raw.id}: its dictionary {raw.dictionary_id} is missing")
        dictionary = row.data
    try:
        return decompress_body(raw.compression, raw.body, dictionary)
    except RawPageError as exc:
        raise RawPageError(f"raw page {raw.id}: {exc}") from None
