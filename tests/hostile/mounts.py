"""Small real file systems for fault tests: a tiny tmpfs (disk full) and a read-only bind mount.
Mounting needs privileges: where they are missing, the tests skip and say why."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode:
        pytest.skip(f"cannot mount here ({result.stderr.strip() or 'mount failed'}): needs root in a machine "
                    "that allows mounts")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@contextmanager
def tmpfs(path: Path, size: str):
    """A tmpfs of ``size`` (e.g. "2m") at ``path``; ``remount(size)`` grows or shrinks it."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))

    def remount(new_size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={new_size}", str(path)], check=True)

    try:
        yield remount
    finally:
        _umount(path)


@contextmanager
def read_only(source: Path, path: Path):
    """``source`` seen read-only at ``path`` (a bind mount: writes fail with EROFS, even for root)."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("--bind", "-o", "ro", str(source), str(path))
    try:
        yield path
    finally:
        _umount(path)
