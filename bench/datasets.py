"""The two shared extraction sets, their own scoring, a fixed dev/held-out split and a paired bootstrap.

* aeb (../shared/data/aeb): the Zyte article extraction benchmark. Metric as in its README: words
  by ``\\w+``, bags of overlapping 4-word shingles (1 to 3 words: one shingle), per-page tp/fp/fn;
  precision = mean over pages with a non-empty prediction, recall = mean over all pages, F1 of the
  two means.
* trafeval (../shared/data/trafeval): trafilatura's evaluation pages. A ``with`` snippet found
  (whitespace-normalised substring) is a tp, missing a fn; a ``without`` snippet found is a fp;
  counts pooled over pages, F1 of the pooled counts.

Split: a page is held out when the first byte of sha256(its id) is odd. The rule was fixed before
any tuning; tuning looks at dev pages only, and every figure is reported for both halves.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Page:
    id: str
    url: str | None
    body: bytes


def split_of(page_id: str) -> str:
    return "held-out" if hashlib.sha256(page_id.encode("utf-8")).digest()[0] % 2 else "dev"


def page_url(page: Page) -> str:
    """The page's URL, or a stand-in on a reserved domain when the set gives none."""
    return page.url or f"https://unknown.invalid/{page.id}"


# -- aeb ---------------------------------------------------------------------------------------

def load_aeb(path: Path = DATA / "aeb") -> tuple[list[Page], dict[str, str]]:
    ground = json.loads((path / "ground-truth.json").read_text(encoding="utf-8"))
    pages = [Page(key, item["url"], gzip.decompress((path / "html" / f"{key}.html.gz").read_bytes()))
             for key, item in ground.items()]
    return pages, {key: item["articleBody"] for key, item in ground.items()}


def shingles(text: str, n: int = 4) -> Counter:
    words = WORD.findall(text or "")
    if not words:
        return Counter()
    if len(words) < n:
        return Counter([tuple(words)])
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def aeb_counts(predicted: str, expected: str) -> tuple[float | None, float]:
    """(precision or None for an empty prediction, recall) of one page."""
    got, gold = shingles(predicted), shingles(expected)
    tp = sum((got & gold).values())
    fp = sum(got.values()) - tp
    fn = sum(gold.values()) - tp
    return (tp / (tp + fp) if got else None), (tp / (tp + fn) if tp + fn else 1.0)


def aeb_score(rows: list[tuple[float | None, float]]) -> dict[str, float]:
    precisions = [p for p, _ in rows if p is not None]
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(r for _, r in rows) / len(rows) if rows else 0.0
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "precision": p, "recall": r,
            "empty": len(rows) - len(precisions)}


def score(predictions: dict[str, str], truth: dict[str, str]) -> dict[str, float]:
    """The AEB metric over ``truth``'s pages (kept for callers of the older bench API)."""
    return aeb_score([aeb_counts(predictions.get(key, ""), expected) for key, expected in truth.items()])


# -- trafeval ----------------------------------------------------------------------------------

def load_trafeval(path: Path = DATA / "trafeval") -> tuple[list[Page], dict[str, dict]]:
    snippets = json.loads((path / "snippets.json").read_text(encoding="utf-8"))
    pages = [Page(name, item["url"], gzip.decompress((path / "html" / f"{name}.gz").read_bytes()))
             for name, item in snippets.items()]
    return pages, snippets


def _squeeze(text: str) -> str:
    return " ".join((text or "").split())


def trafeval_counts(predicted: str, item: dict) -> tuple[int, int, int, int]:
    """(tp, fn, fp, tn) of one page."""
    text = _squeeze(predicted)
    found = [_squeeze(s) in text for s in item["with"]]
    leaked = [_squeeze(s) in text for s in item["without"]]
    return sum(found), len(found) - sum(found), sum(leaked), len(leaked) - sum(leaked)


def trafeval_score(rows: list[tuple[int, int, int, int]]) -> dict[str, float]:
    tp, fn, fp, _ = (sum(column) for column in zip(*rows)) if rows else (0, 0, 0, 0)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "precision": p, "recall": r}


# -- paired bootstrap --------------------------------------------------------------------------

def paired_bootstrap(ours: list, theirs: list, scorer, *, rounds: int = 2000, seed: int = 12) -> tuple[float, float]:
    """95 % interval of scorer(ours) - scorer(theirs) over pages resampled with replacement
    (the same resample for both, so the page-to-page variation cancels out)."""
    rng = random.Random(seed)
    n = len(ours)
    diffs = []
    for _ in range(rounds):
        picks = [rng.randrange(n) for _ in range(n)]
        diffs.append(scorer([ours[i] for i in picks])["f1"] - scorer([theirs[i] for i in picks])["f1"])
    diffs.sort()
    return diffs[int(0.025 * rounds)], diffs[int(0.975 * rounds) - 1]
