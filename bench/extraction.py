"""Score crawler.extract on both shared extraction sets, next to trafilatura, in one run.

Usage: python bench/extraction.py [--only dev|held-out] [--repeat N] [--show-worst N] [--cold]

For each set (aeb: the benchmark's F1; trafeval: the set's pooled segment F1, see bench/datasets.py)
and each half of the fixed dev/held-out split: ours, trafilatura with its defaults and trafilatura
with include_comments=False + favor_precision=True; the paired bootstrap 95 % interval of
ours - the better trafilatura; pages/s of each (the extractors take turns page by page, so load on
the machine hits all alike); metadata accuracy (title, author, date) on bench/metadata-truth.json,
ours beside trafilatura's extract_metadata. Before a set is timed, each extractor extracts WARM_UP
pages of the other set, untimed, and ours loads every date locale as the long-running engine's
fork server does (crawler/date_locales_warmup.py): imports and lazy loads (dateparser's locales,
jusText's stop lists) are paid once per process, by the engine's pool once, not once per page
(--cold: without the locales, as a one-shot crawl's workers run). Exits non-zero
when an F1 is below its floor or our speed is under SPEED_FLOOR x trafilatura's defaults.
"""

from __future__ import annotations

import argparse
import sys
import time

import trafilatura

from bench import metadata
from bench.datasets import (
    aeb_counts,
    aeb_score,
    load_aeb,
    load_trafeval,
    page_url,
    paired_bootstrap,
    split_of,
    trafeval_counts,
    trafeval_score,
)
from crawler.extract import extract
from crawler.text_dates import load_all_date_locales

# floors the test suite gates (tests/test_extraction_quality.py), on each whole set
AEB_FLOOR = 0.970
TRAFEVAL_FLOOR = 0.930
SPEED_FLOOR = 0.8
SPLITS = ("dev", "held-out")
WARM_UP = 20


def ours(body: bytes, url: str):
    article = extract(body, url)
    kept = "" if article.blocked or article.rejected else article.text  # what the archive stores
    return kept, {"title": article.title, "author": article.author, "date": article.published}


def trafilatura_default(body: bytes, url: str):
    return trafilatura.extract(body, url=url) or "", None


def trafilatura_precision(body: bytes, url: str):
    return trafilatura.extract(body, url=url, include_comments=False, favor_precision=True) or "", None


EXTRACTORS = {"ours": ours, "trafilatura default": trafilatura_default,
              "trafilatura precision": trafilatura_precision}


def warm_up(pages, *, locales: bool = True) -> None:
    if locales:
        load_all_date_locales()
    for page in pages:
        for fn in EXTRACTORS.values():
            fn(page.body, page_url(page))


def run_set(pages, repeat: int):
    """{extractor: {page id: (text, metadata)}} and {extractor: seconds}, best of ``repeat`` per page."""
    outputs = {name: {} for name in EXTRACTORS}
    seconds = {name: 0.0 for name in EXTRACTORS}
    for page in pages:
        url = page_url(page)
        for name, fn in EXTRACTORS.items():
            best = None
            for _ in range(repeat):
                started = time.perf_counter()
                outputs[name][page.id] = fn(page.body, url)
                elapsed = time.perf_counter() - started
                best = elapsed if best is None else min(best, elapsed)
            seconds[name] += best
    return outputs, seconds


