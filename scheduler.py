"""The scheduler: polls every enabled source on its own schedule, for months, unattended.

    python scheduler.py [--db URL] [options]      (the same as `newsarchive schedule`)

* ONE long-running crawl engine (crawler/engine.py) in this process, on one Twisted reactor with
  APScheduler's ``TwistedScheduler``: each due poll is handed to the running crawler as a
  request, so a poll of an unchanged feed costs milliseconds, not a process start.
* Every second the dispatch job asks the archive which polls are due (archive/due.py: adaptive
  intervals, backoff, Retry-After, crontab lines, jitter) and starts as many as there is
  capacity for (``--workers`` polls in flight). A poll that misses its time (no capacity, the
  scheduler was down) runs as soon as there is capacity, once: never dropped. How late each poll
  started is recorded on its source; `stats` flags sources overdue by more than an interval.
* A poll has a hard time limit (``--timeout``): cancelled and recorded as a failed poll.
* One scheduler per archive: a lease row (archive/lease.py) renewed every ttl/3. A second one
  refuses to start (or, with ``standby``, waits) and takes over once it expires; one that loses
  its lease stops (exit status 1).
* The scheduler's life is one crawl run (role ``schedule``) with a heartbeat; housekeeping every
  minute closes runs of dead processes, takes back the frontier's unclaimed pending URLs and,
  hourly, trains the sites' compression dictionaries.
* SIGTERM/SIGINT: no new polls; the engine closes (downloads end, the last batch is written)
  within ``stop_grace`` seconds, else (or on a second signal) the process stops at once: what it
  had not archived stays in the frontier. The engine closing by itself (MEMUSAGE_LIMIT_MB
  reached) ends the scheduler with exit status 3, for systemd to restart it.
"""

from __future__ import annotations

import logging

import click
from sqlalchemy.exc import SQLAlchemyError

from archive import lease
from archive.db import ArchiveError, Database, database_url, first_line
from crawler.engine_host import MEMORY_LIMIT_MB
from crawler.logredact import log_to_stderr
from crawler.overrides import SettingError, overrides_with_inherited, settings_option
from crawler.queue.link import QueueError, connect, queue_url
from crawler.scheduling import Scheduler, SchedulerConfig
from newsarchive.cli import Duration

LOG_FORMAT = "%(asctime)s [scheduler] %(levelname)s: %(message)s"


# -- the command line ----------------------------------------------------------------------------

def setup_logging(level: str = "INFO") -> None:
    log_to_stderr(LOG_FORMAT)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("newsarchive").setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("scrapy.middleware").setLevel(logging.ERROR)  # "Disabled ...: not configured"


def _duration(name: str, default: str, help_text: str, *, dest: str | None = None, zero_ok: bool = False):
    return click.option(name, *([dest] if dest else []), default=default, show_default=True, metavar="DURATION",
                        type=Duration(zero_ok), help=help_text)


@click.command("schedule")
@click.option("--db", "db_url", default=None, metavar="URL",
              help="Database URL or SQLite path (else that of `newsarchive --db`, else $NEWSARCHIVE_DB).")
@_duration("--sync-every", "1s", "How often the archive is asked for due polls (at most every second).")
@_duration("--timeout", "10m", "Hard limit on one poll: then it is cancelled and recorded as a failed poll.",
           dest="run_timeout")
@_duration("--stop-grace", "20s", "On SIGTERM/SIGINT, how long the engine gets to close before it is stopped.",
           zero_ok=True)
@_duration("--lease-ttl", "60s", "A dead scheduler's lease expires after this; it is renewed every third of it.")
@_duration("--max-jitter", "30s", "Delay spread over the sources' polls (at most 10% of each interval).",
           zero_ok=True)
@_duration("--misfire-grace", "5m", "Kept for old scripts: a missed poll now always runs as soon as it can.")
@click.option("--workers", default=16, show_default=True, type=click.IntRange(1, 1024),
              help="Polls in flight at the same time (their article fetches are not counted).")
@click.option("--standby", is_flag=True,
              help="If another scheduler holds the archive, wait and take over when its lease expires.")
@settings_option("A Scrapy setting for the engine, as `crawl -s` (repeatable); "
                 f"MEMUSAGE_LIMIT_MB defaults to {MEMORY_LIMIT_MB}.")
@click.option("--queue", "queue_flag", metavar="URL",
              help="Push due polls to this Redis queue for `newsarchive worker`s instead of crawling here "
                   "(else $NEWSARCHIVE_QUEUE, if set).")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="The scheduler's own log level.")
@click.pass_context
def schedule(ctx, db_url, sync_every, run_timeout, stop_grace, lease_ttl, max_jitter, misfire_grace, workers,
             standby, settings, queue_flag, log_level):
    """Run the scheduler: poll every enabled source on its schedule until SIGTERM or Ctrl-C.

    One long-running crawl engine in this process takes every poll. One scheduler per archive:
    a second one refuses to start (or with --standby waits) and takes over by itself when the
    first one's lease expires. Logs go to stderr. Exit status 3: the memory limit was reached
    (a service manager restarts it).

    Example: newsarchive --db /var/lib/newsarchive/archive.db schedule -s DOWNLOAD_DELAY=2
    """
    root = ctx.find_root()  # under `newsarchive`, the archive is its --db
    try:
        config = SchedulerConfig(dispatch_seconds=min(1.0, sync_every), run_timeout=run_timeout,
                                 stop_grace=stop_grace, lease_ttl=lease_ttl, max_jitter=max_jitter,
                                 max_workers=workers, standby=standby,
                                 crawl_settings=overrides_with_inherited(settings), queue_url=queue_url(queue_flag))
        db = Database(database_url(db_url or (root.params.get("db_url") if root is not ctx else None)))
        if config.queue_url is not None:
            connect(config.queue_url, check=True)  # a wrong URL or password: one line now
        setup_logging(log_level)
        ctx.exit(Scheduler(db, config).serve())
    except (SettingError, ArchiveError, lease.LeaseHeld, QueueError) as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(f"the archive could not be written or read: {first_line(exc)}") from None


if __name__ == "__main__":
    schedule.main(prog_name="scheduler.py")
