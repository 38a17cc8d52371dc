"""Paragraph normal forms: the per-line fingerprint used to learn furniture, and the
whitespace-insensitive text form used for the exact text hash."""

from __future__ import annotations

import hashlib
import unicodedata

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\ufeff\u00ad"))


def _is_edge_noise(char: str) -> bool:
    """Punctuation, symbols and spaces are stripped at the ends of a line (digits are kept)."""
    category = unicodedata.category(char)
    return category[0] in "PSZ" or char.isspace()


def normalize_line(line: str) -> str:
    """Casefold, NFKC, collapse whitespace, strip punctuation/symbols at both ends."""
    text = " ".join(unicodedata.normalize("NFKC", line.translate(_INVISIBLE)).casefold().split())
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


def normalize_text(text: str) -> str:
    """Canonical form for the exact text hash: one paragraph per line, runs of whitespace
    collapsed to one space, empty paragraphs dropped. Whitespace-only edits normalise equal."""
    lines = (" ".join(line.translate(_INVISIBLE).split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
