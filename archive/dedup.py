"""Text identity: exact copies by hash, near copies by MinHash with LSH bands kept in the database.

A near copy (wire copy, syndication, a story republished with "(Avec AFP)" in front and
"Source : AFP" at the end, a few words edited) shares most of its word 3-grams ("shingles") with
the original. Each article's shingle set is summarised by a 128-value MinHash signature, cut into
16 bands of 8 values; each band is hashed to one 64-bit key stored in ``article_bands``
(primary key band_key, article_id). Looking up a new text is one indexed ``IN`` query on its 16
keys, whatever the size of the archive; the few candidates it returns are then checked with the
exact Jaccard similarity of their shingle sets, so a shared standard lead or page furniture
between two different articles of one site is not enough to call them copies.

With 8 rows per band, a pair at similarity s becomes a candidate with probability
1 - (1 - s**8)**16: 0.99+ at s = 0.9, 0.93 at s = 0.8, 0.24 at s = 0.6, 0.001 at s = 0.3.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from archive.models import Article, ArticleBand, Revision
from archive.text import normalize_text

_WORD = re.compile(r"[^\W_]+")

PERMUTATIONS = 128
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SHINGLE_WORDS = 3
# Below this many words a text is too short for near-duplicate detection (exact copies still are).
MIN_WORDS = 25
# Exact Jaccard similarity of shingle sets above which a candidate is a copy.
THRESHOLD = 0.6
MAX_CANDIDATES = 20

_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)


def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in base if not unicodedata.combining(c)).lower()
    return kept[:1] if kept else char


class _FoldTable(dict):
    """str.translate table filled on first sight of each character."""

    def __missing__(self, code: int) -> str:
        value = self[code] = _fold_char(chr(code))
        return value


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Lowercased, accents removed, one character for one ("Défense" -> "defense").

    Length-preserving, so positions in the folded text are positions in the original.
    """
    return text.translate(_FOLD)


def words(text: str) -> list[str]:
    """The folded words of a text: runs of letters and digits."""
    return _WORD.findall(fold(text))


def word_spans(text: str) -> Iterable[tuple[int, int, str]]:
    """(start, end, folded word) for each word of the original text."""
    for match in _WORD.finditer(fold(text)):
        yield match.start(), match.end(), match.group()


def shingles(text: str, *, ws: list[str] | None = None) -> set[int]:
    """32-bit hashes of the text's word 3-grams (``ws``: its words, when the caller has them)."""
    ws = words(text) if ws is None else ws
    if len(ws) < SHINGLE_WORDS:
        return {zlib.crc32(" ".join(ws).encode())} if ws else set()
    return {zlib.crc32(" ".join(ws[i:i + SHINGLE_WORDS]).encode()) for i in range(len(ws) - SHINGLE_WORDS + 1)}


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Fixed seed: band keys written today must be found by the same code tomorrow.
    rng = np.random.default_rng(0x5EED_2026)
    a = rng.integers(1, 2**63, size=(PERMUTATIONS, 1), dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=(PERMUTATIONS, 1), dtype=np.uint64)
    return a, b


_A, _B = _permutations()


def signature(shingle_hashes: Iterable[int]) -> np.ndarray:
    """MinHash signature: 128 uint32 minima of multiply-shift hashes of the shingles."""
    x = np.fromiter(shingle_hashes, dtype=np.uint64)
    if x.size == 0:
        return np.zeros(PERMUTATIONS, dtype=np.uint32)
    hashed = (_A * x[None, :] + _B) >> _SHIFT  # wraps modulo 2**64: multiply-shift hashing
    return hashed.min(axis=1).astype(np.uint32)


def band_keys(sig: np.ndarray) -> list[int]:
    """One signed 64-bit key per band (the band number is part of the key)."""
    keys = []
    raw = sig.astype("<u4").tobytes()
    width = ROWS * 4
    for band in range(BANDS):
        digest = hashlib.blake2b(raw[band * width:(band + 1) * width], digest_size=8,
                                 person=band.to_bytes(2, "little")).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def text_band_keys(text: str) -> list[int]:
    """The LSH band keys of a text, or none when it is too short to compare."""
    ws = words(text)
    if len(ws) < MIN_WORDS:
        return []
    return band_keys(signature(shingles(text, ws=ws)))


@dataclass(frozen=True)
class BandKeys:
    """The band keys of a text computed before the write (in the crawler's extraction pool, off
    the writer's thread): valid for that very text only, since furniture removal may change it."""

    text: str  # as the extractor gave it (before normalize_text)
    keys: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> BandKeys:
        return cls(text, tuple(text_band_keys(normalize_text(text))))


