"""Normal forms of article text, shared by the extractor and the archive (pure: no I/O).

* ``normalize_text``: the form revisions are stored and hashed in: one paragraph per line,
  whitespace collapsed, empty paragraphs dropped, invisible characters removed. Two texts that
  differ only in such things are the same revision (``text_hash``).
* ``line_fingerprint``: a stable 64-bit key per paragraph, insensitive to case, spacing and the
  punctuation at its ends: how page furniture is learned and recognised per site.
"""

from __future__ import annotations

import hashlib
import unicodedata
from functools import lru_cache

# Characters a page may scatter through a word without changing it: a soft hyphen, a zero-width
# space, a byte-order mark. Pages of the same article differ in them from one fetch to the next.
INVISIBLE = "\u00ad\u200b\ufeff"
_DROP_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE))


def without_invisible(text: str) -> str:
    # str.translate looks every character up in a dict: eight times slower than asking first
    # whether the text holds any of the three at all, which most texts do not
    return text.translate(_DROP_INVISIBLE) if any(char in text for char in INVISIBLE) else text


def normalize_text(text: str) -> str:
    """One paragraph per line, runs of whitespace collapsed to one space, invisible characters
    and empty paragraphs dropped. Whitespace-only edits normalise equal."""
    lines = (" ".join(line.split()) for line in without_invisible(text).splitlines())
    return "\n".join(line for line in lines if line)


def text_hash(text: str) -> str:
    """SHA-256 of the normalized text: equal for texts that differ only as normalize_text ignores."""
    return normalized_hash(normalize_text(text))


def normalized_hash(body: str) -> str:
    """text_hash of a text already normalized (normalize_text's output)."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _is_edge_noise(char: str) -> bool:
    """Punctuation, symbols and spaces are stripped at the ends of a line (digits are kept)."""
    return unicodedata.category(char)[0] in "PSZ" or char.isspace()


@lru_cache(maxsize=16384)  # the extractor asks about the same paragraph once per candidate and check
def normalize_line(line: str) -> str:
    """Casefold, NFKC, collapse whitespace, strip punctuation/symbols at both ends."""
    text = " ".join(unicodedata.normalize("NFKC", without_invisible(line)).casefold().split())
    start, end = 0, len(text)
    while start < end and _is_edge_noise(text[start]):
        start += 1
    while end > start and _is_edge_noise(text[end - 1]):
        end -= 1
    return text[start:end]


def line_fingerprint(line: str) -> int:
    """A stable signed 64-bit fingerprint of a paragraph (fits a SQL BIGINT).

    Stable across processes and Python versions (BLAKE2b, not ``hash()``). Lines that differ
    only in case, whitespace or punctuation at their ends share a fingerprint.
    """
    digest = hashlib.blake2b(normalize_line(line).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
