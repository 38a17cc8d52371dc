"""A one-shot crawl in this process (`newsarchive crawl`, `revisit`): one reactor, the `engine`
spider (or `revisit`), one crawl_runs row, closed when there is nothing left to fetch.

The scheduler runs the same spider for as long as it runs instead (crawler/engine.py); both
build their settings here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from archive import frontier, runs
from archive.db import ArchiveError, Database
from archive.models import CrawlRun, Source
from archive.redact import redact
from crawler import fork_server, logredact
from crawler.processes import pid_alive
from crawler.project import project_settings


@dataclass(frozen=True)
class Job:
    spider: str
    args: dict[str, str]


def build_settings(db: Database, run_id: int, overrides: dict[str, str], *,
                   source_id: int | None = None) -> Settings:
    settings = project_settings()
    settings.set("NEWSARCHIVE_DB", db.url, priority="cmdline")
    settings.set("NEWSARCHIVE_RUN_ID", run_id, priority="cmdline")
    # Plain lines that say which run (and source) they belong to, whoever collects them.
    where = f"run {run_id}" + (f" source {source_id}" if source_id is not None else "")
    settings.set("LOG_FORMAT", f"%(asctime)s [{where}] %(levelname)s %(name)s: %(message)s", priority="project")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    if "NEWSARCHIVE_CONTACT_URL" in overrides and "USER_AGENT" not in overrides:
        agent = settings.get("USER_AGENT").split(" (+")[0]
        settings.set("USER_AGENT", f"{agent} (+{overrides['NEWSARCHIVE_CONTACT_URL']})", priority="cmdline")
    return settings


def jobs_for_sources(sources: list[Source]) -> list[Job]:
    """The engine spider, given the ids of the sources (of every kind and named site)."""
    return [Job("engine", {"sources": ",".join(str(s.id) for s in sources)})] if sources else []


# Several jobs (a spider named on purpose) run one after another in the same reactor.
JOB_ORDER = {"engine": 0, "revisit": 1}


def _crawl_in_order(process: CrawlerProcess, jobs: list[Job], failures: list[str]) -> list[Crawler]:
    """Run the jobs one after another in the same reactor (CrawlerProcess.start waits for the chain);
    a job that fails to start or crashes is noted in ``failures`` and the next one still runs.
    Their crawlers, whose stats hold the figures once they have run."""
    ordered = sorted(jobs, key=lambda job: JOB_ORDER.get(job.spider, 2))
    crawlers = [process.create_crawler(job.spider) for job in ordered]

    def failed(failure, job):
        failures.append(f"{job.spider}: {failure.type.__name__}: {redact(failure.getErrorMessage())}")
        logging.getLogger(__name__).error("spider %s failed: %s", job.spider, failures[-1])

    def crawl(_result, job: Job, crawler: Crawler):
        return process.crawl(crawler, **job.args).addErrback(failed, job)

    if ordered:
        chain = crawl(None, ordered[0], crawlers[0])
        for job, crawler in zip(ordered[1:], crawlers[1:]):
            chain.addCallback(crawl, job, crawler)
    return crawlers


def final_figures(crawlers: list[Crawler]) -> dict | None:
    """The jobs' stats added up (None when none ran): the run's figures, straight from memory."""
    ran = [crawler.stats.get_stats() for crawler in crawlers if crawler.stats is not None]
    ran = [stats for stats in ran if stats]
    if not ran:
        return None
    figures: dict = {}
    for stats in ran:
        for key, value in stats.items():
            if isinstance(value, int) and not isinstance(value, bool):
                figures[key] = figures.get(key, 0) + value
    reasons = [stats.get("finish_reason") for stats in ran]
    figures["finish_reason"] = next((r for r in reasons if r != "finished"), "finished")
    return figures


def run(db: Database, jobs: list[Job], *, overrides: dict[str, str] | None = None,
        source_id: int | None = None) -> CrawlRun:
    """Run the jobs to completion and return the finished run's record."""
    frontier.release_dead(db, pid_alive)  # a killed crawl's URLs are this run's to fetch now
    run_id = runs.start_run(db, source_id=source_id)
    settings = build_settings(db, run_id, overrides or {}, source_id=source_id)
    fork_server.start(settings)  # the pool's workers warm up while the crawler sets itself up
    process = CrawlerProcess(settings)
    logredact.install()  # on the handler Scrapy just configured: no credentials in any log line
    failures: list[str] = []
    crawlers = _crawl_in_order(process, jobs, failures)
    status, error = "ok", None
    try:
        process.start()
    except BaseException as exc:  # KeyboardInterrupt included: the run row must say what happened
        status, error = "failed", f"{type(exc).__name__}: {redact(str(exc))}"
        raise
    finally:
        if failures and status == "ok":
            status, error = "failed", "; ".join(failures)[:1000]
        runs.close_run(db, run_id, status=status, error=error, stats=final_figures(crawlers))
    with db.session() as session:
        finished = session.get(CrawlRun, run_id)
    if finished is None:
        raise ArchiveError(f"crawl run {run_id} is no longer in the archive {db.safe_url}")
    return finished
