"""The naive design bench/crawl.py compares with: trafilatura in the spider's callback (on the
reactor thread) and one committed INSERT per article. Run with `scrapy runspider`."""

from __future__ import annotations

import sqlite3

import feedparser
import scrapy
import trafilatura


class NaiveSpider(scrapy.Spider):
    name = "naive"

    def __init__(self, feed: str, db: str, **kwargs):
        super().__init__(**kwargs)
        self.feed, self.connection = feed, sqlite3.connect(db)
        self.connection.execute("CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, title TEXT, text TEXT)")

    async def start(self):
        yield scrapy.Request(self.feed, callback=self.parse_feed)

    def parse_feed(self, response):
        for entry in feedparser.parse(response.body).entries:
            yield scrapy.Request(entry.link, callback=self.parse_article)

    def parse_article(self, response):
        text = trafilatura.extract(response.text, url=response.url, include_comments=False)
        self.connection.execute("INSERT OR IGNORE INTO articles VALUES (?, ?, ?)", (response.url, None, text))
        self.connection.commit()

    def closed(self, reason):
        self.connection.close()
