"""Scrapy settings for newsarchive: polite defaults for unattended news crawling.

A site that needs something else says so in its spider's ``custom_settings``; an operator
overrides any of these per run with ``newsarchive crawl -s NAME=VALUE``.
"""

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

try:
    _VERSION = version("newsarchive")
except PackageNotFoundError:  # running from a source tree that was not installed
    _VERSION = "0"

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
TEMPLATES_DIR = str(Path(__file__).parent / "templates")  # `scrapy genspider -t article`

# Who we are: site owners can read who crawls them and how to reach us.
NEWSARCHIVE_CONTACT_URL = "https://github.com/newsarchive/newsarchive"
USER_AGENT = f"newsarchive/{_VERSION} (+{NEWSARCHIVE_CONTACT_URL})"

# Politeness
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Items processed at once per response. Scrapy starts this many asyncio tasks for every response
# (its default, 100, cost the reactor about 2 ms a page, a sixth of its CPU), while our spiders
# yield one article per page: a few are plenty, and pages in flight still run in parallel.
CONCURRENT_ITEMS = 8

# Limits sane for news pages (Scrapy's defaults are 1 GiB and 180 s).
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 10

COOKIES_ENABLED = False
# Only http and https are ever fetched: a feed linking file:///etc/passwd must not read the disk.
DOWNLOAD_HANDLERS = {"file": None, "s3": None, "ftp": None, "data": None}
# Nothing listens: Scrapy's telnet console and its remote control (an HTTP endpoint that runs
# Python code sent to it, on by default since Scrapy 2.19) are off.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Names are looked up off the reactor, and internal addresses are never connected to (SSRF guard).
TWISTED_DNS_RESOLVER = "crawler.resolver.GuardedResolver"
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
# `scrapy crawl feeds -O items.jsonl` writes the archived articles' fields, never the raw page bytes
FEED_EXPORT_FIELDS = ["url", "canonical_url", "outcome", "title", "text", "author", "published", "language", "site",
                      "status"]

# A crawler runs for months: robots.txt rules expire, the duplicate filter has a ceiling.
DUPEFILTER_CLASS = "crawler.longrun.BoundedDupeFilter"
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.longrun.ExpiringRobotsTxt": 100,
    # Before the robots.txt middleware (100), so robots.txt of a refused host is not fetched either.
    "crawler.middlewares.PrivateNetworkGuard": 50,
    # After HttpProxyMiddleware (750) has decided whether a request goes through a proxy.
    "crawler.middlewares.ProxiedTargetGuard": 760,
    # The long-running engine's polls that ran over their time limit (crawler/engine.py).
    "crawler.middlewares.CancelledPolls": 55,
    # A source's headers, auth and proxy (sources add --header/--auth/--proxy), before the robots.txt
    # middleware (100) so its robots.txt request gets them too.
    "crawler.request_options.SourceRequestOptions": 90,
    # A worker's (on only with NEWSARCHIVE_QUEUE, crawler/queue/): poll orders become polls, a page's
    # frontier claim passes to the worker that fetches it, each site's delay is shared by every worker.
    "crawler.queue.middlewares.PollOrders": 60,
    "crawler.queue.middlewares.TakeClaims": 65,
    # Last before the download (after Scrapy's own, up to 900): the slot is taken as late as can be.
    "crawler.queue.politeness.SharedPoliteness": 950,
}
SPIDER_MIDDLEWARES = {
    "crawler.middlewares.ArchiveFailures": 950,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ExtractPipeline": 100,
    "crawler.pipelines.ArchivePipeline": 300,
}
EXTENSIONS = {
    "crawler.extensions.RunRecorder": 500,
    "crawler.extensions.CrawlProgress": 510,  # off unless NEWSARCHIVE_PROGRESS names a display
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
}

# newsarchive's own settings
NEWSARCHIVE_DB = None  # SQLAlchemy URL; None means $NEWSARCHIVE_DB or ./newsarchive.db
NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS = False  # also from the environment variable of the same name
NEWSARCHIVE_QUEUE = None  # a worker's shared queue (Redis URL): set by `newsarchive worker`
# The extraction pool's fork server loads every date locale first (crawler/date_locales_warmup.py):
# on in the long-running engine (schedule, worker), off in a one-shot crawl.
NEWSARCHIVE_EXTRACT_WARM_LOCALES = False
NEWSARCHIVE_POLL_TIMEOUT = 600  # a worker's limit on a queued poll whose order gives none (`crawl --queue`)
NEWSARCHIVE_PROGRESS = None  # import path of a progress display (crawler/progress.py); the CLI sets it
