"""What changed between two revisions of an article, readable in a terminal.

Paragraphs are compared first: added ones are shown with "+", removed ones with "-", unchanged
ones are elided. A paragraph that was edited (replaced by one similar to it) is shown once with
"~" and its word-level changes inline: [-removed words-]{+added words+}.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

CONTEXT = 1  # unchanged paragraphs shown around a change
SIMILAR = 0.5  # a replaced paragraph this similar to its successor is shown as an edit


@dataclass(frozen=True)
class Line:
    mark: str  # " " unchanged, "+" added, "-" removed, "~" edited, "…" elided
    text: str
    # an edited line's words as ("=" kept | "-" removed | "+" added, words) runs, for renderers
    # that mark them their own way (the web page) rather than with [-...-]{+...+}
    parts: tuple[tuple[str, str], ...] = ()

    def render(self) -> str:
        return f"{self.mark} {self.text}"


def word_changes(old: str, new: str) -> list[tuple[str, str]]:
    """The words of `new` and `old` as runs: ("=", kept), ("-", removed), ("+", added)."""
    a, b = old.split(), new.split()
    runs = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(("=", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("-", " ".join(a[i1:i2])))
        if j2 > j1:
            runs.append(("+", " ".join(b[j1:j2])))
    return runs


def word_diff(old: str, new: str) -> str:
    """`new` with the words of `old` it lost as [-...-] and the words it gained as {+...+}."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    return " ".join(marks[op].format(words) for op, words in word_changes(old, new))


def diff_paragraphs(old: str, new: str, *, context: int = CONTEXT) -> list[Line]:
    a, b = old.splitlines(), new.splitlines()
    lines: list[Line] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        if lines:
            lines.append(Line("…", ""))
        for op, i1, i2, j1, j2 in group:
            if op == "equal":
                lines.extend(Line(" ", p) for p in a[i1:i2])
            elif op == "delete":
                lines.extend(Line("-", p) for p in a[i1:i2])
            elif op == "insert":
                lines.extend(Line("+", p) for p in b[j1:j2])
            else:
                lines.extend(_replaced(a[i1:i2], b[j1:j2]))
    return lines


def _replaced(old: list[str], new: list[str]) -> list[Line]:
    lines = []
    for k in range(max(len(old), len(new))):
        before = old[k] if k < len(old) else None
        after = new[k] if k < len(new) else None
        if before is not None and after is not None and \
                difflib.SequenceMatcher(None, before.split(), after.split(), autojunk=False).ratio() >= SIMILAR:
            parts = tuple(word_changes(before, after))
            lines.append(Line("~", word_diff(before, after), parts))
            continue
        if before is not None:
            lines.append(Line("-", before))
        if after is not None:
            lines.append(Line("+", after))
    return lines


def render(old: str, new: str, *, old_label: str, new_label: str, old_title: str | None = None,
           new_title: str | None = None) -> str:
    """A whole diff as text: header, title change if any, paragraph lines."""
    out = [f"--- {old_label}", f"+++ {new_label}"]
    if (old_title or "") != (new_title or ""):
        out.append(f"title: {word_diff(old_title or '', new_title or '')}")
    lines = diff_paragraphs(old, new)
    if not lines:
        out.append("(no change in the text)")
    out.extend(line.render().rstrip() for line in lines)
    return "\n".join(out)
