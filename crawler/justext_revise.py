"""jusText's context-sensitive pass in linear time: the same classes as
``justext.core.revise_paragraph_classification``, which for each short or near-good paragraph walks
to its nearest good or bad neighbour on both sides. A run of k short paragraphs (the cells of a
long table, a list of links) costs it k² steps: 29 s for a page with a 10,000-row table, past the
extraction pool's time limit. Here the neighbours are found in one pass each way.

The paragraphs are jusText's, after ``classify_paragraphs`` (``cf_class``, ``heading``).
"""

from __future__ import annotations

from typing import Sequence

GOOD_OR_BAD = ("good", "bad")
NOT_SHORT = ("good", "bad", "neargood")
MAX_HEADING_DISTANCE = 200  # jusText's default


def _nearest(classes: Sequence[str], kinds: tuple[str, ...], step: int) -> list[str]:
    """For each position, the class of the nearest other position in ``step``'s direction whose
    class is one of ``kinds``; "bad" where there is none (jusText's edge of the page)."""
    found = ["bad"] * len(classes)
    last = "bad"
    order = range(len(classes)) if step > 0 else range(len(classes) - 1, -1, -1)
    for i in order:
        found[i] = last
        if classes[i] in kinds:
            last = classes[i]
    return found


def _good_follows(paragraphs, i: int, classes: Sequence[str], max_distance: int) -> bool:
    """Whether a paragraph of class "good" comes after paragraph ``i`` within ``max_distance``
    characters of text."""
    distance = 0
    for j in range(i + 1, len(paragraphs)):
        if distance > max_distance:
            return False
        if classes[j] == "good":
            return True
        distance += len(paragraphs[j].text)
    return False


def revise_paragraph_classification(paragraphs, max_heading_distance: int = MAX_HEADING_DISTANCE) -> None:
    """Set each paragraph's ``class_type`` from its ``cf_class`` and its neighbours, as jusText does."""
    # 1. A short heading with good text soon after it is near-good. (jusText looks ahead at the
    # classes the paragraphs had before this pass: it assigns them in the same loop.)
    before = [p.class_type for p in paragraphs]
    for i, paragraph in enumerate(paragraphs):
        paragraph.class_type = paragraph.cf_class
        if paragraph.heading and paragraph.class_type == "short" \
                and _good_follows(paragraphs, i, before, max_heading_distance):
            paragraph.class_type = "neargood"
    # 2. A short paragraph takes its class from its good or bad neighbours, all decided at once.
    classes = [p.class_type for p in paragraphs]
    prev_decided, next_decided = _nearest(classes, GOOD_OR_BAD, 1), _nearest(classes, GOOD_OR_BAD, -1)
    prev_any, next_any = _nearest(classes, NOT_SHORT, 1), _nearest(classes, NOT_SHORT, -1)
    for i, paragraph in enumerate(paragraphs):
        if classes[i] != "short":
            continue
        before_it, after_it = prev_decided[i], next_decided[i]
        if before_it == after_it:
            paragraph.class_type = before_it
        elif (before_it == "bad" and prev_any[i] == "neargood") or (after_it == "bad" and next_any[i] == "neargood"):
            paragraph.class_type = "good"
        else:
            paragraph.class_type = "bad"
    # 3. A near-good paragraph is bad between two bad ones, else good; decided left to right, so
    # the one before it is already decided.
    classes = [p.class_type for p in paragraphs]
    next_decided = _nearest(classes, GOOD_OR_BAD, -1)
    last = "bad"
    for i, paragraph in enumerate(paragraphs):
        if classes[i] == "neargood":
            paragraph.class_type = "bad" if (last, next_decided[i]) == ("bad", "bad") else "good"
        if paragraph.class_type in GOOD_OR_BAD:
            last = paragraph.class_type
    # 4. A heading judged bad by its neighbours only, with good text soon after it, is good (it
    # looks ahead only, where nothing has changed since step 3).
    classes = [p.class_type for p in paragraphs]
    for i, paragraph in enumerate(paragraphs):
        if paragraph.heading and classes[i] == "bad" and paragraph.cf_class != "bad" \
                and _good_follows(paragraphs, i, classes, max_heading_distance):
            paragraph.class_type = "good"
