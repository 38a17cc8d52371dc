"""Scrapy's own command line on this project, as a Scrapy user runs it from the project root:
`scrapy list`, `scrapy crawl feeds -O items.jsonl` (the archived articles' fields, never the raw
bytes) and a `scrapy crawl` recorded as a run that `newsarchive stats` shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from crawler.settings import FEED_EXPORT_FIELDS
from newsarchive.cli import main
from tests.clirun import FAST, ROOT, run_cli


def scrapy(db_url: str, *args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    """`python -m scrapy ARGS` in the project root, on this archive, loopback allowed."""
    environ = dict(os.environ, NEWSARCHIVE_DB=db_url, NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS="1")
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=110)


def feed_source(db_url: str, site, capsys) -> int:
    capsys.readouterr()
    assert main(["--db", db_url, "sources", "add", site.url("/feed.xml"), "--json"]) == 0
    return json.loads(capsys.readouterr().out)["id"]


def test_scrapy_list_names_the_project_spiders(sqlite_url):
    listed = scrapy(sqlite_url, "list")
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert {"feeds", "sitemap", "site", "revisit", "engine", "vudailleurs"} <= set(listed.stdout.split())


def test_scrapy_crawl_exports_article_fields_and_is_a_recorded_run(site, sqlite_url, tmp_path, capsys):
    source_id = feed_source(sqlite_url, site, capsys)
    items = tmp_path / "items.jsonl"
    done = scrapy(sqlite_url, "crawl", "feeds", "-O", str(items), "-a", f"sources={source_id}", *FAST)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "not JSON serializable" not in done.stderr, done.stderr[-3000:]

    capsys.readouterr()
    assert main(["--db", sqlite_url, "export", "--format", "jsonl"]) == 0
    archived = {json.loads(line)["url"] for line in capsys.readouterr().out.splitlines()}
    lines = [json.loads(line) for line in items.read_text("utf-8").splitlines()]
    assert len(archived) >= 5
    assert {row["canonical_url"] for row in lines} == archived  # one line per archived article
    for row in lines:
        assert list(row) == [f for f in FEED_EXPORT_FIELDS if f in row]  # in the declared order
        assert {"url", "canonical_url", "outcome", "title", "text", "site"} <= set(row)
        assert row["outcome"] in ("new", "duplicate") and len(row["text"]) > 200 and row["title"]
        assert not {"body", "headers", "lines", "article"} & set(row)  # never the raw page

    stats = run_cli(sqlite_url, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    run = json.loads(stats.stdout)["runs"][0]
    assert run["role"] == "scrapy" and run["status"] == "ok"
    assert run["new_articles"] == len(archived) - run["duplicates"] and run["requests"] >= len(archived) + 1
    assert run["finished"] is not None


def test_scrapy_crawl_of_an_unchanged_feed_is_another_run_with_its_304(site, sqlite_url, tmp_path, capsys):
    source_id = feed_source(sqlite_url, site, capsys)
    for _ in range(2):
        done = scrapy(sqlite_url, "crawl", "feeds", "-a", f"sources={source_id}", *FAST)
        assert done.returncode == 0, done.stderr[-3000:]
    runs = json.loads(run_cli(sqlite_url, "stats", "--json").stdout)["runs"]
    assert [r["role"] for r in runs[:2]] == ["scrapy", "scrapy"] and runs[0]["id"] != runs[1]["id"]
    assert runs[0]["not_modified"] == 1 and runs[0]["new_articles"] == 0 and runs[1]["new_articles"] > 0
