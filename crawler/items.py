"""What spiders hand to the pipelines: a fetched article page, then what was extracted from it."""

import scrapy


def requested_url(request) -> str:
    """The URL a request was made for, before any redirect: the one the frontier knows (its claim,
    its attempts), whichever URL the response or the failure came from."""
    return request.meta.get("redirect_urls", [request.url])[0]


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
    band_keys = scrapy.Field()  # archive.dedup.BandKeys of the extracted text, made in the extraction pool
    lines = scrapy.Field()  # {fingerprint: line} of the page's text before learned furniture, for learning
    extraction_error = scrapy.Field()  # why the extraction pool abandoned the page
    # set once archived, and what Scrapy's feed exports write (FEED_EXPORT_FIELDS): never the bytes
    canonical_url = scrapy.Field()
    outcome = scrapy.Field()  # new, duplicate, revision
    title = scrapy.Field()
    text = scrapy.Field()
    author = scrapy.Field()
    published = scrapy.Field()
    language = scrapy.Field()
    site = scrapy.Field()

    def __repr__(self):
        # Scrapy logs dropped items with repr(): never dump the page body into the log.
        return f"<PageItem {self.get('url')}>"
