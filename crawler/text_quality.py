"""Text that is not an article whatever the page says: no sentences, or one word repeated.

A page whose "article" is one word repeated 300,000 times, a keyword list or a table of numbers
is junk: the extractor marks it (Article.rejected) and the pipeline drops it with the reason.
A short text without a sentence (a caption, a one-line brief) is not judged: too little to tell.
"""

from __future__ import annotations

import math
import re

_WORD = re.compile(r"\w+")
# A sentence: a word character, at least 10 characters with no full stop, then a full stop or an
# ellipsis. As one regex search (\w[^.!?。！？]{10,}[.!?。！？…]) that was quadratic in a long text
# with no full stop (a table of 40,000 characters: 2.5 s), so has_sentence finds it run by run.
_FULL_STOP = re.compile(r"[.!?。！？]")
_WORD_CHAR = re.compile(r"\w")
_MIN_RUN = 10
JUDGED_WORDS = 60  # texts shorter than this are not judged
JUDGED_CHARS = 20_000  # a longer text is judged by its start (a text that repeats itself does so early)
# a text repeats itself below MIN_DISTINCT_SHARE of distinct words, or for a long text below
# DISTINCT_PER_ROOT times the square root of its length: a real vocabulary keeps growing, about as
# that root (Heaps' law), so a long results list or table has a small share of distinct words but
# many of them, while a text repeating itself stops growing its vocabulary
MIN_DISTINCT_SHARE = 0.1
DISTINCT_PER_ROOT = 3.0
PROSE_LINE_WORDS = 12  # a line this long without a full stop is still prose (unpunctuated writing)


def rejection_reason(text: str) -> str | None:
    """"repetitive", "no-sentences" or None for a text that may be an article."""
    words = _WORD.findall(text[:JUDGED_CHARS].casefold())
    if len(words) < JUDGED_WORDS:
        return None
    if len(set(words)) < min(MIN_DISTINCT_SHARE * len(words), DISTINCT_PER_ROOT * math.sqrt(len(words))):
        return "repetitive"
    if has_sentence(text):
        return None
    if any(len(set(_WORD.findall(line))) >= PROSE_LINE_WORDS for line in text.splitlines()):
        return None
    return "no-sentences"


def has_sentence(text: str) -> bool:
    """Whether a sentence (see _FULL_STOP) ends somewhere in ``text``, in one pass: within each run
    of text between full stops, the best end is the run's last (its full stop, or in the last run
    its last ellipsis), and a sentence ends there when a word character starts 11 or more
    characters before it."""
    start = 0
    for stop in _FULL_STOP.finditer(text):
        if _WORD_CHAR.search(text, start, stop.start() - _MIN_RUN):
            return True
        start = stop.end()
    ellipsis = text.rfind("…", start)
    return ellipsis >= 0 and _WORD_CHAR.search(text, start, ellipsis - _MIN_RUN) is not None
