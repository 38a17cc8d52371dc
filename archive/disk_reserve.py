"""Room kept on a SQLite archive's disk for the end of a crawl.

On a disk that fills up during a crawl, SQLite can write nothing more: not the pages (they stay
pending, as they should), but not the run's final figures, its status or the claims it gives
back either, so the operator would find a run still 'running' that did not say how it ended. A
crawl therefore holds a small file beside the archive (``archive.db-reserve``) while it writes
pages and deletes it before its last bookkeeping writes, which then fit in the room it leaves.

Best effort: a disk already full gets no reserve, and PostgreSQL (whose server owns its disk) none.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

RESERVE_BYTES = 256 * 1024  # some 60 pages of WAL: the final figures, a run's claims and its close


def reserve_path(url: str) -> Path | None:
    """Where the reserve of the SQLite archive at ``url`` lives (None: not a SQLite file)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database + "-reserve")


def hold(url: str, size: int = RESERVE_BYTES) -> bool:
    """Set the room aside (or keep the one already there); False when the disk has none to give."""
    path = reserve_path(url)
    if path is None:
        return False
    try:
        with open(path, "ab") as handle:
            if os.fstat(handle.fileno()).st_size < size:
                os.posix_fallocate(handle.fileno(), 0, size)  # real blocks, not a sparse file
        return True
    except OSError:
        release(url)  # a partial reserve would only take room
        return False


def release(url: str) -> None:
    """Give the room back to the archive's writes."""
    path = reserve_path(url)
    if path is not None:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only directory: nothing was reserved there
