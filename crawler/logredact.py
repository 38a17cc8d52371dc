"""A logging filter that keeps credentials out of logs (archive/redact.py says what is masked).

Install it on handlers (``install()``), since filters on a logger do not see records propagated
from child loggers. Tracebacks are masked too.
"""

from __future__ import annotations

import logging
import sys

from archive.redact import MASK, redact

__all__ = ["MASK", "RedactingFilter", "install", "log_to_stderr", "redact"]


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with credentials masked; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logging's problem to report, not ours
            return True
        masked = redact(message)
        if masked != message or record.args:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add the filter to every handler of ``logger`` (the root logger by default), once."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        existing = [f for f in handler.filters if isinstance(f, RedactingFilter)]
        if not existing:
            handler.addFilter(RedactingFilter())
    return RedactingFilter()


def log_to_stderr(line_format: str) -> None:
    """Plain lines on stderr, credentials masked, for journald, log files and terminals alike: the
    root logger's only handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(line_format))
    handler.addFilter(RedactingFilter())
    logging.getLogger().handlers[:] = [handler]