def report_set(label, pages, counts_of, scorer, outputs, seconds, show_worst):
    print(f"\n== {label}: {len(pages)} pages")
    print(f"{'':24}{'split':>9} {'pages':>5} {'F1':>6} {'P':>6} {'R':>6}")
    figures = {}
    for split in (*SPLITS, "all"):
        keys = [p.id for p in pages if split == "all" or split_of(p.id) == split]
        if not keys:
            continue
        rows = {name: [counts_of(outputs[name][k][0], k) for k in keys] for name in EXTRACTORS}
        scores = {name: scorer(rows[name]) for name in EXTRACTORS}
        figures[split] = scores["ours"]["f1"]
        for name, s in scores.items():
            empty = f" empty {s['empty']}" if "empty" in s else ""
            print(f"{name:24}{split:>9} {len(keys):5d} {s['f1']:6.4f} {s['precision']:6.4f} {s['recall']:6.4f}{empty}")
        best = max(("trafilatura default", "trafilatura precision"), key=lambda n: scores[n]["f1"])
        low, high = paired_bootstrap(rows["ours"], rows[best], scorer)
        diff = scores["ours"]["f1"] - scores[best]["f1"]
        print(f"{'ours - ' + best:>40}: {diff:+.4f}  95% CI [{low:+.4f}, {high:+.4f}]")
        if show_worst and split != "all":
            ranked = sorted((scorer([r])["f1"], k) for k, r in zip(keys, rows["ours"]))
            for f1, k in ranked[:show_worst]:
                print(f"    worst {f1:.3f} {k[:60]}")
    ratio = (len(pages) / seconds["ours"]) / (len(pages) / seconds["trafilatura default"])
    print("pages/s: " + ", ".join(f"{name} {len(pages) / s:.1f}" for name, s in seconds.items())
          + f"; ours/default {ratio:.2f}")
    return figures, ratio


def report_metadata(label, pages, outputs, truth):
    chosen = [p for p in pages if p.id in truth]
    if not chosen:
        return
    ours_pred = {p.id: outputs["ours"][p.id][1] for p in chosen}
    theirs = {}
    for p in chosen:
        doc = trafilatura.extract_metadata(p.body, default_url=page_url(p))
        theirs[p.id] = {"title": doc.title, "author": doc.author, "date": doc.date} if doc else {}
    print(f"metadata, {label} ({len(chosen)} pages of bench/metadata-truth.json):")
    for split in (*SPLITS, "all"):
        keys = {k: v for k, v in truth.items() if k in ours_pred and (split == "all" or split_of(k) == split)}
        if not keys:
            continue
        for name, pred in (("ours", ours_pred), ("trafilatura", theirs)):
            acc = metadata.accuracy(pred, keys)
            cells = "  ".join(f"{f} {a['right']}/{a['of']} ({a['right'] / max(a['of'], 1):.0%})"
                              for f, a in acc.items())
            print(f"  {name:12}{split:>9}: {cells}  (author invented: {acc['author']['invented']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=SPLITS, help="score one half of the split only (tune on dev)")
    parser.add_argument("--repeat", type=int, default=1, help="time each page N times, keep the best")
    parser.add_argument("--show-worst", type=int, default=0, help="list the N worst pages of ours per split")
    parser.add_argument("--sets", default="aeb,trafeval")
    parser.add_argument("--metadata-only", action="store_true", help="only the pages of the metadata truth")
    parser.add_argument("--cold", action="store_true", help="do not load every date locale before timing")
    args = parser.parse_args(argv)
    truth = metadata.load_truth() if metadata.TRUTH.exists() else {}

    failures = []
    sets = {"aeb": (load_aeb, lambda truths: (lambda text, k: aeb_counts(text, truths[k])), aeb_score, AEB_FLOOR),
            "trafeval": (load_trafeval, lambda truths: (lambda text, k: trafeval_counts(text, truths[k])),
                         trafeval_score, TRAFEVAL_FLOOR)}
    loaded = {}  # each set read once: the warm-up of one set uses the other's pages

    def load(name):
        if name not in loaded:
            loaded[name] = sets[name][0]()
        return loaded[name]

    for name in args.sets.split(","):
        _, make_counts, scorer, floor = sets[name]
        warm_up(load(next(n for n in sets if n != name))[0][:WARM_UP], locales=not args.cold)
        pages, truths = load(name)
        pages = [p for p in pages if (not args.only or split_of(p.id) == args.only)
                 and (not args.metadata_only or p.id in truth.get(name, {}))]
        outputs, seconds = run_set(pages, args.repeat)
        figures, ratio = report_set(name, pages, make_counts(truths), scorer, outputs, seconds, args.show_worst)
        report_metadata(name, pages, outputs, truth.get(name, {}))
        if not (args.only or args.metadata_only) and figures["all"] < floor:
            failures.append(f"{name}: F1 {figures['all']:.4f} is below the floor {floor}")
        if ratio < SPEED_FLOOR:
            failures.append(f"{name}: speed ratio {ratio:.2f} is below {SPEED_FLOOR}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
