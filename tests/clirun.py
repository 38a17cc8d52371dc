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
