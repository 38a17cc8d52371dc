"""The passage of an article that best shows why it matched a query, as pieces to mark.

Pieces are (text, is a query word) pairs, so the terminal can bracket the matches and the web
page can escape every piece before marking the matching ones: no caller ever has to find the
marks again in text that may itself contain brackets or markup.
"""

from __future__ import annotations

import re

from archive.dedup import word_spans

SNIPPET_WORDS = 30
_SPACES = re.compile(r"\s+")


def snippet_pieces(body: str, query_words: set[str], *, width: int = SNIPPET_WORDS) -> list[tuple[str, bool]]:
    """The passage of `width` words with the most query words, whitespace collapsed; "… " and
    " …" pieces stand for the text left out before and after it."""
    spans = list(word_spans(body))
    if not spans:
        return []
    hits = [i for i, (_, _, w) in enumerate(spans) if w in query_words]
    if hits:
        best = max(hits, key=lambda i: sum(1 for j in hits if i <= j < i + width))
        start = max(0, best - 3)
    else:
        start = 0
    window = spans[start:start + width]
    pieces = [("… ", False)] if start > 0 else []
    cursor = window[0][0]
    for s, e, w in window:
        if s > cursor:
            pieces.append((_SPACES.sub(" ", body[cursor:s]), False))
        pieces.append((body[s:e], w in query_words))
        cursor = e
    if start + width < len(spans):
        pieces.append((" …", False))
    return pieces


def render_snippet(pieces: list[tuple[str, bool]]) -> str:
    """The pieces as one line, query words in [brackets] (the CLI's and the API's snippet)."""
    return "".join(f"[{text}]" if matched else text for text, matched in pieces)


def marked_pieces(text: str, query_words: set[str]) -> list[tuple[str, bool]]:
    """All of `text` (a title) as (text, is a query word) pieces, nothing left out or collapsed."""
    pieces, cursor = [], 0
    for s, e, w in word_spans(text):
        if w in query_words:
            if s > cursor:
                pieces.append((text[cursor:s], False))
            pieces.append((text[s:e], True))
            cursor = e
    if cursor < len(text):
        pieces.append((text[cursor:], False))
    return pieces
