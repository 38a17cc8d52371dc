"""Streaming a file writer to a response: chunks in order, errors abort, a gone client stops the writer."""

from __future__ import annotations

import threading
import time

import pytest

from newsarchive.web.streaming import WriterStream


def stream(write, *, binary):
    return iter(WriterStream(write, binary=binary))


def test_text_and_bytes_come_through_in_order():
    def write(out):
        for i in range(20_000):
            out.write(f"ligne {i} é\n")
    body = b"".join(stream(write, binary=False)).decode("utf-8")
    assert body.splitlines() == [f"ligne {i} é" for i in range(20_000)]
    assert b"".join(stream(lambda out: out.write(b"\x00\xff" * 100_000), binary=True)) == b"\x00\xff" * 100_000


def test_an_error_in_the_writer_aborts_the_stream():
    def write(out):
        out.write("début\n" * 50_000)
        raise RuntimeError("database went away")
    chunks = stream(write, binary=False)
    with pytest.raises(RuntimeError, match="went away"):
        for _ in chunks:
            pass


def test_a_client_that_goes_away_stops_the_writer():
    written, finished = [], threading.Event()

    def write(out):
        try:
            for i in range(10_000_000):
                out.write("x" * 1000)
                written.append(i)
        finally:
            finished.set()
    chunks = WriterStream(write, binary=False)
    next(iter(chunks))
    chunks.close()  # what the response does when the client hangs up (from another thread)
    assert finished.wait(10)
    count = len(written)
    time.sleep(0.2)
    assert len(written) == count < 10_000  # stopped, a few chunks in: nothing buffered ahead
