"""Crawl processes run by a supervisor (the scheduler): each in a process group of its own, with a
hard time limit, ended by SIGTERM to the whole group (Scrapy closes gracefully) and SIGKILL when
it does not end in time; the supervisor's own SIGTERM/SIGINT handling; whether a process still
exists on this host.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time

from archive import runs
from archive.db import Database
from archive.models import Source
from crawler.overrides import SETTINGS_ENV

logger = logging.getLogger("newsarchive.scheduler")


def start(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Start a child in a new session (its own process group), with no stdin and no stdout."""
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            start_new_session=True)


def signal_group(proc: subprocess.Popen, signum: int) -> None:
    """Signal the child's whole process group (its own children too), if it still exists."""
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def wait_or_kill(proc: subprocess.Popen, deadline: float, force: threading.Event | None = None) -> int:
    """Wait for the child until ``deadline`` (time.monotonic) or until ``force`` is set, then SIGKILL
    its group. Returns its exit status."""
    while proc.poll() is None and time.monotonic() < deadline and not (force and force.is_set()):
        time.sleep(0.05)
    if proc.poll() is None:
        logger.warning("crawl pid %d did not end in time: SIGKILL", proc.pid)
        signal_group(proc, signal.SIGKILL)
        proc.wait()
    return proc.returncode


def end(proc: subprocess.Popen, grace: float, force: threading.Event | None = None) -> int:
    """SIGTERM the child's group, then SIGKILL after ``grace`` seconds. Returns its exit status."""
    signal_group(proc, signal.SIGTERM)
    return wait_or_kill(proc, time.monotonic() + grace, force)


def end_all(procs: list[subprocess.Popen], grace: float, force: threading.Event | None = None) -> None:
    """SIGTERM every child's group at once, then SIGKILL those still running after ``grace`` seconds."""
    for proc in procs:
        signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        wait_or_kill(proc, deadline, force)


def run(proc: subprocess.Popen, timeout: float, grace: float, force: threading.Event | None = None) -> int:
    """Wait for a started child to end, ending it after ``timeout`` seconds. Returns its exit status."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        logger.warning("crawl pid %d ran over %.0f s: ending it", proc.pid, timeout)
        return end(proc, grace, force)


class Supervisor:
    """The child processes one supervisor runs, by key (a source id), ended together at shutdown."""

    def __init__(self, grace: float):
        self.grace = grace  # SIGTERM -> SIGKILL
        self.force = threading.Event()  # set: end children at once, without waiting for grace
        self.children: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def run(self, key: int, argv: list[str], env: dict[str, str], timeout: float) -> tuple[int, int]:
        """Start a child and wait for it, ending it after ``timeout`` seconds: (pid, exit status).
        OSError when it cannot be started."""
        proc = start(argv, env)
        with self._lock:
            self.children[key] = proc
        try:
            return proc.pid, run(proc, timeout, self.grace, self.force)
        finally:
            with self._lock:
                self.children.pop(key, None)

    def run_crawl(self, db: Database, source_id: int, argv: list[str], settings: dict[str, str],
                  timeout: float) -> int | None:
        """One crawl process for a source, its settings in its environment (not in argv, which `ps`
        shows to every user), then its run's figures in the log. Returns its exit status."""
        env = dict(os.environ, NEWSARCHIVE_DB=db.url, **{SETTINGS_ENV: json.dumps(settings)})
        started = time.monotonic()
        try:
            pid, status = self.run(source_id, argv, env, timeout)
        except OSError as exc:
            logger.error("source %d: could not start a crawl: %s", source_id, exc)
            return None
        if status != 0:
            runs.abandon_runs_of(db, {pid})
        run = runs.last_run_of(db, pid)
        done = runs.summary_line(run) if run else f"crawl exited with status {status}, no run recorded,"
        logger.log(logging.INFO if run and run.status == "ok" else logging.WARNING, "source %d %s in %.1f s%s",
                   source_id, done, time.monotonic() - started, _next_poll(db, source_id))
        return status

    def end_all(self) -> set[int]:
        """End every running child within the grace time; the pids that were running."""
        with self._lock:
            procs = list(self.children.values())
        if procs:
            logger.info("ending %d in-flight crawl(s) (SIGTERM, SIGKILL after %.0f s)", len(procs), self.grace)
            end_all(procs, self.grace, self.force)
        return {proc.pid for proc in procs}


def stop_on_signals(stopping: threading.Event, force: threading.Event) -> None:
    """SIGTERM or SIGINT sets ``stopping``; a second one sets ``force`` (end the children now).
    Only the main thread can install signal handlers: elsewhere (tests) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return

    def handle(signum, _frame):
        name = signal.Signals(signum).name
        if stopping.is_set():
            logger.warning("second %s: killing in-flight crawls now", name)
            force.set()
        else:
            logger.info("%s received", name)
            stopping.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _next_poll(db: Database, source_id: int) -> str:
    with db.session() as session:
        source = session.get(Source, source_id)
    return f", next poll {source.next_poll_at:%H:%M:%S}" if source is not None and source.next_poll_at else ""


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id exists on this host."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
