"""Scrapy setting overrides, ``-s NAME=VALUE`` as `scrapy crawl -s` takes them: the option, the
checks of each value, and how a parent process hands them to the crawls it starts.

A scheduler passes its settings to each crawl process in the environment (SETTINGS_ENV, as JSON),
not in argv, which any user of the machine can read with `ps` (a -s ...PASSWORD=... must not
show there).
"""

from __future__ import annotations

import json
import math
import os

import click
from scrapy.settings import BaseSettings

from archive.redact import is_secret_name, redact
from crawler.project import project_settings

SETTINGS_ENV = "NEWSARCHIVE_CRAWL_SETTINGS"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingError(ValueError):
    """A malformed -s NAME=VALUE override."""


def settings_option(help_text: str = "Override a Scrapy setting, as `scrapy crawl -s` does (repeatable)."):
    """The shared `-s/--set NAME=VALUE` option (crawl, revisit, schedule)."""
    return click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help=help_text)


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """NAME=VALUE pairs as a dict, each value checked against the type of the setting's default
    (CONCURRENT_REQUESTS=abc is refused here, not by a traceback mid-crawl)."""
    overrides = {}
    defaults = project_settings()
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or not name.replace("_", "").isalnum() or not name.isascii():
            raise SettingError(f"expected NAME=VALUE, got {redact(pair)[:80]!r}")
        check_setting_value(name, value, defaults.get(name))
        overrides[name] = value
    return overrides


def overrides_with_inherited(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """The settings a parent process handed over in the environment, then the -s pairs given here."""
    try:
        inherited = json.loads(os.environ.get(SETTINGS_ENV) or "{}")
        inherited = {str(k): str(v) for k, v in dict(inherited).items()}
    except (ValueError, TypeError):
        raise SettingError(f"${SETTINGS_ENV} is not a JSON object of settings") from None
    return {**inherited, **parse_overrides(pairs)}


def check_setting_value(name: str, value: str, default) -> None:
    """Raise SettingError when ``value`` cannot be what a setting with this default expects."""
    shown = "***" if is_secret_name(name) else repr(value[:60])
    if name == "LOG_LEVEL" and value.strip().upper() not in LOG_LEVELS:
        raise SettingError(f"LOG_LEVEL: expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {shown}")
    try:
        if isinstance(default, bool):
            if value.strip().lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError
        elif isinstance(default, int):
            if int(value) < 0 <= default:
                raise ValueError
        elif isinstance(default, float):
            number = float(value)
            if not math.isfinite(number) or number < 0 <= default:
                raise ValueError
        elif isinstance(default, (dict, list, BaseSettings)) and value.strip()[:1] in ("{", "["):
            json.loads(value)
    except ValueError:
        kind = {bool: "true or false", int: "a whole number >= 0", float: "a number >= 0"}.get(
            type(default), "valid JSON")
        raise SettingError(f"{name}: expected {kind}, got {shown}") from None
