"""Metadata accuracy (title, author, date) against bench/metadata-truth.json.

The truth was read by hand from each page's visible headline, byline and dateline in its HTML
(never from an extractor's output); how the pages were chosen and read is in bench/README.md.
Exact-match rules, after normalisation (NFKC, casefold, whitespace collapsed, typographic quotes
and dashes made plain, punctuation at both ends stripped):

* title: the normalised strings are equal;
* author: the sets of names are equal (names split on "," ";" "&" " and "; truth "" = no byline);
* date: the calendar day YYYY-MM-DD of publication as the page shows it (local to the page).

Accuracy of a field = exact matches / pages whose truth has a value for that field. A page
without a visible byline (truth null) is not counted for author; a prediction there is counted
apart, as "invented".
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from pathlib import Path

TRUTH = Path(__file__).resolve().parent / "metadata-truth.json"
FIELDS = ("title", "author", "date")
_PLAIN = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
                        "–": "-", "—": "-", "\u00a0": " "})
_NAME_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b)\s*", re.I)


def load_truth(path: Path = TRUTH) -> dict[str, dict[str, dict]]:
    """{set name: {page id: {"title", "author", "date"}}}"""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: pages for name, pages in data.items() if not name.startswith("_")}


def normalize(value: str | None) -> str:
    text = " ".join(unicodedata.normalize("NFKC", value or "").translate(_PLAIN).casefold().split())
    return text.strip(" .,:;!?'\"|-·•")


def names(value: str | None) -> frozenset[str]:
    return frozenset(n for n in (normalize(part) for part in _NAME_SPLIT.split(value or "")) if n)


def day_of(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    match = re.match(r"\d{4}-\d\d-\d\d", str(value))
    return match.group() if match else None


def matches(field: str, predicted, expected) -> bool:
    if field == "title":
        return normalize(predicted) == normalize(expected)
    if field == "author":
        return names(predicted) == names(expected)
    return day_of(predicted) == day_of(expected)


def accuracy(predictions: dict[str, dict], truth: dict[str, dict]) -> dict[str, dict[str, int]]:
    """{field: {"right", "of", "invented"}} over the truth pages."""
    result = {field: {"right": 0, "of": 0, "invented": 0} for field in FIELDS}
    for key, expected in truth.items():
        got = predictions.get(key, {})
        for field in FIELDS:
            if expected.get(field) in (None, ""):
                result[field]["invented"] += bool(got.get(field))
                continue
            result[field]["of"] += 1
            result[field]["right"] += matches(field, got.get(field), expected[field])
    return result
