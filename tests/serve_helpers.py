"""`newsarchive serve` as a real process on a loopback ephemeral port, for tests and benchmarks."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

START_SECONDS = 60


class Served:
    """A running `serve`: its base URL, its process, and everything it printed so far."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.base = ""
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [threading.Thread(target=lambda s=stream, out=out: out.extend(s), daemon=True)
                         for stream, out in ((process.stdout, self.stdout), (process.stderr, self.stderr))]
        for reader in self._readers:
            reader.start()

    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for reader in self._readers:
            reader.join(timeout=5)
        self.process.stdout.close()
        self.process.stderr.close()


@contextmanager
def serving(db_url: str, *args: str, env: dict | None = None):
    """Start `newsarchive --db URL serve --port 0 ARGS`, yield it as `Served`; stopped at the end."""
    process = subprocess.Popen([sys.executable, "-m", "newsarchive", "--db", db_url, "serve", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, start_new_session=True)
    served = Served(process)
    try:
        served.base = _wait_for_url(served)
        _wait_until_answering(served.base)
        yield served
    finally:
        served.stop()


def _wait_for_url(served: Served) -> str:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        for line in list(served.stdout):
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            if match:
                return match.group()
        if served.process.poll() is not None:
            time.sleep(0.2)
            raise RuntimeError(f"serve exited {served.process.returncode}: {served.output()[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError("serve did not print its address in time")


def _wait_until_answering(base: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/static/style.css", timeout=5).close()
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"serve at {base} did not answer in time")


def get(url: str, *, headers: dict | None = None, timeout: float = 30) -> tuple[int, dict, bytes]:
    """(status, headers with lowercase names, body) of a GET, HTTP errors included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
