"""Score crawler.extract on the Zyte article extraction benchmark, next to raw trafilatura.

Usage: python bench/extraction.py [PATH_TO_AEB]   (default: ../shared/data/aeb from the repo root)

Metric (as in the benchmark's README): words by the regex ``\\w+``, bags of overlapping
4-word shingles (a text of 1 to 3 words is one shingle), per-page tp/fp/fn; precision is the
mean over pages with a non-empty prediction, recall the mean over all pages, F1 from the two
means. Exits non-zero when our F1 is below the floor or our speed falls below 0.8x raw
trafilatura's in the same run, so it can gate CI.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import trafilatura

from crawler.extract import extract

REPO = Path(__file__).resolve().parent.parent

F1_FLOOR = 0.964
SPEED_FLOOR = 0.8
WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter:
    words = WORD.findall(text or "")
    if not words:
        return Counter()
    if len(words) < n:
        return Counter([tuple(words)])
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def score(predictions: dict[str, str], truth: dict[str, str]) -> dict[str, float]:
    precisions, recalls, empty = [], [], 0
    for key, expected in truth.items():
        predicted, gold = shingles(predictions.get(key, "")), shingles(expected)
        tp = sum((predicted & gold).values())
        fp = sum(predicted.values()) - tp
        fn = sum(gold.values()) - tp
        if predicted:
            precisions.append(tp / (tp + fp))
        else:
            empty += 1
        recalls.append(tp / (tp + fn) if tp + fn else 1.0)
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"f1": f1, "precision": p, "recall": r, "empty": empty}


def run(extractors: dict[str, Callable[[bytes, str], str]], pages: dict[str, bytes], urls: dict[str, str], repeat: int):
    """Predictions and pages/s of each extractor. The extractors take turns page by page and
    each page's time is its best of ``repeat`` runs, so load on the machine hits both alike."""
    predictions = {name: {} for name in extractors}
    best = {name: {} for name in extractors}
    for _ in range(repeat):
        for key, body in pages.items():
            for name, fn in extractors.items():
                started = time.perf_counter()
                predictions[name][key] = fn(body, urls[key]) or ""
                elapsed = time.perf_counter() - started
                best[name][key] = min(elapsed, best[name].get(key, elapsed))
    return predictions, {name: len(pages) / sum(times.values()) for name, times in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(REPO.parent / "shared" / "data" / "aeb"))
    parser.add_argument("--repeat", type=int, default=3, help="time each page N times, keep the best")
    parser.add_argument("--show-worst", type=int, default=0, help="list the N worst pages (ours)")
    args = parser.parse_args(argv)

    data = Path(args.data)
    ground = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    truth = {key: item["articleBody"] for key, item in ground.items()}
    urls = {key: item["url"] for key, item in ground.items()}
    pages = {key: gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes()) for key in ground}

    raw = lambda body, url: trafilatura.extract(body)  # noqa: E731  (defaults, as published)
    ours = lambda body, url: extract(body, url).text  # noqa: E731

    # warm up both (imports, lazy tables) so neither pays one-off costs in its timing
    key0 = next(iter(pages))
    raw(pages[key0], urls[key0]), ours(pages[key0], urls[key0])

    predictions, speeds = run({"raw trafilatura": raw, "ours": ours}, pages, urls, args.repeat)
    results = {name: (score(predictions[name], truth), speeds[name], predictions[name]) for name in predictions}

    print(f"{len(pages)} pages from {data}")
    print(f"{'':16} {'F1':>6} {'P':>6} {'R':>6} {'empty':>5} {'pages/s':>8}")
    for name, (m, speed, _) in results.items():
        print(f"{name:16} {m['f1']:6.4f} {m['precision']:6.4f} {m['recall']:6.4f} {m['empty']:5d} {speed:8.1f}")
    ours_m, ours_speed, ours_pred = results["ours"]
    ratio = ours_speed / results["raw trafilatura"][1]
    print(f"speed ratio ours/raw: {ratio:.2f}")

    if args.show_worst:
        per_page = []
        for key in truth:
            m = score({key: ours_pred[key]}, {key: truth[key]})
            per_page.append((m["f1"], m["precision"], m["recall"], key))
        for f1, p, r, key in sorted(per_page)[: args.show_worst]:
            print(f"  {f1:.3f} P={p:.3f} R={r:.3f} {key[:12]} {urls[key]}")

    failures = []
    if ours_m["f1"] < F1_FLOOR:
        failures.append(f"F1 {ours_m['f1']:.3f} is below the floor {F1_FLOOR}")
    if ratio < SPEED_FLOOR:
        failures.append(f"speed ratio {ratio:.2f} is below {SPEED_FLOOR}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
