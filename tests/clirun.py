"""Running `newsarchive` as its own process, as operators and the scheduler do (a Twisted reactor
runs once per process, so crawls cannot run inside the test process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")


def run_cli(db_url: str, *args: str, env: dict | None = None, private: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """`newsarchive --db URL ARGS...` to completion. ``private=False`` runs it with the SSRF guard
    on (NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS unset); ``env`` adds variables."""
    environ = {k: v for k, v in os.environ.items() if k != "NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS"}
    if private:
        environ["NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS"] = "1"
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "newsarchive", "--db", db_url, *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=timeout)


def setting_args(settings: dict[str, str] | None) -> list[str]:
    """-s NAME=VALUE arguments for these settings."""
    return [arg for name, value in (settings or {}).items() for arg in ("-s", f"{name}={value}")]


def crawl(db_url: str, *args: str, command: str = "crawl", settings: dict[str, str] | None = None,
          check: bool = False, **kwargs) -> subprocess.CompletedProcess:
    """`newsarchive crawl ARGS...` (or ``command``) to completion, without politeness delays (a
    loopback site), ``settings`` as -s. ``check``: fail the test unless it exits 0."""
    result = run_cli(db_url, command, *args, *FAST, *setting_args(settings), **kwargs)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def start_crawl(db_url: str, *args: str, log: Path, settings: dict[str, str] | None = None) -> subprocess.Popen:
    """The same crawl started in a process group of its own (to be killed), its stderr into ``log``."""
    environ = dict(os.environ, NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS="1")
    argv = [sys.executable, "-m", "newsarchive", "--db", db_url, "crawl", *args, *FAST, *setting_args(settings)]
    return subprocess.Popen(argv, cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=log.open("ab"),
                            start_new_session=True)
