"""Archiving a batch of extracted pages in one transaction: what the crawl engine writes at a time.

One write transaction per batch holds everything a page changes: its article, revision, raw
page and indexes (archive/store.py), its frontier URL marked done, and its lines counted for
furniture learning. Killed at any moment, a batch is either all there or not there at all, and
then its URLs are still pending and fetched again: each page is archived exactly once.

Each item is written inside its own SAVEPOINT, so an item the database refuses (a unique-key
race lost to another writer, which is retried and then finds the winner's row; a value a
column cannot hold; a source removed meanwhile) is rolled back alone and reported as that
item's failure, its frontier URL counting a failed attempt, while the others commit.

Furniture (archive/furniture.py). A page is learned when its URL is first archived (a new
article or a copy of one). Before writing, the batch works out which lines the site's counts
make furniture once this batch's new pages are counted, and removes them from the batch's texts
(``fingerprint`` is the caller's line fingerprint; the archive never computes one): on a new
site's first batch that is `lines_on_every_page`'s rule (a sign-off on every page), so those
pages are written clean instead of being revised by a re-clean right after. Which items are new
is predicted from the archive (one indexed lookup for the whole batch) and checked after
writing; when a prediction failed (an item refused, a race), the batch is rolled back to its
start and written again with what really happened. The lines that became furniture are
returned per site: the caller re-cleans the site's older articles holding them
(archive/reclean.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Mapping, Sequence

from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from archive import dedup, frontier, furniture
from archive.db import Database, first_line
from archive.lookup import archived_urls
from archive.models import BlockedFetch
from archive.store import (
    SAVE_ATTEMPTS,
    ArticleFields,
    Outcome,
    Page,
    Saved,
    canonical_url_for,
    compress_bodies,
    save_in,
)
from archive.text import normalize_text, normalized_hash
from archive.urls import clean_url, normalize_site, site_of

BATCH_ATTEMPTS = 3  # a whole batch is retried after a PostgreSQL deadlock or serialization failure
ROUNDS = 3  # writes of a batch whose new-page prediction failed; the last removes no furniture
_RETRYABLE = {"40P01", "40001"}
FIRST_ARCHIVED = (Outcome.NEW, Outcome.DUPLICATE)


@dataclass(frozen=True)
class BatchItem:
    """One extracted page to archive: what `save_article` takes, plus its frontier URL and lines."""

    page: Page
    fields: ArticleFields  # its text already without the furniture the caller knew of
    source_id: int | None = None
    frontier_url: str | None = None  # marked done when the item is archived
    lines: Mapping[int, str] = field(default_factory=dict)  # fingerprint -> line, before furniture removal
    site: str | None = None  # the site its lines count for (default: its canonical URL's)


@dataclass(frozen=True)
class Rejected:
    """A fetched page that is not archived: its frontier URL counts a failure; a block is recorded."""

    url: str
    reason: str
    blocked: str | None = None  # challenge, consent, login...: also a blocked_fetches row
    site: str = ""
    status: int | None = None
    run_id: int | None = None


@dataclass(frozen=True)
class ItemResult:
    saved: Saved | None = None
    error: str | None = None  # one line: why the item was not archived

    @property
    def ok(self) -> bool:
        return self.saved is not None


@dataclass(frozen=True)
class SavedBatch(Sequence[ItemResult]):
    """One result per item, in order; and the lines that became furniture, per site."""

    results: tuple[ItemResult, ...]
    new_furniture: Mapping[str, Mapping[int, str]]  # site -> {fingerprint: line}
    lines_removed: int = 0  # lines this batch removed from its own texts as furniture

    def __getitem__(self, index):
        return self.results[index]

    def __len__(self) -> int:
        return len(self.results)


@dataclass
class _Plan:
    first: set[int]  # items predicted to be first archived
    fields: dict[int, ArticleFields]
    new_furniture: dict[str, dict[int, str]]
    lines_removed: int = 0


def save_batch(db: Database, items: Iterable[BatchItem], *, rejected: Iterable[Rejected] = (),
               fingerprint: Callable[[str], int] | None = None) -> SavedBatch:
    """Archive ``items`` in one transaction (see the module doc); ``rejected`` pages are recorded
    in it too. A database that fails as a whole (gone, full, locked past the busy timeout) raises,
    and then nothing of the batch was written."""
    items, rejected = list(items), list(rejected)
    archived_as, sites, errors = {}, {}, {}  # item -> site archived under, site its lines count for
    for i, item in enumerate(items):
        try:
            archived_as[i] = site_of(canonical_url_for(item.page, item.fields))
        except ValueError as exc:  # not even the requested URL is a valid URL
            errors[i] = str(exc)
            continue
        sites[i] = normalize_site(item.site) if item.site else archived_as[i]
    bodies = dict(zip(archived_as, compress_bodies(db, [(archived_as[i], items[i].page) for i in archived_as])))
    for attempt in range(BATCH_ATTEMPTS):
        try:
            with db.transaction() as session:
                return _write(session, items, sites, bodies, dict(errors), rejected, fingerprint)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) not in _RETRYABLE or attempt == BATCH_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _write(session: Session, items, sites, bodies, errors, rejected, fingerprint) -> SavedBatch:
    observed: set[int] | None = None
    for round_ in range(ROUNDS):
        start = session.begin_nested()
        plan = _plan(session, items, sites, errors, observed, fingerprint if round_ < ROUNDS - 1 else None)
        results = _save_items(session, items, plan, bodies, errors)
        observed = {i for i, saved in results.items() if saved.outcome in FIRST_ARCHIVED}
        if observed == plan.first or round_ == ROUNDS - 1:
            break
        start.rollback()  # an item was refused or a race changed what is new: write it again as it is
    by_site: dict[str, list[Mapping[int, str]]] = {}
    for i in sorted(observed or (), key=lambda i: (sites[i], i)):
        if items[i].lines:
            by_site.setdefault(sites[i], []).append(items[i].lines)
    for site, pages in by_site.items():
        furniture.count_pages(session, site, pages)
    frontier.done_in(session, [items[i].frontier_url for i in results if items[i].frontier_url])
    for i, error in errors.items():
        if items[i].frontier_url:
            frontier.failed_in(session, items[i].frontier_url, error)
    for page in rejected:
        frontier.failed_in(session, page.url, page.reason)
        if page.blocked:
            session.add(BlockedFetch(url=page.url, site=page.site, reason=page.blocked, status=page.status,
                                     run_id=page.run_id))
    outcome = tuple(ItemResult(saved=results.get(i), error=errors.get(i)) for i in range(len(items)))
    return SavedBatch(outcome, {site: lines for site, lines in plan.new_furniture.items() if lines},
                      plan.lines_removed)


def _save_items(session, items, plan: _Plan, bodies, errors) -> dict[int, Saved]:
    results = {}
    known = _known_keys(session, [plan.fields[i] for i in plan.first])
    for i, item in enumerate(items):
        if i in errors:
            continue
        for attempt in range(SAVE_ATTEMPTS):
            try:
                with session.begin_nested():
                    results[i] = save_in(session, item.page, plan.fields[i], source_id=item.source_id,
                                         stored=bodies[i], known_new=i in plan.first and attempt == 0,
                                         known=known)
                break
            except IntegrityError as exc:  # a race: the retry finds the row the winner wrote
                if attempt == SAVE_ATTEMPTS - 1:
                    errors[i] = first_line(exc)
            except (DataError, ValueError) as exc:  # a value the database or the URL rules refuse
                errors[i] = first_line(exc)
                break
    return results


def _known_keys(session, new: list[ArticleFields]) -> dedup.KnownKeys:
    """The new texts' hashes and precomputed band keys, looked up at once (dedup.KnownKeys)."""
    hashes = {normalized_hash(normalize_text(fields.text)) for fields in new}
    keys = {key for fields in new if fields.band_keys is not None and fields.band_keys.text == fields.text
            for key in fields.band_keys.keys}
    return dedup.KnownKeys(session, hashes, keys)


