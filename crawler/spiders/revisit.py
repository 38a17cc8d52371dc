"""Re-fetches archived articles to catch silent edits; an unchanged page costs a 304."""

from __future__ import annotations

import scrapy
from scrapy.utils.defer import maybe_deferred_to_future

from archive.revisits import due_for_revisit, mark_not_modified
from crawler.spiders.base import ArchiveSpider


class RevisitSpider(ArchiveSpider):
    """Spider argument ``all=1`` re-fetches every archived article, not only those due."""

    name = "revisit"

    def __init__(self, *args, all: str = "", **kwargs):  # noqa: A002 - the CLI flag's name
        super().__init__(*args, **kwargs)
        self.everything = str(all).lower() in ("1", "true", "yes")

    async def start(self):
        due = await maybe_deferred_to_future(self.io.read(self._due))
        sources = {row[4] for row in due if row[4] is not None}
        if sources:  # the articles' sources' headers, auth and proxy
            self.remember_options(await maybe_deferred_to_future(self.io.read(self._sources_with_options, sources)))
        for article_id, url, etag, last_modified, source_id in due:
            headers = {}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            yield scrapy.Request(url, headers=headers, callback=self.parse_revisit, errback=self.article_failed,
                                 cb_kwargs={"article_id": article_id}, dont_filter=True,
                                 meta={"handle_httpstatus_list": [304], **self.request_options(source_id)})

    def _due(self) -> list:
        with self.db.session() as session:
            return list(due_for_revisit(session, everything=self.everything))

    def parse_revisit(self, response, article_id):
        if response.status == 304:
            self.crawler.stats.inc_value("newsarchive/not_modified")
            self.io.write_later(mark_not_modified, self.db, article_id, what=f"the revisit of {response.url}")
            return
        yield from self.parse_article(response)
