"""The Scrapy project as Scrapy's own command line sees it: its settings and its spider classes.

Spiders are found by Scrapy's spider loader in crawler/spiders (adding a site never edits a list).
Loading them here, at run time, is what lets the modules spiders import stay free of spider imports.
"""

from __future__ import annotations

from functools import lru_cache

from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader


def project_settings() -> Settings:
    """crawler/settings.py at project priority, wherever the process runs from."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    return settings


@lru_cache(maxsize=1)
def spider_loader() -> SpiderLoader:
    return SpiderLoader.from_settings(project_settings())


def spider_names() -> list[str]:
    """The names of the spiders in crawler/spiders."""
    return spider_loader().list()


def spider_class(name: str) -> type:
    """The spider class of that name; KeyError when there is none."""
    return spider_loader().load(name)
