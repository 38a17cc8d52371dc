"""Operators' logs: credentials masked, lines naming run and source, progress on and off a terminal."""

from __future__ import annotations

import io
import logging

import pytest

from archive.db import Database
from crawler import logredact, runner
from crawler.progress import progress


@pytest.mark.parametrize("line, secret, kept", [
    ("opening postgresql+psycopg://archiver:s3cr3t@db.internal:5432/news", "s3cr3t",
     "postgresql+psycopg://archiver:***@db.internal:5432/news"),
    ("GET https://bob:hunter2@feeds.example/rss?token=abc123&page=2", "hunter2", "&page=2"),
    ("{'HTTPPROXY_PASSWORD': 'pa55', 'LOG_LEVEL': 'INFO'}", "pa55", "'LOG_LEVEL': 'INFO'"),
    ("settings: API_TOKEN=xyz789 DOWNLOAD_DELAY=2", "xyz789", "DOWNLOAD_DELAY=2"),
    ('{"client_secret": "shh"}', "shh", '"client_secret": "***"'),
])
def test_redact_masks_credentials_and_keeps_the_rest(line, secret, kept):
    masked = logredact.redact(line)
    assert secret not in masked and kept in masked


def test_redact_leaves_ordinary_lines_alone():
    for line in ("archived https://example.com/a:b@c", "3 tokens counted", "source 2 run 5: ok"):
        assert logredact.redact(line) == line


def test_filter_masks_arguments_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.logredact")
    logger.addHandler(handler)
    logger.propagate = False
    logredact.install(logger)
    logredact.install(logger)  # idempotent
    assert len(handler.filters) == 1
    try:
        logger.warning("cannot open %s", "postgresql://u:topsecret@h/db")
        try:
            raise RuntimeError("connect to mysql://root:rootpw@h failed")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "topsecret" not in text and "rootpw" not in text and "postgresql://u:***@h/db" in text
    assert "RuntimeError" in text


def test_crawl_log_lines_name_run_and_source(sqlite_url):
    db = Database(sqlite_url)
    settings = runner.build_settings(db, 7, {}, source_id=3)
    assert "[run 7 source 3]" in settings.get("LOG_FORMAT")
    assert "[run 7]" in runner.build_settings(db, 7, {}).get("LOG_FORMAT")
    db.dispose()


def test_progress_plain_lines_off_a_terminal():
    out = io.StringIO()
    assert list(progress(range(5), desc="re-extracting", file=out, every=0)) == [0, 1, 2, 3, 4]
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("re-extracting: 1/5 (20%), ") and "/s, ETA " in lines[0]
    assert lines[-1].startswith("re-extracting: 5/5 (100%) done in")


def test_progress_to_a_logger_and_without_total(caplog):
    caplog.set_level(logging.INFO, logger="test.progress")
    items = list(progress(iter("abc"), desc="sync", log=logging.getLogger("test.progress"), every=3600))
    assert items == ["a", "b", "c"]
    assert caplog.messages[-1].startswith("sync: 3 done in")


def test_progress_bar_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    assert list(progress(range(3), desc="export", file=out)) == [0, 1, 2]
    assert "export" in out.getvalue() and "3/3" in out.getvalue()
