"""Nothing listens on a port it was not asked to: no crawl, no scheduler (Scrapy 2.19 turns on a
remote-control HTTP endpoint that runs Python sent to it, and a telnet console, by default)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsarchive.cli import main
from tests.clirun import FAST, ROOT
from tests.scheduling_helpers import start_scheduler, stop, wait_for

pytestmark = pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")


def listening(pid: int) -> list[str]:
    """The TCP sockets in LISTEN state and unconnected UDP sockets that process ``pid`` holds."""
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return []  # it ended meanwhile
    inodes = {link[8:-1] for link in links if link.startswith("socket:[")}
    found = []
    for proto, state in (("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")):
        try:
            lines = Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if fields[9] in inodes and fields[3] == state:
                found.append(f"{proto} {fields[1]}")
    return found


def descendants(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                children.append(int(entry.name))
    return children + [d for c in children for d in descendants(c)]


def remote_control_files() -> set[str]:
    from scrapy.settings import Settings
    from scrapy.utils._remote_control import job_files_dir

    folder = Path(job_files_dir(Settings()))
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


@pytest.fixture
def slow_site(site):
    # the articles answer slowly, so the crawl is in flight while its sockets are read
    for path in ("/2024/11/12/otan-rutte-macron/", "/2024/11/05/budget-2025-assemblee-nationale/"):
        site.set_delay(path, 3)
    return site


def test_a_crawl_listens_on_no_port_and_leaves_no_remote_control_file(slow_site, sqlite_url):
    assert main(["--db", sqlite_url, "sources", "add", slow_site.url("/feed.xml")]) == 0
    before = remote_control_files()
    proc = subprocess.Popen([sys.executable, "-m", "newsarchive", "--db", sqlite_url, "crawl", *FAST], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        wait_for(lambda: any("/2024/11/12/" in r.path for r in slow_site.requests), 60, what="the crawl to fetch")
        for _ in range(10):
            seen += listening(proc.pid)
            time.sleep(0.1)
    finally:
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert seen == []
    assert remote_control_files() == before


def test_the_scheduler_and_its_crawls_listen_on_no_port(slow_site, sqlite_url, tmp_path):
    assert main(["--db", sqlite_url, "sources", "add", slow_site.url("/feed.xml"), "--every", "1m"]) == 0
    proc = start_scheduler(sqlite_url, tmp_path / "scheduler.log")
    seen: list[str] = []
    try:
        wait_for(lambda: any("/2024/11/12/" in r.path for r in slow_site.requests), 60, what="a scheduled crawl")
        crawls = descendants(proc.pid)
        assert crawls, "the scheduler runs its crawl in a process of its own"
        for _ in range(10):
            seen += [f"{pid}: {s}" for pid in [proc.pid, *crawls] for s in listening(pid)]
            time.sleep(0.1)
    finally:
        stop(proc)
    assert seen == []
