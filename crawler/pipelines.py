"""Item pipelines: extract the clean article from a fetched page, then archive it.

Rejected items raise named DropItem subclasses, so Scrapy's stats count drops per reason
(``item_dropped_reasons_count/Blocked``...), which `stats` shows to operators.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem

from archive import frontier, runs
from archive.store import ArticleFields, Outcome, Page, save_article
from crawler.archive_link import database_for, run_id_for
from crawler.extract import extract

logger = logging.getLogger(__name__)


class EmptyBody(DropItem):
    """The page had no article text."""


class Blocked(DropItem):
    """The server answered with a challenge, consent or login wall instead of the article."""


class UnchangedArticle(DropItem):
    """Re-fetched, and the clean text is the same as the archived revision."""


class ExtractPipeline:
    def process_item(self, item, spider=None):
        item["article"] = extract(
            item["body"],
            item.get("final_url") or item["url"],
            encoding=item.get("encoding"),
            feed_date=item.get("feed_date"),
            drop_selectors=tuple(item.get("drop_selectors") or ()),
        )
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

    def process_item(self, item, spider=None):
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
        page = Page(url=url, final_url=item.get("final_url"), status=item["status"],
                    headers=item["headers"], body=item["body"])
        fields = ArticleFields(text=article.text, title=article.title, author=article.author,
                               published=article.published, updated=article.updated,
                               language=article.language, canonical_url=article.canonical_url)
        saved = save_article(self.db, page, fields, source_id=item.get("source_id"))
        frontier.mark_done(self.db, url)
        self.stats.inc_value(f"newsarchive/articles/{saved.outcome.value}")
        if saved.outcome is Outcome.UNCHANGED:
            raise UnchangedArticle(f"unchanged: {saved.canonical_url}", log_level="DEBUG")
        logger.info("archived %s (%s, revision %d)", saved.canonical_url, saved.outcome.value, saved.revision)
        return item
