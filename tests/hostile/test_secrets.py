"""Secrets stay out of what other users of the machine can read: a scheduled crawl gets its
settings in its environment, not on its command line (`ps` shows argv to everyone)."""

from __future__ import annotations

from pathlib import Path

from newsarchive.cli import main
from tests.hostile.test_listening import descendants
from tests.scheduling_helpers import start_scheduler, stop, wait_for

SECRET = "hunter2-not-in-argv"


def test_scheduled_crawls_do_not_carry_secret_settings_in_argv(site, sqlite_url, tmp_path):
    site.set_delay("/2024/11/12/otan-rutte-macron/", 3)
    assert main(["--db", sqlite_url, "sources", "add", site.url("/feed.xml"), "--every", "1m"]) == 0
    proc = start_scheduler(sqlite_url, tmp_path / "scheduler.log",
                           settings={"NEWSARCHIVE_EXAMPLE_PASSWORD": SECRET, "HTTPPROXY_AUTH_TOKEN": SECRET})
    try:
        crawls = wait_for(lambda: descendants(proc.pid), 60, what="a scheduled crawl process")
        argv = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() for pid in crawls]
        environ = [Path(f"/proc/{pid}/environ").read_bytes().decode("utf-8", "replace") for pid in crawls]
    finally:
        stop(proc)
    assert argv and not any(SECRET in line for line in argv), argv
    assert any(SECRET in env for env in environ)  # it is handed over, just not where ps shows it
    assert SECRET not in (tmp_path / "scheduler.log").read_text()
