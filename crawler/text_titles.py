"""Article titles without what the site adds around them.

Per page: the parts of a title split on separators (" | ", " - ", " – "...) that are the site's
name or host, a date ("28.04.2023", "Nov 12, 2024"), or the site's acronym, are removed from
the ends ("Ukraine: talks resume | DW | 28.04.2023" -> "Ukraine: talks resume").

Per site (a pure learner the archive can feed with a site's stored titles): the affix that EVERY
title of a site shares ("... | Börsen-Zeitung") is the site's, not the article's:
`shared_affixes(titles)` finds it, `strip_affixes(title, affixes)` removes it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

SEPARATORS = re.compile(r"\s+[|\-–—:·•»/]\s+|\s+::\s+")
_DATE_PART = re.compile(
    r"^\W*(?:\d{1,4}[./\-]\d{1,2}[./\-]\d{1,4}|\d{1,2}\.?\s+\w+\.?\s+\d{4}|\w{3,10}\.?\s+\d{1,2},?\s+\d{4}"
    r"|\d{4})(?:\s*,?\s*\d{1,2}[:h]\d\d)?\W*$",
    re.I,
)
MIN_TITLES = 3  # a site's shared affix is learned from at least this many titles
MIN_KEPT = 3  # characters a title must keep after its affixes are removed


_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _forms(text: str) -> set[str]:
    """Squashed forms of a name as hosts spell it: "Börsen-Zeitung" -> börsenzeitung, boersenzeitung, borsenzeitung."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return {squash(text), squash(text.casefold().translate(_GERMAN)), squash(folded)}


def _site_keys(names: Iterable[str | None]) -> set[str]:
    keys = set()
    for name in names:
        if not name:
            continue
        keys |= _forms(name)
        if "." in name:
            keys.update(squash(label) for label in name.split(".")[:-1] if len(label) > 1)
        words = re.findall(r"\w+", name)
        if len(words) >= 2:
            keys.add("".join(w[0] for w in words).casefold())  # "Deutsche Welle" -> "dw"
    keys.discard("")
    keys.discard("www")
    return keys


def _is_site_part(part: str, keys: set[str]) -> bool:
    if not squash(part) or _DATE_PART.match(part):
        return True
    return any(key == k or (len(k) >= 4 and len(key) >= 2 and (k in key or key in k))
               for key in _forms(part) for k in keys)


def strip_site_parts(title: str, names: Iterable[str | None]) -> str:
    """``title`` without leading/trailing parts that are the site's name, host, acronym or a date."""
    keys = _site_keys(names)
    pieces = SEPARATORS.split(title)
    seps = SEPARATORS.findall(title)
    start, end = 0, len(pieces)
    while end - start > 1 and _is_site_part(pieces[end - 1], keys):
        end -= 1
    # a leading part goes only when one part is left (never cut "Brexit: what changes")
    if end - start == 2 and _is_site_part(pieces[start], keys) and not _DATE_PART.match(pieces[start + 1]):
        start += 1
    if (start, end) == (0, len(pieces)):
        return title
    kept = pieces[start]
    for sep, piece in zip(seps[start : end - 1], pieces[start + 1 : end]):
        kept += sep + piece
    return kept.strip() or title


def shared_affixes(titles: Iterable[str]) -> tuple[str, str]:
    """(prefix, suffix) that every one of a site's titles carries, cut at separators; ("", "")
    when fewer than MIN_TITLES titles or nothing is shared. Two titles sharing a word are not
    enough: the affix must be on all of them, up to a separator."""
    titles = [" ".join(t.split()) for t in titles if t and t.strip()]
    if len(titles) < MIN_TITLES:
        return "", ""
    return _common(titles, prefix=True), _common(titles, prefix=False)


def _common(titles: list[str], *, prefix: bool) -> str:
    first = titles[0]
    cuts = [m.end() if prefix else m.start() for m in SEPARATORS.finditer(first)]
    best = ""
    for cut in sorted(cuts, key=lambda c: c if prefix else -c):
        affix = first[:cut] if prefix else first[cut:]
        if all((t.startswith(affix) if prefix else t.endswith(affix)) and len(t) - len(affix) >= MIN_KEPT
               for t in titles):
            best = affix
    return best


def strip_affixes(title: str | None, affixes: tuple[str, str]) -> str | None:
    if not title:
        return title
    prefix, suffix = affixes
    if prefix and title.startswith(prefix) and len(title) - len(prefix) >= MIN_KEPT:
        title = title[len(prefix) :]
    if suffix and title.endswith(suffix) and len(title) - len(suffix) >= MIN_KEPT:
        title = title[: -len(suffix)]
    return title.strip()
