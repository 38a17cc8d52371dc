"""One scheduler per archive: a second one is refused, and takes over once the first died."""

from __future__ import annotations

import subprocess
import sys

from archive import lease
from archive.db import Database
from archive.models import SchedulerLease
from scheduling_helpers import ROOT, start_scheduler, stop, wait_for


def holder_pid(db) -> int | None:
    held = lease.current(db)
    return int(held.holder.split(":")[1]) if held else None


def test_second_scheduler_refused_then_takes_over_after_the_first_dies(sqlite_url, tmp_path):
    db = Database(sqlite_url)
    first = start_scheduler(sqlite_url, tmp_path / "first.log")
    standby = second = None
    try:
        wait_for(lambda: holder_pid(db) == first.pid, 60, what="the first scheduler's lease")

        second = start_scheduler(sqlite_url, tmp_path / "second.log")
        # A refusal costs a process start (about 2.5 s idle); the bound is for a loaded shared machine.
        assert second.wait(timeout=60) == 1
        refusal = (tmp_path / "second.log").read_text()
        assert "another scheduler runs this archive" in refusal and f":{first.pid}:" in refusal

        standby = start_scheduler(sqlite_url, tmp_path / "standby.log", "--standby")
        wait_for(lambda: "standing by" in (tmp_path / "standby.log").read_text(), 60, what="standby")
        first.kill()  # SIGKILL: no chance to release the lease
        first.wait(timeout=10)
        assert holder_pid(db) == first.pid  # still there, until it expires (ttl 3 s)
        wait_for(lambda: holder_pid(db) == standby.pid, 30, what="the takeover")
        assert stop(standby) == 0
        assert lease.current(db) is None
    finally:
        for proc in (first, second, standby):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        db.dispose()


def test_scheduler_that_lost_its_lease_stops(sqlite_url, tmp_path):
    db = Database(sqlite_url)
    log = tmp_path / "scheduler.log"
    proc = start_scheduler(sqlite_url, log)
    try:
        wait_for(lambda: holder_pid(db) == proc.pid, 60, what="the lease")
        with db.transaction() as session:  # another host took it over (e.g. after a long pause)
            session.get(SchedulerLease, lease.SCHEDULER).holder = "elsewhere:1:x"
        assert proc.wait(timeout=30) == 1
        assert "taken over by elsewhere:1:x" in log.read_text()
        assert lease.current(db).holder == "elsewhere:1:x"  # not released: it is not ours
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        db.dispose()


def test_python_scheduler_py_help_is_the_schedule_command():
    out = subprocess.run([sys.executable, str(ROOT / "scheduler.py"), "--help"], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert out.returncode == 0 and "--standby" in out.stdout and "Example:" in out.stdout
