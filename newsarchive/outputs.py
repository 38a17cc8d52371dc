"""Writing a command's output to a file, or to stdout: complete or not at all."""

from __future__ import annotations

import gzip as gzip_module
import io
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import click

from newsarchive.cli import UserError


@contextmanager
def output_file(path: str | None, binary: bool):
    """The file to write (stdout for none or "-"); text gzip-compressed when it ends with .gz
    (WARC compresses itself, record by record, as the format expects).

    A file is written under a temporary name beside it and renamed when complete, so a failure
    (disk full, interrupted) never leaves a partial export under the name asked for."""
    if path in (None, "-"):
        yield (getattr(sys.stdout, "buffer", None) or click.get_binary_stream("stdout")) if binary else sys.stdout
        return
    target = Path(path)
    try:
        handle = tempfile.NamedTemporaryFile("wb", dir=target.parent, prefix=f".{target.name}.", suffix=".part",
                                             delete=False)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with handle:
            if binary:
                yield handle
            elif path.endswith(".gz"):
                with gzip_module.open(handle, "wt", encoding="utf-8", newline="") as text:
                    yield text
            else:
                with io.TextIOWrapper(handle, encoding="utf-8", newline="") as text:
                    yield text
        os.replace(handle.name, target)
    except OSError as exc:
        Path(handle.name).unlink(missing_ok=True)
        raise UserError(f"could not write {path}: {exc.strerror or exc}; nothing was written") from None
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
