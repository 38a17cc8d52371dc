"""Secrets stay out of what other users of the machine can read: the scheduler's engine runs in
its own process (no crawl process per poll is started with the settings on its command line,
which `ps` shows to everyone), the processes it does start (the extraction pool) carry no
setting in argv, and no secret setting is printed."""

from __future__ import annotations

from pathlib import Path

from newsarchive.cli import main
from tests.hostile.test_listening import descendants
from tests.scheduling_helpers import start_scheduler, stop, wait_for

SECRET = "hunter2-not-in-argv"


def test_scheduled_polls_start_no_process_carrying_secret_settings(site, sqlite_url, tmp_path):
    assert main(["--db", sqlite_url, "sources", "add", site.url("/feed.xml"), "--every", "1m"]) == 0
    proc = start_scheduler(sqlite_url, tmp_path / "scheduler.log",
                           settings={"NEWSARCHIVE_EXAMPLE_PASSWORD": SECRET, "HTTPPROXY_AUTH_TOKEN": SECRET,
                                     "LOG_LEVEL": "DEBUG"})
    try:
        children = wait_for(lambda: descendants(proc.pid), 60, what="the extraction pool's processes")
        argv = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() for pid in children]
        wait_for(lambda: "source 1: ok" in (tmp_path / "scheduler.log").read_text(), 60, what="a poll")
    finally:
        stop(proc)
    assert argv and not any(SECRET in line for line in argv), argv
    assert not any("newsarchive crawl" in line or " crawl " in line for line in argv)  # no process per poll
    assert SECRET not in (tmp_path / "scheduler.log").read_text()
