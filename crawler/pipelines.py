"""Item pipelines: extract the clean article from a fetched page, then archive it.

Rejected items raise named DropItem subclasses, so Scrapy's stats count drops per reason
(``item_dropped_reasons_count/Blocked``...), which `stats` shows to operators.

Learned furniture (archive/furniture.py): the page is extracted once without it, its lines are
kept aside for learning, and the site's furniture lines are then filtered out by fingerprint
(the same as passing ``furniture=`` to `extract`). When a NEW article has been archived its
lines are counted; when that makes new furniture, the site's affected articles are re-cleaned.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from scrapy.exceptions import DropItem
from sqlalchemy.exc import SQLAlchemyError

from archive import frontier, furniture, runs
from archive.db import first_line
from archive.store import ArticleFields, Outcome, Page, save_article
from archive.text import line_fingerprint
from crawler.archive_link import database_for, run_id_for
from crawler.extract import Article, extract
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


class UnchangedArticle(DropItem):
    """Re-fetched, and the clean text is the same as the archived revision."""


class ArchiveWriteFailed(DropItem):
    """The archive refused the write (disk full, read-only, database gone): the URL stays pending."""


class SiteFurniture:
    """The learned furniture of the sites one crawl meets, shared by the two pipelines."""

    def __init__(self, crawler, refresh_items: int):
        self.crawler = crawler
        self.refresh_items = max(1, refresh_items)
        self._sets: dict[str, frozenset[int]] = {}
        self._uses: dict[str, int] = {}
        self._pending: dict[int, tuple[str, dict[int, str]]] = {}  # id(item) -> (site, page lines)

    @classmethod
    def for_crawler(cls, crawler) -> SiteFurniture:
        shared = getattr(crawler, "_newsarchive_furniture", None)
        if shared is None:
            refresh = crawler.settings.getint("NEWSARCHIVE_FURNITURE_REFRESH_ITEMS", FURNITURE_REFRESH_ITEMS)
            shared = crawler._newsarchive_furniture = cls(crawler, refresh)
        return shared

    @property
    def db(self):
        return database_for(self.crawler)

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

    def clean(self, item, article: Article) -> Article:
        """Keep the page's lines aside for learning; return the article without the site's furniture."""
        lines: dict[int, str] = {}
        for line in article.text.splitlines():
            lines.setdefault(line_fingerprint(line), line)
        if len(self._pending) > 10_000:  # items dropped by a pipeline in between: forget the oldest
            self._pending.pop(next(iter(self._pending)))
        self._pending[id(item)] = (article.site, lines)
        known = self.fingerprints(article.site) if lines else frozenset()
        if not known.intersection(lines):
            return article
        kept = [line for line in article.text.splitlines() if line_fingerprint(line) not in known]
        self.crawler.stats.inc_value("newsarchive/furniture/lines_removed", len(article.text.splitlines()) - len(kept))
        return replace(article, text="\n".join(kept))

    def take(self, item) -> tuple[str, dict[int, str]] | None:
        return self._pending.pop(id(item), None)

    def learn(self, site: str, lines: dict[int, str]) -> None:
        """Count a newly archived page's lines; re-clean the site's articles if furniture grew."""
        if not lines:
            return
        now = furniture.learn_page(self.db, site, lines)
        new = now - self._sets.get(site, frozenset())
        if not new:
            return
        self._load(site)
        self.crawler.stats.inc_value("newsarchive/furniture/learned", len(new))
        logger.info("%s: %d new furniture line(s): %s", site, len(new),
                    "; ".join(repr(lines[fp][:60]) for fp in new))
        summary = furniture.reclean(
            self.db, site, [lines[fp] for fp in new], self._reextract_for(site),
            affected=lambda text: any(line_fingerprint(line) in new for line in text.splitlines()))
        self.crawler.stats.inc_value("newsarchive/furniture/recleaned", summary.changed)
        if summary.truncated:
            logger.warning("%s: re-cleaned the first %d articles holding the new furniture only", site,
                           summary.checked)
        if summary.errors:
            logger.warning("%s: %d stored page(s) could not be re-extracted", site, summary.errors)

    def _reextract_for(self, site: str):
        spider = getattr(self.crawler, "spider", None)
        selectors_for = getattr(spider, "page_drop_selectors", site_drop_selectors)

        def reextract(body, url, headers, fetched_at):
            return stored_page_text(body, url, headers, fetched_at, furniture=self._sets.get(site, frozenset()),
                                    selectors_for=selectors_for)

        return reextract


class ExtractPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.learning = crawler.settings.getbool("NEWSARCHIVE_LEARN_FURNITURE", True)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        article = extract(
            item["body"],
            item.get("final_url") or item["url"],
            encoding=item.get("encoding"),
            feed_date=item.get("feed_date"),
            drop_selectors=tuple(item.get("drop_selectors") or ()),
        )  # learned furniture is removed below, after keeping the full lines for learning
        if self.learning and not article.blocked:
            article = SiteFurniture.for_crawler(self.crawler).clean(item, article)
        item["article"] = article
        return item


class ArchivePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        self.db = database_for(self.crawler)
        self.run_id = run_id_for(self.crawler)
        self.furniture = SiteFurniture.for_crawler(self.crawler)

    def process_item(self, item, spider=None):
        try:
            return self._archive(item)
        except (SQLAlchemyError, OSError) as exc:
            # One line per page, counted as a run error; the frontier still holds the URL as pending.
            self.stats.inc_value("newsarchive/errors")
            self.stats.inc_value("newsarchive/archive_failures")
            logger.error("could not archive %s: %s", item["url"], first_line(exc))
            raise ArchiveWriteFailed(f"archive write failed: {item['url']}", log_level="DEBUG") from None

    def _archive(self, item):
        page_lines = self.furniture.take(item)
        article = item["article"]
        url = item["url"]
        if article.blocked:
            runs.record_blocked(self.db, url=url, site=article.site, reason=article.blocked,
                                status=item.get("status"), run_id=self.run_id)
            frontier.mark_failed(self.db, url, f"blocked: {article.blocked}")
            raise Blocked(f"{article.blocked}: {url}", log_level="INFO")
        if not article.text.strip():
            frontier.mark_failed(self.db, url, "no article text")
            raise EmptyBody(f"no article text: {url}", log_level="INFO")
        if article.rejected:
            frontier.mark_failed(self.db, url, f"not an article: {article.rejected}")
            raise NotAnArticle(f"not an article ({article.rejected}): {url}", log_level="INFO")
        page = Page(url=url, final_url=item.get("final_url"), status=item["status"],
                    headers=item["headers"], body=item["body"])
        fields = ArticleFields(text=article.text, title=article.title, author=article.author,
                               published=article.published, updated=article.updated,
                               language=article.language, canonical_url=article.canonical_url)
        saved = save_article(self.db, page, fields, source_id=item.get("source_id"))
        frontier.mark_done(self.db, url)
        self.stats.inc_value(f"newsarchive/articles/{saved.outcome.value}")
        if saved.outcome is Outcome.NEW and page_lines:
            self.furniture.learn(*page_lines)  # each page once: when its URL is first archived
        if saved.outcome is Outcome.UNCHANGED:
            raise UnchangedArticle(f"unchanged: {saved.canonical_url}", log_level="DEBUG")
        logger.info("archived %s (%s, revision %d)", saved.canonical_url, saved.outcome.value, saved.revision)
        return item
