"""Quality gate: the extractor's F1 on the public article extraction benchmark stays above a floor.

The metric and the benchmark loader are bench/extraction.py's; speed is the benchmark's job,
not this test's. The data lives in ../shared/data/aeb beside the repo (as in CI).
"""

import gzip
import json

import pytest

from bench.extraction import F1_FLOOR, REPO, score
from crawler.extract import extract

AEB = REPO.parent / "shared" / "data" / "aeb"


@pytest.mark.skipif(not (AEB / "ground-truth.json").exists(), reason="benchmark data not beside the repo")
def test_f1_on_the_article_extraction_benchmark_stays_above_the_floor():
    ground = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    predictions = {
        key: extract(gzip.decompress((AEB / "html" / f"{key}.html.gz").read_bytes()), item["url"]).text
        for key, item in ground.items()
    }
    result = score(predictions, {key: item["articleBody"] for key, item in ground.items()})
    assert result["empty"] <= 2
    assert result["f1"] >= F1_FLOOR, result
