"""The archive's writer thread: a note nobody waits for that keeps failing is said once."""

from __future__ import annotations

import logging

from crawler.archive_io import ArchiveIO
from tests.reactor_thread import on_reactor, running_reactor


def test_a_note_that_keeps_failing_is_said_once_until_it_goes_through(caplog):
    reactor = running_reactor()
    io = ArchiveIO(reactor)
    disk = {"full": True}

    def write_note():
        if disk["full"]:
            raise OSError("database or disk is full")

    def note(what="the run's heartbeat"):
        return on_reactor(reactor, io.write_later, write_note, what=what)

    try:
        with caplog.at_level(logging.ERROR, logger="crawler.archive_io"):
            for _ in range(5):
                note()
            note("the end of this crawl's claims")  # another note: said on its own line
            assert [r.getMessage() for r in caplog.records] == [
                "could not record the run's heartbeat: database or disk is full",
                "could not record the end of this crawl's claims: database or disk is full"]
            disk["full"] = False
            note()
            disk["full"] = True
            note()  # failing again after it went through: said again
            assert len(caplog.records) == 3
    finally:
        io.stop()
