"""Every bad input of the issue's list gets one clear line and a non-zero exit, never a traceback,
and nothing malformed is accepted as a source."""

from __future__ import annotations

import pytest

from archive.db import Database
from archive.models import Article, Source
from archive.store import MAX_AUTHOR_CHARS, MAX_TITLE_CHARS, ArticleFields, Page, save_article
from newsarchive.cli import main

SECRET = "s3cr3t-pw"


def one_line_error(capsys, argv) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code != 0, (argv, captured.out)
    assert err and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "internal error" not in err, err
    return err


@pytest.mark.parametrize("key", ["99999999999999999999", "²", "-1", "0", "٣", " 12 3 "])
@pytest.mark.parametrize("command", [["show"], ["diff"], ["crawl"], ["sources", "enable"], ["sources", "disable"],
                                     ["sources", "remove"]])
def test_ids_that_are_not_ids(capsys, sqlite_url, command, key):
    error = one_line_error(capsys, ["--db", sqlite_url, *command, key])
    if key.startswith("-"):
        assert "No such option" in error  # a usage error, exit 2
    else:
        assert "no archived article" in error or "unknown source" in error


@pytest.mark.parametrize("url", [
    "http://[::1/", "http://[gggg::1]/", "http://[::1]]/", "http://exa mple.com/", "http://exa\tmple.com/",
    "http://exa\nmple.com/", "http://exa\u202emple.com/", "http://exa\u200bmple.com/",
    "http://" + "a" * 5000 + ".com/", "http://-example-.com/", "http://example..com/", "http://.example.com/",
    "http://999.999.999.999/", "http://256.0.0.1/", "http://127.1/", "http://example.com:99999/",
    "http://example.com:abc/", "http://user:pw@example.com/feed", "file:///etc/passwd", "ftp://example.com/f",
    "data:text/plain,x", "javascript:alert(1)", "//example.com/feed", "", " ",
])
def test_malformed_source_urls_are_refused(capsys, sqlite_url, url):
    one_line_error(capsys, ["--db", sqlite_url, "sources", "add", url])
    db = Database(sqlite_url)
    with db.session() as session:
        assert session.query(Source).count() == 0
    db.dispose()


@pytest.mark.parametrize("argv, expected", [
    (["crawl", "-s", "CONCURRENT_REQUESTS=abc"], "CONCURRENT_REQUESTS: expected a whole number"),
    (["crawl", "-s", "DOWNLOAD_DELAY=soon"], "DOWNLOAD_DELAY: expected a number"),
    (["crawl", "-s", "ROBOTSTXT_OBEY=perhaps"], "ROBOTSTXT_OBEY: expected true or false"),
    (["crawl", "-s", "LOG_LEVEL=LOUD"], "LOG_LEVEL"),
    (["crawl", "-s", "DOWNLOADER_MIDDLEWARES={broken"], "expected valid JSON"),
    (["crawl", "-s", f"MY_PASSWORD_X={SECRET}", "-s", "CONCURRENT_REQUESTS=-3"], "CONCURRENT_REQUESTS"),
    (["sources", "add", "https://a.example/f", "--every", "99999999999999999999d"], "not an interval"),
    (["sources", "add", "https://a.example/f", "--every", "400d"], "interval too long"),
    (["sources", "add", "https://a.example/f", "--every", "²m"], "not an interval"),
    (["sources", "add", "https://a.example/f", "--cron", "not a cron"], "not a crontab expression"),
    (["sources", "add", "https://a.example/f", "--cron", "99 * * * *"], "not a crontab expression"),
    (["schedule", "--timeout", "0"], "--timeout"),
    (["schedule", "--timeout", "²"], "--timeout"),
    (["schedule", "--sync-every", "99999999999999999999"], "--sync-every"),
    (["schedule", "--lease-ttl", "-5s"], "--lease-ttl"),
    (["search", "-brexit"], "at least one word that is not excluded"),
])
def test_bad_options(capsys, sqlite_url, argv, expected):
    error = one_line_error(capsys, ["--db", sqlite_url, *argv])
    assert expected in error
    assert SECRET not in error


@pytest.mark.parametrize("url, expected", [
    ("sqlite:////etc/passwd", "not a SQLite database"),
    ("sqlite:////dev/null", "not a regular file"),
    ("sqlite:///%00", "NUL"),
    ("sqlite://", "names no file"),
    ("sqlite:///", "names no file"),
    ("postgresql://", "names no database"),
    (f"postgresql+psycopg://u:{SECRET}@127.0.0.1:notaport/x", "malformed database URL"),
    (f"postgresql+psycopg://u:{SECRET}@[::1/x", "malformed database URL"),
    (f"postgresql+psycopg2://u:{SECRET}@127.0.0.1/x", "no driver"),
    (f"postgresql+psycopg://u:{SECRET}@127.0.0.1/test?connect_timeout=abc", "connect_timeout"),
    (f"mysql://u:{SECRET}@127.0.0.1/x", "unsupported database"),
])
def test_bad_database_urls_never_show_the_password(capsys, url, expected):
    error = one_line_error(capsys, ["--db", url, "sources", "list"])
    assert expected in error and SECRET not in error


def test_exclusions_are_query_words_not_options(capsys, sqlite_url):
    assert main(["--db", sqlite_url, "search", "europe", "-brexit", "--limit", "5"]) == 0
    assert "no match" in capsys.readouterr().out
    assert main(["--db", sqlite_url, "export", "europe", "-brexit"]) == 0


def test_enormous_titles_and_bylines_are_capped(db):
    page = Page(url="https://news.example/a", status=200, headers=[], body=b"<html></html>")
    fields = ArticleFields(text="Some text of the article.", title="Title " * 200_000, author="Name " * 100_000)
    saved = save_article(db, page, fields)
    with db.session() as session:
        article = session.get(Article, saved.article_id)
        assert len(article.title) <= MAX_TITLE_CHARS and article.title.startswith("Title Title")
        assert len(article.author) <= MAX_AUTHOR_CHARS
        assert len(article.revisions[0].title) <= MAX_TITLE_CHARS
