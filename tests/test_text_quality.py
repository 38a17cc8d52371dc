"""The sentence test that tells prose from tables and keyword lists: the same answers as the one
regex it replaces, found in one pass (the regex was quadratic in long texts with no full stop)."""

from __future__ import annotations

import random
import re

import pytest

from crawler.text_quality import has_sentence, rejection_reason

SENTENCE_REGEX = re.compile(r"\w[^.!?。！？]{10,}[.!?。！？…]")


@pytest.mark.parametrize("alphabet", ["ab c.!?…。 \n-'1é", "a      ...!!…", "是的。！？ 一二三…x"])
def test_same_answers_as_the_regex_on_random_texts(alphabet):
    rng = random.Random(alphabet)
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert has_sentence(text) == bool(SENTENCE_REGEX.search(text)), repr(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("Le conseil municipal a voté.", True),
    ("Court. Bref! Non?", False),  # no run of ten characters before a full stop
    ("Une phrase qui finit en suspens…", True),
    ("Une phrase sans fin mais assez longue", False),
    ("。。。。 short…", False),
    ("这是一个很长的中文句子没有空格但是有句号。", True),
])
def test_sentences(text, expected):
    assert has_sentence(text) is expected


def test_a_long_table_without_full_stops_is_no_article_unless_prose_follows_it():
    table = "\n".join(f"{i}\nok" for i in range(20000))  # 100,000 characters, no full stop
    assert rejection_reason(table) == "no-sentences"
    assert rejection_reason(table + "\nLe conseil municipal a voté le budget hier soir.") is None
