"""Politeness: robots.txt obeyed, a User-Agent that names newsarchive and a contact, size limits."""

from __future__ import annotations

from sqlalchemy import select

from archive.db import Database
from archive.models import Article
from newsarchive.cli import main
from tests.clirun import crawl


def archived_paths(db_url, base):
    db = Database(db_url)
    with db.session() as session:
        urls = session.scalars(select(Article.canonical_url)).all()
    db.dispose()
    return {url[len(base):] for url in urls}


def test_robots_txt_is_obeyed_and_the_user_agent_names_us(site, sqlite_url):
    site.set_page("/robots.txt", "User-agent: *\nDisallow: /2024/09/\n", content_type="text/plain")
    assert main(["--db", sqlite_url, "sources", "add", site.url("/feed.xml")]) == 0
    result = crawl(sqlite_url, "-s", "NEWSARCHIVE_CONTACT_URL=https://archive.example/contact")
    assert result.returncode == 0, result.stderr

    paths = archived_paths(sqlite_url, site.base_url)
    assert paths and not any(p.startswith("/2024/09/") for p in paths)
    assert any(p.startswith("/2024/11/") for p in paths)
    assert not [r for r in site.requests if r.path.startswith("/2024/09/")]
    assert site.requests[0].path == "/robots.txt"
    agents = {r.headers.get("User-Agent") for r in site.requests}
    assert len(agents) == 1
    agent = agents.pop()
    assert agent.startswith("newsarchive/") and "+https://archive.example/contact" in agent
    assert "Scrapy" not in agent


def test_pages_over_the_size_limit_are_not_archived(site, sqlite_url):
    big = "/2024/11/05/budget-2025-assemblee-nationale/"
    html = "<html><body><article>" + "<p>Trop long pour être archivé.</p>" * 5000 + "</article></body></html>"
    site.set_page(big, html)
    assert main(["--db", sqlite_url, "sources", "add", site.url("/feed.xml")]) == 0
    result = crawl(sqlite_url, "-s", "DOWNLOAD_MAXSIZE=100000")
    assert result.returncode == 0, result.stderr
    paths = archived_paths(sqlite_url, site.base_url)
    assert big not in paths and len(paths) >= 4
