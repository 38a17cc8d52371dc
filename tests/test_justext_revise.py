"""Our linear-time jusText context pass gives jusText's own classes, on random pages and on the
long runs of short paragraphs (table cells) that made jusText's quadratic."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from justext.core import revise_paragraph_classification as justext_revise

from crawler.justext_revise import revise_paragraph_classification

CLASSES = ("short", "neargood", "good", "bad")


def page(rng: random.Random, size: int, weights=(4, 2, 2, 2)) -> list[SimpleNamespace]:
    return [SimpleNamespace(cf_class=rng.choices(CLASSES, weights)[0], heading=rng.random() < 0.15,
                            text="x" * rng.choice((0, 3, 40, 120, 260)), class_type=rng.choice(("", "", "good")))
            for _ in range(size)]


def revised(revise, paragraphs, **kwargs) -> list[str]:
    copies = [SimpleNamespace(**vars(p)) for p in paragraphs]
    revise(copies, **kwargs)
    return [p.class_type for p in copies]


@pytest.mark.parametrize("seed", range(300))
def test_same_classes_as_justext_on_random_pages(seed):
    rng = random.Random(seed)
    paragraphs = page(rng, rng.randint(0, 60), weights=rng.choice([(4, 2, 2, 2), (8, 1, 1, 1), (1, 4, 1, 4)]))
    distance = rng.choice((200, 150, 0))
    assert revised(revise_paragraph_classification, paragraphs, max_heading_distance=distance) == \
        revised(justext_revise, paragraphs, max_heading_distance=distance)


def test_same_classes_on_a_long_table_of_short_cells():
    rng = random.Random(5)
    cells = [SimpleNamespace(cf_class="short", heading=False, text="12", class_type="") for _ in range(1500)]
    paragraphs = page(rng, 5) + cells + page(rng, 5)
    ours = revised(revise_paragraph_classification, paragraphs)
    assert ours == revised(justext_revise, paragraphs)
    assert set(ours) <= {"good", "bad"}
