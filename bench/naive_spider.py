"""The naive design bench/crawl.py compares with: trafilatura in the spider's callback (on the
reactor thread) and one committed INSERT per article. Run with `scrapy runspider`.

``-a extractor=newsarchive`` calls our extractor (crawler.extract) in the callback instead: the
naive design at our extraction cost, which tells the engine's gain from the extractor's cost."""

from __future__ import annotations

import sqlite3

import feedparser
import scrapy
import trafilatura


class NaiveSpider(scrapy.Spider):
    name = "naive"

    def __init__(self, feed: str, db: str, extractor: str = "trafilatura", **kwargs):
        super().__init__(**kwargs)
        if extractor not in ("trafilatura", "newsarchive"):
            raise ValueError(f"extractor: trafilatura or newsarchive, not {extractor!r}")
        self.feed, self.connection = feed, sqlite3.connect(db)
        self.ours = None
        if extractor == "newsarchive":  # imported only then: the trafilatura run does not pay for it
            from crawler.extract import extract

            self.ours = extract
        self.connection.execute("CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, title TEXT, text TEXT)")

    async def start(self):
        yield scrapy.Request(self.feed, callback=self.parse_feed)

    def parse_feed(self, response):
        for entry in feedparser.parse(response.body).entries:
            yield scrapy.Request(entry.link, callback=self.parse_article)

    def parse_article(self, response):
        if self.ours:
            article = self.ours(response.body, response.url, encoding=response.encoding)
            title, text = article.title, article.text or None
        else:
            title, text = None, trafilatura.extract(response.text, url=response.url, include_comments=False)
        self.connection.execute("INSERT OR IGNORE INTO articles VALUES (?, ?, ?)", (response.url, title, text))
        self.connection.commit()

    def closed(self, reason):
        self.connection.close()
