"""Masking credentials in text shown to people: error messages, log lines, tracebacks.

Masks the password of any ``scheme://user:password@host`` URL and the values of settings or
parameters named like *PASSWORD*, *TOKEN*, *SECRET*, *API_KEY*, *CREDENTIAL* (``NAME=value``,
``'NAME': 'value'``, as Scrapy's "Overridden settings" line prints them).
"""

from __future__ import annotations

import re

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s/:@'\"]*:)(?P<secret>[^\s/@'\"]+)(?=@)")
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|CREDENTIAL|PRIVATE_KEY", re.I)
_SECRET_VALUE = re.compile(
    r"(?P<head>(?P<quote>['\"]?)\b[\w.\-]*(?:" + SECRET_NAME.pattern + r")[\w.\-]*(?P=quote)\s*[:=]\s*"
    r"(?P<vquote>['\"])?)(?P<secret>(?(vquote)[^'\"]*|[^\s,;&}\])]+))", re.I)


def redact(text: str) -> str:
    """The text with credentials replaced by ***."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _SECRET_VALUE.sub(lambda m: m.group("head") + (MASK if m.group("secret") else ""), text)


def is_secret_name(name: str) -> bool:
    """Whether a setting of this name holds a secret (its value is never shown or put in argv)."""
    return bool(SECRET_NAME.search(name))
