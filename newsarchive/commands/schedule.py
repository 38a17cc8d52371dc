"""`newsarchive schedule`: run the scheduler (same as `python scheduler.py`)."""

from __future__ import annotations

import logging
import re
import sys

import click

from crawler import logredact
from newsarchive.cli import UserError, parse_settings, pass_context, settings_option

LOG_FORMAT = "%(asctime)s [scheduler] %(levelname)s: %(message)s"


_DURATION = re.compile(r"^\s*([0-9]{1,9}(?:\.[0-9]{1,6})?)\s*([smhd]?)\s*$", re.ASCII)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_DURATION = 7 * 86400.0


def _seconds(text: str, option: str, *, zero_ok: bool = False) -> float:
    """A duration such as 30s, 5m, 1h, 1d or a bare number of seconds, more than 0 (or 0 when
    ``zero_ok``) and at most a week."""
    match = _DURATION.match(text or "")
    seconds = float(match.group(1)) * _UNITS[match.group(2)] if match else -1.0
    if seconds < 0 or seconds > MAX_DURATION or (seconds == 0 and not zero_ok):
        low = "0" if zero_ok else "more than 0"
        raise UserError(f"{option}: not a duration: {str(text)[:40]!r} (use e.g. 30s, 5m, 1h; {low}, at most 7d)")
    return seconds


def setup_logging(level: str = "INFO") -> None:
    """Plain lines on stderr, credentials masked, for journald, log files and terminals alike."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(logredact.RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("newsarchive").setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


@click.command()
@click.option("--sync-every", default="60s", show_default=True, metavar="DURATION",
              help="How often the sources table is re-read (source changes show within this).")
@click.option("--timeout", "run_timeout", default="1h", show_default=True, metavar="DURATION",
              help="Hard limit on one crawl; its process group is then terminated, then killed.")
@click.option("--stop-grace", default="20s", show_default=True, metavar="DURATION",
              help="On SIGTERM/SIGINT (or a timeout), how long crawls get to finish before SIGKILL.")
@click.option("--lease-ttl", default="60s", show_default=True, metavar="DURATION",
              help="A dead scheduler's lease expires after this; it is renewed every third of it.")
@click.option("--max-jitter", default="30s", show_default=True, metavar="DURATION",
              help="Random delay added to each poll (at most 10% of its interval).")
@click.option("--misfire-grace", default="5m", show_default=True, metavar="DURATION",
              help="A poll missed by less than this (busy machine, suspend) still runs.")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Crawls running at the same time.")
@click.option("--standby", is_flag=True,
              help="If another scheduler holds the archive, wait and take over when its lease expires.")
@settings_option("A Scrapy setting for every crawl, as `crawl -s` (repeatable).")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="The scheduler's own log level.")
@pass_context
def schedule(ctx, sync_every, run_timeout, stop_grace, lease_ttl, max_jitter, misfire_grace, workers,
             standby, settings, log_level):
    """Run the scheduler: poll every enabled source on its schedule until SIGTERM or Ctrl-C.

    One scheduler per archive: a second one refuses to start (or with --standby waits) and takes
    over by itself when the first one's lease expires. Logs go to stderr.

    Example: newsarchive --db /var/lib/newsarchive/archive.db schedule -s DOWNLOAD_DELAY=2
    """
    import scheduler

    crawl_settings = parse_settings(settings)
    config = scheduler.SchedulerConfig(
        sync_seconds=_seconds(sync_every, "--sync-every"), run_timeout=_seconds(run_timeout, "--timeout"),
        stop_grace=_seconds(stop_grace, "--stop-grace", zero_ok=True), lease_ttl=_seconds(lease_ttl, "--lease-ttl"),
        max_jitter=_seconds(max_jitter, "--max-jitter", zero_ok=True),
        misfire_grace=_seconds(misfire_grace, "--misfire-grace"), max_workers=workers,
        standby=standby, crawl_settings=crawl_settings)
    setup_logging(log_level)
    try:
        return scheduler.Scheduler(ctx.db, config).serve()
    except scheduler.LeaseHeld as exc:
        raise UserError(str(exc)) from None


COMMANDS = [schedule]
