"""What spiders hand to the pipelines: a fetched article page, then what was extracted from it."""

import scrapy


class PageItem(scrapy.Item):
    url = scrapy.Field()  # as requested
    final_url = scrapy.Field()  # after redirects
    status = scrapy.Field()
    headers = scrapy.Field()  # [(name, value), ...]
    body = scrapy.Field()  # bytes
    encoding = scrapy.Field()  # charset the server declared, may be wrong
    source_id = scrapy.Field()
    feed_date = scrapy.Field()  # the date a feed or sitemap gave for this URL
    drop_selectors = scrapy.Field()  # CSS selectors a site spider knows are furniture
    article = scrapy.Field()  # crawler.extract.Article, set by ExtractPipeline

    def __repr__(self):
        # Scrapy logs dropped items with repr(): never dump the page body into the log.
        return f"<PageItem {self.get('url')}>"
