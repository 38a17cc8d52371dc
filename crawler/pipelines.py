"""Item pipelines: extract the clean article from a fetched page (in the extraction pool), then
archive it (in a batch).

Nothing here holds the reactor thread for long: pages are extracted by worker processes
(crawler/extraction_pool.py) and written in batches by the archive's writer thread
(crawler/batch_writer.py); each item waits for its own outcome as a Deferred.

Rejected items raise named DropItem subclasses, so Scrapy's stats count drops per reason
(``item_dropped_reasons_count/Blocked``...), which `stats` shows to operators. Every rejection is
also written with the batch (the frontier counts a failed attempt; a block adds a blocked fetch).

Learned furniture (archive/furniture.py): the page is extracted once without it, its lines are
kept for learning, and the site's known furniture is removed by fingerprint, in the extraction
worker, which then computes the near-duplicate keys of the text as archived. The batch counts
the lines of its new pages and returns the lines that became furniture; the site's older
articles holding them are then re-cleaned (archive/reclean.py), in the writer thread, with the
extraction pool doing the extracting.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.exc import SQLAlchemyError

from archive import disk_reserve, furniture
from archive.batch import BatchItem, Rejected, SavedBatch
from archive.db import Database, first_line
from archive.reclean import reclean
from archive.store import ArticleFields, Outcome, Page
from archive.text import line_fingerprint
from archive.urls import site_of
from crawler import fork_server
from crawler.archive_io import archive_io_for
from crawler.archive_link import database_for, run_id_for
from crawler.batch_writer import BatchWriter
from crawler.claim_returns import ClaimReturns
from crawler.extract import Article, extract
from crawler.extraction_pool import ExtractionFailed, ExtractionPool, Prepared, extract_for_archive, ready_for_archive
from crawler.site_selectors import site_drop_selectors
from crawler.stored_pages import stored_page_text

logger = logging.getLogger(__name__)

FURNITURE_REFRESH_ITEMS = 50  # a site's furniture set is re-read after this many of its pages


class EmptyBody(DropItem):
    """The page had no article text."""


class NotAnArticle(DropItem):
    """The page's text is not an article (no sentences, one word repeated): Article.rejected says why."""


class Blocked(DropItem):
    """The server answered with a challenge, consent or login wall instead of the article."""


class ExtractionAbandoned(DropItem):
    """The extraction of the page took too long, ran out of memory or crashed its worker."""


class UnchangedArticle(DropItem):
    """Re-fetched, and the clean text is the same as the archived revision."""


class ArchiveWriteFailed(DropItem):
    """The archive refused the write (disk full, read-only, database gone): the URL stays pending."""


class SiteFurniture:
    """The learned furniture of the sites one crawl meets: known lines removed from new pages, and
    a site's older articles re-cleaned when a batch made new furniture."""

    def __init__(self, db: Database, refresh_items: int, pool: ExtractionPool | None, stats=None):
        self.db, self.refresh_items, self.pool, self.stats = db, max(1, refresh_items), pool, stats
        self._sets: dict[str, frozenset[int]] = {}
        self._uses: dict[str, int] = {}

    def fingerprints(self, site: str) -> frozenset[int]:
        uses = self._uses.get(site, 0)
        if site not in self._sets or uses >= self.refresh_items:
            self._load(site)
        self._uses[site] = self._uses.get(site, 0) + 1
        return self._sets[site]

    def _load(self, site: str) -> None:
        with self.db.session() as session:
            self._sets[site] = furniture.furniture_fingerprints(session, site)
        self._uses[site] = 0

    def learned(self, batch: SavedBatch) -> None:
        """After a batch (in the writer thread): re-clean each site's articles holding its new lines."""
        for site, new in batch.new_furniture.items():
            self._load(site)
            logger.info("%s: %d new furniture line(s): %s", site, len(new),
                        "; ".join(repr(line[:60]) for line in new.values()))
            summary = reclean(self.db, site, list(new.values()), self._reextract_for(site),
                              affected=lambda text: any(line_fingerprint(line) in new for line in text.splitlines()))
            if self.stats is not None and summary.changed:
                self.stats.inc_value("newsarchive/furniture/recleaned", summary.changed)
            if summary.truncated:
                logger.warning("%s: re-cleaned the first %d articles holding the new furniture only", site,
                               summary.checked)

    def _reextract_for(self, site: str):
        extractor = self.pool.extract_waiting if self.pool is not None else extract

        def reextract(body, url, headers, fetched_at):
            return stored_page_text(body, url, headers, fetched_at, furniture=self._sets.get(site, frozenset()),
                                    selectors_for=site_drop_selectors, extractor=extractor)

        return reextract


def shared(crawler) -> tuple[ExtractionPool | None, SiteFurniture]:
    """The crawler's extraction pool (None: extraction inline, NEWSARCHIVE_EXTRACT_PROCESSES=0) and
    its furniture, made once for both pipelines."""
    made = getattr(crawler, "_newsarchive_extraction", None)
    if made is None:
        settings = crawler.settings
        from twisted.internet import reactor  # the one Scrapy installed (never before it does)

        pool = ExtractionPool.from_settings(settings, reactor) if fork_server.pool_wanted(settings) else None
        refresh = settings.getint("NEWSARCHIVE_FURNITURE_REFRESH_ITEMS", FURNITURE_REFRESH_ITEMS)
        site_furniture = SiteFurniture(database_for(crawler), refresh, pool, crawler.stats)
        made = crawler._newsarchive_extraction = (pool, site_furniture)
    return made


class ExtractPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.learning = crawler.settings.getbool("NEWSARCHIVE_LEARN_FURNITURE", True)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        self.pool, self.furniture = shared(self.crawler)

    def close_spider(self, spider=None):
        if self.pool is not None:
            self.pool.close()

    async def process_item(self, item, spider=None):
        url = item.get("final_url") or item["url"]
        options = {"encoding": item.get("encoding"), "feed_date": item.get("feed_date"),
                   "drop_selectors": tuple(item.get("drop_selectors") or ())}
        # the site's known furniture goes to the worker, which removes it (pipelines doc)
        known = self.furniture.fingerprints(site_of(url)) if self.learning else None
        try:
            if self.pool is None:
                prepared = extract_for_archive(item["body"], url, options, known)
            else:
                prepared = await maybe_deferred_to_future(self.pool.extract_for_archive(item["body"], url, known,
                                                                                        **options))
                if not isinstance(prepared, Prepared):  # a pool running another function (tests)
                    prepared = ready_for_archive(prepared, known)
        except ExtractionFailed as exc:
            self.crawler.stats.inc_value(f"newsarchive/extraction_failed/{exc.reason}")
            logger.warning("extraction of %s abandoned: %s", url, exc)
            item["extraction_error"] = str(exc)
            return item
        item["article"], item["lines"], item["band_keys"] = prepared
        return item


class ArchivePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        from twisted.internet import reactor  # the one Scrapy installed (never before it does)

        settings = self.crawler.settings
        _, site_furniture = shared(self.crawler)
        self.run_id = run_id_for(self.crawler)
        self.claim_returns: ClaimReturns | None = None
        disk_reserve.hold(database_for(self.crawler).url)
        self.writer = BatchWriter(database_for(self.crawler), archive_io_for(self.crawler), reactor,
                                  size=settings.getint("NEWSARCHIVE_BATCH_SIZE", 50),
                                  wait=settings.getfloat("NEWSARCHIVE_BATCH_WAIT", 0.25),
                                  on_batch=site_furniture.learned)

    async def close_spider(self, spider=None):
        await maybe_deferred_to_future(self.writer.close())
        disk_reserve.release(self.writer.db.url)  # the pages are written: room for the run's last records

    def _claims(self) -> ClaimReturns:
        if self.claim_returns is None:
            from twisted.internet import reactor

            self.claim_returns = ClaimReturns(database_for(self.crawler), archive_io_for(self.crawler), reactor,
                                              self.crawler.spider.holder)
        return self.claim_returns

    async def process_item(self, item, spider=None):
        entry, drop = self._entry(item)
        try:
            result = await maybe_deferred_to_future(self.writer.add(entry))
        except (SQLAlchemyError, OSError) as exc:
            return self._failed(item, first_line(exc))
        if drop is not None:
            raise drop
        if not result.ok:
            return self._failed(item, result.error or "refused")
        saved = result.saved
        self.stats.inc_value(f"newsarchive/articles/{saved.outcome.value}")
        article: Article = item["article"]
        item.update(canonical_url=saved.canonical_url, outcome=saved.outcome.value, title=article.title,
                    text=article.text, author=article.author, published=article.published,
                    language=article.language, site=article.site)  # what `scrapy crawl -O` exports
        if saved.outcome is Outcome.UNCHANGED:
            raise UnchangedArticle(f"unchanged: {saved.canonical_url}", log_level="DEBUG")
        logger.info("archived %s (%s, revision %d)", saved.canonical_url, saved.outcome.value, saved.revision)
        return item

    def _failed(self, item, reason: str):
        # One line per page, counted as a run error; the frontier still holds the URL as pending.
        self.stats.inc_value("newsarchive/errors")
        self.stats.inc_value("newsarchive/archive_failures")
        logger.error("could not archive %s: %s", item["url"], reason)
        self._claims().give_back(item["url"])  # the next poll or run fetches it again
        raise ArchiveWriteFailed(f"archive write failed: {item['url']}", log_level="DEBUG")

    def _entry(self, item) -> tuple[BatchItem | Rejected, DropItem | None]:
        """What the batch writes for this page, and the drop to raise once it is written."""
        url = item["url"]
        if item.get("extraction_error"):
            why = item["extraction_error"]
            return (Rejected(url, f"extraction abandoned: {why}"),
                    ExtractionAbandoned(f"extraction abandoned ({why}): {url}", log_level="INFO"))
        article: Article = item["article"]
        refusal = article.refusal
        if refusal and article.blocked:
            return (Rejected(url, refusal, blocked=article.blocked, site=article.site,
                             status=item.get("status"), run_id=self.run_id),
                    Blocked(f"{article.blocked}: {url}", log_level="INFO"))
        if refusal:
            drop = EmptyBody(f"no article text: {url}", log_level="INFO") if not article.text.strip() \
                else NotAnArticle(f"not an article ({article.rejected}): {url}", log_level="INFO")
            return Rejected(url, refusal), drop
        page = Page(url=url, final_url=item.get("final_url"), status=item["status"],
                    headers=item["headers"], body=item["body"])
        fields = ArticleFields(text=article.text, title=article.title, author=article.author,
                               published=article.published, updated=article.updated,
                               language=article.language, canonical_url=article.canonical_url,
                               band_keys=item.get("band_keys"))
        return BatchItem(page, fields, source_id=item.get("source_id"), frontier_url=url,
                         lines=item.get("lines") or {}, site=article.site), None
