"""Training the per-site zstd dictionaries that raw pages are compressed with (archive/rawpages.py).

A site gets its first dictionary once it has MIN_PAGES archived articles, trained from its newest
stored pages; it is retrained only when the site has grown RETRAIN_FACTOR times since (64, 640,
6,400... articles), so a site has a handful of dictionaries over its life. Pages archived after
a training use the new dictionary; older pages keep theirs (every dictionary stays readable)
unless `recompress_site` rewrites them.

Neither function belongs on the crawl's hot path: training takes about a second per site
(zstd's trainer over up to SAMPLE_PAGES pages), so the engine calls `train_site_dictionaries`
now and then, off the reactor thread. Pages are read in short read sessions and each
dictionary is written in its own short transaction; two engines training the same site at once
write one dictionary between them (the second sees the first and stops).
"""

from __future__ import annotations

from dataclasses import dataclass

import zstandard
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from archive.db import Database
from archive.models import Article, RawDictionary, RawPage, Revision
from archive.rawpages import Compressor, RawPageError, decompress, decompress_body, newest_dictionary

MIN_PAGES = 64
RETRAIN_FACTOR = 10
SAMPLE_PAGES = 128
SAMPLE_PAGE_BYTES = 1 << 20  # the first MiB of a page is its template; the rest is rarely shared
SAMPLE_BYTES = 32 << 20
# zstd's advice: samples about 100x the dictionary; 110 KB is its default and upper useful size
DICT_SIZE = 112_640
MIN_DICT_SIZE = 16_384
MIN_SAMPLES = 8  # zstd's trainer needs several pages to tell the template from one article
RECOMPRESS_BATCH = 100


@dataclass(frozen=True)
class Trained:
    site: str
    dictionary_id: int
    samples: int  # pages trained from
    site_pages: int  # the site's articles when trained
    size: int  # bytes of the dictionary


def sites_due(session: Session, *, min_pages: int = MIN_PAGES, retrain_factor: float = RETRAIN_FACTOR
              ) -> list[tuple[str, int]]:
    """(site, archived articles) of the sites that need a dictionary: none yet and at least
    ``min_pages`` articles, or ``retrain_factor`` times the articles their newest was trained at."""
    counts = session.execute(select(Article.site, func.count(Article.id)).group_by(Article.site)
                             .having(func.count(Article.id) >= min_pages)).all()
    newest = select(RawDictionary.site, func.max(RawDictionary.id).label("id")).group_by(RawDictionary.site).subquery()
    trained_at = dict(session.execute(select(RawDictionary.site, RawDictionary.site_pages)
                                      .join(newest, newest.c.id == RawDictionary.id)).all())
    return sorted(((site, pages) for site, pages in counts
                   if site not in trained_at or pages >= retrain_factor * trained_at[site]),
                  key=lambda due: (-due[1], due[0]))


def site_samples(session: Session, site: str, *, pages: int = SAMPLE_PAGES) -> list[bytes]:
    """The bodies of the site's newest stored pages, as training samples (bounded in bytes)."""
    raws = session.scalars(select(RawPage).join(Revision, Revision.raw_page_id == RawPage.id)
                           .join(Article, Article.id == Revision.article_id)
                           .where(Article.site == site).order_by(Revision.id.desc()).limit(pages))
    samples, total = [], 0
    for raw in raws:
        try:
            body = decompress(raw)[:SAMPLE_PAGE_BYTES]
        except RawPageError:
            continue  # an unreadable page teaches nothing; the others still do
        if not body or total + len(body) > SAMPLE_BYTES:
            continue
        samples.append(body)
        total += len(body)
    return samples


def train(samples: list[bytes]) -> zstandard.ZstdCompressionDict | None:
    """A dictionary from these samples, sized to them; None when zstd finds nothing to learn."""
    size = min(DICT_SIZE, max(MIN_DICT_SIZE, sum(map(len, samples)) // 50))
    try:
        return zstandard.train_dictionary(size, list[bytes | bytearray | memoryview](samples))
    except zstandard.ZstdError:  # too few or too small samples
        return None


def train_site_dictionaries(db: Database, *, min_pages: int = MIN_PAGES, retrain_factor: float = RETRAIN_FACTOR,
                            limit: int | None = None) -> list[Trained]:
    """Train a dictionary for every site that needs one (see `sites_due`), at most ``limit`` sites
    in this call; returns what was trained."""
    with db.session() as session:
        due = sites_due(session, min_pages=min_pages, retrain_factor=retrain_factor)
    trained = []
    for site, pages in due[:limit]:
        with db.session() as session:
            samples = site_samples(session, site)
        dictionary = train(samples) if len(samples) >= MIN_SAMPLES else None
        if dictionary is None:
            continue
        with db.transaction() as session:
            newest = newest_dictionary(session, site)
            if newest is not None and pages < retrain_factor * newest.site_pages:
                continue  # another engine trained this site meanwhile
            row = RawDictionary(site=site, samples=len(samples), site_pages=pages, zstd_id=dictionary.dict_id(),
                                data=dictionary.as_bytes())
            session.add(row)
            session.flush()
            trained.append(Trained(site, row.id, len(samples), pages, len(row.data)))
    return trained


def recompress_site(db: Database, site: str, *, batch: int = RECOMPRESS_BATCH, limit: int | None = None) -> int:
    """Rewrite the site's raw pages not compressed with its newest dictionary with it, where that
    makes them smaller, ``batch`` pages per short transaction; returns how many were rewritten.

    Each new body is checked to decompress to the same bytes before it replaces the old one, and
    a row changed meanwhile is left as it is: no page is ever lost or altered.
    """
    with db.session() as session:
        newest = newest_dictionary(session, site)
        if newest is None:
            return 0
        compressor = Compressor.for_dictionary(newest)
        dictionary_id, dictionary = newest.id, newest.data
    rewritten, last_id = 0, 0
    while limit is None or rewritten < limit:
        with db.session() as session:
            raws = list(session.scalars(
                select(RawPage).where(RawPage.id.in_(
                    select(Revision.raw_page_id).join(Article, Article.id == Revision.article_id)
                    .where(Article.site == site)), RawPage.id > last_id)
                .where((RawPage.dictionary_id.is_(None)) | (RawPage.dictionary_id != dictionary_id))
                .order_by(RawPage.id).limit(batch)))
            if not raws:
                return rewritten
            last_id = raws[-1].id
            changes = []
            for raw in raws:
                body = decompress(raw)
                compression, stored, _ = compressor.compress(body)
                if len(stored) < len(raw.body) and decompress_body(compression, stored, dictionary) == body:
                    changes.append((raw.id, raw.compression, raw.dictionary_id, compression, stored))
        with db.transaction() as session:
            for raw_id, old_compression, old_dictionary, compression, stored in changes:
                same = RawPage.dictionary_id.is_(None) if old_dictionary is None else \
                    RawPage.dictionary_id == old_dictionary
                rewritten += session.connection().execute(
                    update(RawPage).where(RawPage.id == raw_id, RawPage.compression == old_compression, same)
                    .values(compression=compression, body=stored, dictionary_id=dictionary_id)).rowcount
    return rewritten