def _variants(url: str | None) -> set[str]:
    if not url:
        return set()
    try:
        return {url, clean_url(url)}
    except ValueError:
        return {url}


def predict_first(session: Session, items: Sequence[BatchItem], candidates: Iterable[int]) -> set[int]:
    """Which items will be first archived: neither their canonical URL nor their URL is archived,
    nor was it archived by an earlier item of the batch (the lookups `save_in` makes, batched)."""
    keys = {i: _variants(canonical_url_for(items[i].page, items[i].fields)) | _variants(items[i].page.url)
            for i in candidates}
    known = archived_urls(session, {key for group in keys.values() for key in group})
    first: set[int] = set()
    seen: set[str] = set()
    for i in sorted(keys):
        if not keys[i] & (known | seen):
            first.add(i)
            seen |= keys[i] | _variants(items[i].page.final_url)
    return first


def _plan(session, items, sites, errors, observed, fingerprint) -> _Plan:
    """Each item's fields without the furniture the batch makes, and the lines that became
    furniture. An item left with no text is an error, which changes what is new: plan again."""
    while True:
        candidates = [i for i in range(len(items)) if i not in errors]
        first = predict_first(session, items, candidates) if observed is None else observed - set(errors)
        plan = _Plan(first, {i: items[i].fields for i in candidates}, {})
        for site in sorted({sites[i] for i in candidates}):
            members = [i for i in candidates if sites[i] == site]
            after, plan.new_furniture[site] = _site_furniture(
                session, site, [items[i].lines for i in members], [items[i].lines for i in members if i in first])
            if fingerprint is not None and after:
                for i in members:
                    _remove_lines(plan, i, items[i].fields, after, fingerprint)
        emptied = [i for i, fields in plan.fields.items() if not fields.text.strip()]
        if not emptied:
            return plan
        errors.update((i, "no article text" if not items[i].fields.text.strip() else
                       "no article text once the site's furniture is removed") for i in emptied)


def _remove_lines(plan: _Plan, i: int, fields: ArticleFields, lines: frozenset[int], fingerprint) -> None:
    text = fields.text.splitlines()
    kept = [line for line in text if fingerprint(line) not in lines]
    if len(kept) < len(text):
        plan.lines_removed += len(text) - len(kept)
        plan.fields[i] = replace(fields, text="\n".join(kept))


def _site_furniture(session, site, all_pages, new_pages) -> tuple[frozenset[int], dict[int, str]]:
    """(the site's furniture among these pages' lines once ``new_pages`` are counted, the lines
    of it that were not furniture before)."""
    samples = {fp: text for lines in all_pages for fp, text in furniture.page_lines(lines).items()}
    if not samples:
        return frozenset(), {}
    known = furniture.known_counts(session, site, samples)
    pages_before = furniture.learned_pages(session, site)
    pages_after = pages_before + len(new_pages)
    counted = Counter(fp for lines in new_pages for fp in furniture.page_lines(lines))
    after, new = set(), {}
    for fp in samples:
        pages, pinned = known.get(fp, (0, None))
        if furniture.is_furniture(pages + counted[fp], pinned, pages_after):
            after.add(fp)
            if not furniture.is_furniture(pages, pinned, pages_before):
                new[fp] = samples[fp]
    return frozenset(after), new
