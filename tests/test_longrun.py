"""Components of a crawler that runs for months: robots.txt is heard again after a while, and
the duplicate filter's memory has a ceiling."""

from __future__ import annotations

from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler import longrun
from newsarchive.cli import main
from tests.clirun import FAST, run_cli


def test_the_duplicate_filter_remembers_a_bounded_number_of_requests(monkeypatch):
    monkeypatch.setattr(longrun, "DUPEFILTER_SIZE", 100)
    dupefilter = longrun.BoundedDupeFilter.from_crawler(get_crawler())
    assert not dupefilter.request_seen(Request("https://news.example/a"))
    assert dupefilter.request_seen(Request("https://news.example/a"))
    for i in range(500):
        dupefilter.request_seen(Request(f"https://news.example/{i}"))
    assert len(dupefilter._recent) == 100
    assert not dupefilter.request_seen(Request("https://news.example/a"))  # long forgotten: allowed again


def test_robots_txt_is_fetched_again_once_its_rules_expire(site, sqlite_url, capsys):
    """A crawl of a site (several listing and article requests) with a TTL of 0: every new request
    re-reads robots.txt; with the default TTL, once."""
    assert main(["--db", sqlite_url, "sources", "add", site.url("/"), "--kind", "site"]) == 0
    assert run_cli(sqlite_url, "crawl", *FAST).returncode == 0
    once = [r for r in site.requests if r.path == "/robots.txt"]
    site.clear_requests()
    result = run_cli(sqlite_url, "revisit", "--all", *FAST, "-s", "NEWSARCHIVE_ROBOTSTXT_TTL=0",
                     "-s", "CONCURRENT_REQUESTS=1")  # one request after another: each finds the rules stale
    assert result.returncode == 0, result.stderr[-2000:]
    again = [r for r in site.requests if r.path == "/robots.txt"]
    assert len(once) == 1 and len(again) >= 3
