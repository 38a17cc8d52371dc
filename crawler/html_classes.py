"""The words of an element's class attribute, whatever the naming style.

"articleDek", "article__img-caption", "sub_title" -> article, dek / article, img, caption /
sub, title: rules that recognise a block by what its class names it (a deck, a caption) compare
words, not substrings ("decker", "captioned" are other words).
"""

from __future__ import annotations

import re

_CLASS_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def class_words(classes: str | None) -> list[str]:
    """Casefolded words of a class attribute, in order (camelCase, kebab, snake and BEM split)."""
    return [word.casefold() for word in _CLASS_WORD.findall(classes or "")]


def names_any(classes: str | None, words: frozenset[str]) -> bool:
    """Whether the class attribute names one of ``words``, also split in two ("sub-head")."""
    found = class_words(classes)
    return any(word in words or word + following in words for word, following in zip(found, [*found[1:], ""]))
