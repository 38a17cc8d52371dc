"""Named-site furniture selectors: which named site covers a URL, and its selectors on a date.

A named-site spider (crawler/spiders/site_base.py) keeps ``selector_versions``: the CSS
selectors of its furniture, each version valid until a date. A redesign adds a new version
instead of editing the old one (Fundus style), so pages crawled before it still extract as they
did. Whatever spider fetched a page of that site (a revisit, a generic feed), its selectors apply.

Spider classes are loaded through Scrapy's spider loader when first asked for, so this module
imports no spider and any module may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Sequence
from urllib.parse import urlsplit

from archive.urls import normalize_site
from crawler.project import spider_class, spider_names


@dataclass(frozen=True)
class Selectors:
    """The furniture selectors of one design of a site, used for pages crawled up to ``valid_until``."""

    drop: tuple[str, ...]
    valid_until: date | None = None  # None: the current design


def check_versions(versions: Sequence[Selectors], owner: str) -> None:
    """Raise TypeError unless the versions are oldest first with at most one current (undated) one."""
    dated = [v.valid_until for v in versions if v.valid_until is not None]
    if dated != sorted(dated) or sum(v.valid_until is None for v in versions) > 1:
        raise TypeError(f"{owner}.selector_versions: oldest first, one current version at most")


def selectors_on(versions: Sequence[Selectors], crawled: datetime | date | None = None) -> tuple[str, ...]:
    """The selectors of the design a site had when a page was crawled (now when None)."""
    if crawled is None:
        crawled = datetime.now(timezone.utc)
    day = crawled.date() if isinstance(crawled, datetime) else crawled
    for version in versions:
        if version.valid_until is None or day <= version.valid_until:
            return version.drop
    return ()


@lru_cache(maxsize=1024)
def named_site_versions(site: str) -> tuple[Selectors, ...]:
    """The selector versions of the named-site spider whose domains cover a site (host), if any."""
    site = normalize_site(site)
    for name in spider_names():
        spider = spider_class(name)
        versions = getattr(spider, "selector_versions", None)  # only named-site spiders have them
        if versions is not None and any(
                site == domain or site.endswith("." + domain) for domain in getattr(spider, "allowed_domains", ())):
            return tuple(versions)
    return ()


def site_drop_selectors(url: str, crawled: datetime | date | None = None) -> tuple[str, ...]:
    """The furniture selectors of the named site an URL belongs to, whichever spider fetched it."""
    return selectors_on(named_site_versions((urlsplit(url).hostname or "").lower()), crawled)
