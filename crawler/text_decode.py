"""Decode an HTML response body to text without mojibake.

Order of trust: a byte-order mark, then valid UTF-8 (multibyte UTF-8 almost never happens by
accident, so it wins over a latin-1/cp1252 label), then the declared charsets (HTTP header,
then ``<meta charset>``) when the bytes are valid in them, then UTF-8 with stray cp1252 bytes
(a UTF-8 page with a pasted-in windows-1252 fragment), then detection by charset-normalizer.
The result never contains U+FFFD introduced by decoding.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_NON_ASCII = re.compile(rb"[\x80-\xff]")

# What browsers actually use for these labels (WHATWG Encoding Standard): supersets.
_WHATWG = {
    "ascii": "cp1252",
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
    "gb2312": "gbk",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
}
# charset-normalizer guesses for Latin text that browsers would read as windows-1252
_LATIN_GUESSES = {"cp1252", "latin-1", "iso8859-1", "iso8859-15", "cp1250", "iso8859-2", "mac-roman", "cp850", "cp437"}


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    """Decode the offending bytes as windows-1252 (latin-1 for its five undefined bytes)."""
    if not isinstance(error, UnicodeDecodeError):  # registered for decoding only
        raise error
    chunk = error.object[error.start : error.end]
    return "".join(_byte_to_char(b) for b in chunk), error.end


def _byte_to_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


codecs.register_error("newsarchive-cp1252", _cp1252_bytes)


def normalize_charset(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'").lower()).name
    except LookupError:
        return None
    return _WHATWG.get(name, name)


def sniff_meta_charset(body: bytes) -> str | None:
    """The charset declared by ``<meta charset>`` / ``http-equiv`` in the first bytes."""
    match = _META_CHARSET.search(body[:4096])
    return normalize_charset(match.group(1).decode("ascii", "ignore")) if match else None


def decode_html(body: bytes | str, encoding: str | None = None) -> str:
    """Decode ``body``; ``encoding`` is the HTTP header's charset, possibly wrong or None."""
    if isinstance(body, str):
        return body
    boms = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
    for bom, codec in boms:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, "newsarchive-cp1252" if codec == "utf-8" else "replace")
    if not _NON_ASCII.search(body):
        return body.decode("ascii")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = [normalize_charset(encoding), sniff_meta_charset(body)]
    for codec in dict.fromkeys(c for c in declared if c and not c.startswith("utf")):
        try:
            return body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    # mostly valid UTF-8 with a few stray single-byte characters
    utf8_bytes = sum(len(m) for m in _UTF8_SEQUENCE.findall(body))
    if utf8_bytes and utf8_bytes >= len(_NON_ASCII.findall(body)) - utf8_bytes:
        return body.decode("utf-8", "newsarchive-cp1252")
    return body.decode(_detect(body), "newsarchive-cp1252")


def _detect(body: bytes) -> str:
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    guess = normalize_charset(best.encoding) if best is not None else None
    if guess is None or guess in _LATIN_GUESSES or guess.startswith("utf"):
        return "cp1252"
    return guess
