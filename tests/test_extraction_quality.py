"""Quality gate: the extractor's F1 on both shared sets stays above pinned floors.

aeb: the public article extraction benchmark (its own F1); trafeval: trafilatura's evaluation
pages (segment F1 of pooled counts). Metrics and loaders are bench/datasets.py's, the floors
bench/extraction.py's; speed is the benchmark's job, not this test's. Pages are extracted in a
two-process pool to keep the gate near 30 s on a 2-core machine.
"""

from concurrent.futures import ProcessPoolExecutor

import pytest

from bench.datasets import (
    DATA,
    aeb_counts,
    aeb_score,
    load_aeb,
    load_trafeval,
    page_url,
    trafeval_counts,
    trafeval_score,
)
from bench.extraction import AEB_FLOOR, TRAFEVAL_FLOOR
from crawler.extract import extract

pytestmark = pytest.mark.skipif(not (DATA / "aeb" / "ground-truth.json").exists()
                                or not (DATA / "trafeval" / "snippets.json").exists(),
                                reason="shared extraction sets not beside the repo")


def _text(body: bytes, url: str) -> str:
    return extract(body, url).text


def _texts(pages) -> list[str]:
    with ProcessPoolExecutor(2) as pool:
        return list(pool.map(_text, [p.body for p in pages], [page_url(p) for p in pages], chunksize=8))


@pytest.mark.timeout(300)
def test_f1_on_both_extraction_sets_stays_above_the_floors():
    aeb_pages, aeb_truth = load_aeb()
    traf_pages, snippets = load_trafeval()
    texts = _texts(aeb_pages + traf_pages)
    aeb = aeb_score([aeb_counts(t, aeb_truth[p.id]) for p, t in zip(aeb_pages, texts)])
    traf = trafeval_score([trafeval_counts(t, snippets[p.id]) for p, t in zip(traf_pages, texts[len(aeb_pages):])])
    assert aeb["empty"] <= 2
    assert aeb["f1"] >= AEB_FLOOR, aeb
    assert traf["f1"] >= TRAFEVAL_FLOOR, traf