def keys_for(text: str, body: str, precomputed: BandKeys | None) -> list[int]:
    """The band keys of ``body`` (``text`` normalized): precomputed when they were made for ``text``."""
    if precomputed is not None and precomputed.text == text:
        return list(precomputed.keys)
    return text_band_keys(body)


def similarity(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


class KnownKeys:
    """Which of some text hashes and band keys the archive holds, looked up in two queries for a
    whole batch, so that a text with no copy (most of a crawl) costs no per-item lookup.

    Only an answer of "none of them" is trusted: a hash or key the batch did not ask about, or one
    that is there, sends the caller to the real query (find_original, find_near_original), which
    also sees what the batch itself wrote, since every text the batch writes is `add`-ed here."""

    def __init__(self, session: Session, hashes: Iterable[str], keys: Iterable[int]):
        self._asked_hashes, self._asked_keys = set(hashes), set(keys)
        self._hashes = set(_present(session, Article.text_hash, self._asked_hashes))
        self._keys = set(_present(session, ArticleBand.band_key, self._asked_keys))

    def may_have_copy(self, digest: str) -> bool:
        return digest in self._hashes or digest not in self._asked_hashes

    def may_have_near_copy(self, keys: Sequence[int]) -> bool:
        return not self._asked_keys.issuperset(keys) or not self._keys.isdisjoint(keys)

    def add(self, digest: str, keys: Iterable[int]) -> None:
        """A text written since the lookup: its hash and keys are in the archive now."""
        keys = set(keys)
        self._asked_hashes.add(digest)
        self._hashes.add(digest)
        self._asked_keys |= keys
        self._keys |= keys


def _present(session: Session, column, values: set, chunk: int = 500) -> Iterable:
    """Which of ``values`` appear in ``column`` (an indexed one), a few hundred at a time."""
    ordered = sorted(values)
    for start in range(0, len(ordered), chunk):
        yield from session.scalars(select(column).where(column.in_(ordered[start:start + chunk])).distinct())


def find_original(session: Session, digest: str, *, exclude_id: int | None = None) -> Article | None:
    """The earliest archived article whose current text has this hash (an exact copy)."""
    query = select(Article).where(Article.text_hash == digest, Article.duplicate_of_id.is_(None))
    if exclude_id is not None:
        query = query.where(Article.id != exclude_id)
    return session.scalars(query.order_by(Article.first_seen, Article.id).limit(1)).first()


def find_near_original(session: Session, text: str, *, keys: Sequence[int] | None = None,
                       exclude_id: int | None = None) -> Article | None:
    """The earliest archived article this text is a near copy of, found through the band index."""
    keys = text_band_keys(text) if keys is None else keys
    if not keys:
        return None
    hits = func.count().label("hits")
    query = (select(ArticleBand.article_id, hits).where(ArticleBand.band_key.in_(keys))
             .group_by(ArticleBand.article_id).order_by(hits.desc()).limit(MAX_CANDIDATES))
    if exclude_id is not None:
        query = query.where(ArticleBand.article_id != exclude_id)
    candidate_ids = [row.article_id for row in session.execute(query)]
    if not candidate_ids:
        return None
    mine = shingles(text)
    texts = session.execute(
        select(Article.id, Article.duplicate_of_id, Revision.text)
        .join(Revision, (Revision.article_id == Article.id) & (Revision.number == Article.revision_count))
        .where(Article.id.in_(candidate_ids))
    )
    roots = {row.duplicate_of_id or row.id for row in texts if similarity(mine, shingles(row.text)) >= THRESHOLD}
    if not roots:
        return None
    return session.scalars(select(Article).where(Article.id.in_(roots))
                           .order_by(Article.first_seen, Article.id).limit(1)).first()


def index_bands(session: Session, article_id: int, keys: Sequence[int]) -> None:
    """Record an article's band keys (its current text's)."""
    if keys:
        session.execute(insert(ArticleBand), [{"band_key": k, "article_id": article_id} for k in set(keys)])


def reindex_bands(session: Session, article_id: int, text: str, *, keys: Sequence[int] | None = None) -> None:
    """Replace an article's band keys after its text changed (``keys``: the text's, when known)."""
    session.execute(delete(ArticleBand).where(ArticleBand.article_id == article_id))
    index_bands(session, article_id, text_band_keys(text) if keys is None else keys)
