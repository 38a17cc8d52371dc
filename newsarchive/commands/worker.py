"""`newsarchive worker`: crawl workers of the shared queue (crawler/worker.py), one per process.

With ``--processes N`` this process only supervises N workers: each a `newsarchive worker` of its
own, given the archive and the queue in its environment (not its command line, which `ps` shows
to every user of the machine), started again when it dies, ended with SIGTERM when this one is.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import click
from sqlalchemy.exc import SQLAlchemyError

from archive.db import ArchiveError, Database, first_line
from crawler import processes
from crawler.logredact import log_to_stderr
from crawler.overrides import SETTINGS_ENV, SettingError, overrides_with_inherited, settings_option
from crawler.queue.link import PREFIX_ENV, QUEUE_ENV, QueueError, queue_url
from crawler.worker import Worker, WorkerConfig
from newsarchive.cli import Duration, pass_context

logger = logging.getLogger("newsarchive.worker")

LOG_FORMAT = "%(asctime)s [worker %(process)d] %(levelname)s: %(message)s"
RESTART_SECONDS = 5.0


def setup_logging(level: str) -> None:
    log_to_stderr(LOG_FORMAT)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("newsarchive").setLevel(level)
    logging.getLogger("crawler").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("scrapy.middleware").setLevel(logging.ERROR)


@click.command()
@click.option("--queue", "queue_flag", metavar="URL",
              help=f"The shared queue, a Redis URL (redis://, rediss:// for TLS); else ${QUEUE_ENV}.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 256),
              help="How many worker processes to run on this machine.")
@click.option("--stop-grace", default="20s", show_default=True, metavar="DURATION", type=Duration(zero_ok=True),
              help="On SIGTERM/SIGINT, how long the engine gets to close before it is stopped.")
@click.option("--requeue-every", default="60s", show_default=True, metavar="DURATION", type=Duration(),
              help="How often expired claims go back on the queue (and an emptied queue is re-seeded).")
@settings_option("A Scrapy setting for the engine, as `crawl -s` (repeatable).")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), help="The worker's own log level.")
@pass_context
def worker(ctx, queue_flag, processes, stop_grace, requeue_every, settings, log_level):
    """Run a crawl worker of the shared queue until SIGTERM or Ctrl-C.

    It takes polls and article fetches from the queue and archives into --db: run any number,
    on any number of machines, against one queue and one PostgreSQL archive. Logs go to stderr.
    Exit status 3: the memory limit was reached (a service manager restarts it).

    Example: NEWSARCHIVE_QUEUE=rediss://:secret@queue.lan:6379/0 newsarchive --db postgresql+psycopg://db.lan/news
    worker --processes 2
    """
    try:
        url = queue_url(queue_flag)
        if url is None:
            raise click.ClickException(f"no queue: give --queue URL or set {QUEUE_ENV}")
        crawl_settings = overrides_with_inherited(settings)
        setup_logging(log_level)
        if processes > 1:
            return _supervise(ctx.db_url, url, processes, crawl_settings,
                              [f"--stop-grace={stop_grace}", f"--requeue-every={requeue_every}",
                               f"--log-level={log_level}"], stop_grace)
        config = WorkerConfig(queue_url=url, prefix=os.environ.get(PREFIX_ENV), stop_grace=stop_grace,
                              requeue_seconds=requeue_every, crawl_settings=crawl_settings)
        return Worker(ctx.db, config).serve()
    except (SettingError, ArchiveError, QueueError) as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        raise click.ClickException(f"the archive could not be written or read: {first_line(exc)}") from None


def _supervise(db_url: str, url: str, count: int, settings: dict[str, str], args: list[str],
               grace: float) -> int:
    """Run ``count`` single workers until SIGTERM/SIGINT, starting again any that dies."""
    Database(db_url).dispose()  # migrated once here, before the workers open it
    env = dict(os.environ, NEWSARCHIVE_DB=db_url, **{QUEUE_ENV: url, SETTINGS_ENV: json.dumps(settings)})
    argv = [sys.executable, "-m", "newsarchive", "worker", "--processes=1", *args]
    stopping, force = threading.Event(), threading.Event()
    processes.stop_on_signals(stopping, force)
    children: list[subprocess.Popen] = [subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                                         start_new_session=True) for _ in range(count)]
    logger.info("started %d workers: %s", count, ", ".join(str(c.pid) for c in children))
    died: dict[int, float] = {}
    while not stopping.is_set():
        time.sleep(0.2)
        for index, child in enumerate(children):
            if child.poll() is None:
                continue
            since = died.setdefault(index, time.monotonic())
            if time.monotonic() - since >= RESTART_SECONDS:
                logger.warning("worker %d exited with status %d: starting another", child.pid, child.returncode)
                children[index] = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
                died.pop(index)
    processes.end_all(children, grace + 10, force)
    logger.info("workers stopped")
    statuses = {child.returncode for child in children}
    return 0 if statuses <= {0, -signal.SIGTERM} else 1


COMMANDS = [worker]
