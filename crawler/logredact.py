"""A logging filter that keeps credentials out of logs.

Masks the password of any ``scheme://user:password@host`` URL, the values of settings or
parameters named like *PASSWORD*, *TOKEN*, *SECRET*, *API_KEY*, *CREDENTIAL* (as Scrapy's
"Overridden settings" line prints them: ``'NAME': 'value'``, or ``NAME=value``), and the same
in exception tracebacks. Install it on handlers (``install()``), since filters on a logger do
not see records propagated from child loggers.
"""

from __future__ import annotations

import logging
import re

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s/:@'\"]*:)(?P<secret>[^\s/@'\"]+)(?=@)")
_SECRET_NAME = r"[\w.\-]*(?:PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|CREDENTIAL|PRIVATE_KEY)[\w.\-]*"
_SECRET_VALUE = re.compile(
    r"(?P<head>(?P<quote>['\"]?)\b" + _SECRET_NAME + r"(?P=quote)\s*[:=]\s*(?P<vquote>['\"])?)"
    r"(?P<secret>(?(vquote)[^'\"]*|[^\s,;&}\])]+))", re.I)


def redact(text: str) -> str:
    """The text with credentials replaced by ***."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _SECRET_VALUE.sub(lambda m: m.group("head") + (MASK if m.group("secret") else ""), text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with credentials masked; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logging's problem to report, not ours
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
