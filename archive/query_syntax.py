"""Search queries as users type them: words (AND-ed), "quoted phrases", ``OR`` between two
terms and ``-word`` / ``-"phrase"`` exclusions, parsed into a Query that archive/search.py
turns into an FTS5 expression or a tsquery made only of quoted alphanumeric words: user text
never reaches a search engine as syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.dedup import words

MAX_TERMS = 32


class QueryError(ValueError):
    """A search query that cannot be turned into a search (no words, only exclusions...)."""


@dataclass(frozen=True)
class Query:
    """A parsed query: all `clauses` must match (each clause: any of its terms), no `excluded`."""

    clauses: tuple[tuple[tuple[str, ...], ...], ...]
    excluded: tuple[tuple[str, ...], ...] = ()

    @property
    def words(self) -> set[str]:
        return {w for clause in self.clauses for term in clause for w in term}

    def fts5(self) -> str:
        def term(t):
            return '"' + " ".join(t) + '"'

        positive = " AND ".join("(" + " OR ".join(term(t) for t in clause) + ")" for clause in self.clauses)
        if not self.excluded:
            return positive
        return f"({positive}) NOT (" + " OR ".join(term(t) for t in self.excluded) + ")"

    def tsquery(self) -> str:
        def term(t):
            return "(" + " <-> ".join(f"'{w}'" for w in t) + ")"

        parts = ["(" + " | ".join(term(t) for t in clause) + ")" for clause in self.clauses]
        parts += [f"!{term(t)}" for t in self.excluded]
        return " & ".join(parts)


_TOKEN = re.compile(r'(?P<neg>-)?"(?P<phrase>[^"]*)"?|(?P<bare>[^\s"]+)')


def parse_query(user_text: str) -> Query:
    """Words are AND-ed; "a phrase"; a OR b; -word and -"a phrase" exclude. Raises QueryError."""
    clauses: list[list[tuple[str, ...]]] = []
    excluded: list[tuple[str, ...]] = []
    pending_or = False
    for match in _TOKEN.finditer(user_text or ""):
        bare = match.group("bare")
        if bare == "OR":
            pending_or = bool(clauses)
            continue
        negative = bool(match.group("neg")) or (bare is not None and bare.startswith("-") and len(bare) > 1)
        raw = match.group("phrase") if bare is None else bare.lstrip("-") if negative else bare
        term = tuple(words(raw))
        if not term:
            continue
        if negative:
            excluded.append(term)
        elif pending_or:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        pending_or = False
    if not clauses:
        if excluded:
            raise QueryError("a query needs at least one word that is not excluded with '-'")
        raise QueryError(f"nothing to search for in {user_text!r}: give at least one word")
    if sum(len(c) for c in clauses) + len(excluded) > MAX_TERMS:
        raise QueryError(f"too many terms in the query (at most {MAX_TERMS})")
    return Query(tuple(tuple(c) for c in clauses), tuple(excluded))
