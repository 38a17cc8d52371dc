"""Running a crawl in this process: one Twisted reactor, one or more spiders, one crawl_runs row.

Each `newsarchive crawl` is its own process (a Twisted reactor cannot be restarted), which is
why the scheduler runs crawls as subprocesses.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive import runs
from archive.db import ArchiveError, Database
from archive.models import CrawlRun, Source
from archive.redact import redact
from crawler import logredact
from crawler.project import project_settings

SPIDER_FOR_KIND = {"feed": "feeds", "sitemap": "sitemap", "site": "site"}


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
    """One spider per kind (or per named-site spider), each given the ids of its sources."""
    grouped: dict[str, list[int]] = defaultdict(list)
    for source in sources:
        grouped[source.spider or SPIDER_FOR_KIND[source.kind]].append(source.id)
    return [Job(spider, {"sources": ",".join(map(str, ids))}) for spider, ids in grouped.items()]


# Discovery order within one run: feeds first, site crawls last, so a later spider finds the
# articles an earlier one archived and does not fetch them again.
JOB_ORDER = {"feeds": 0, "sitemap": 1, "site": 3}


def _crawl_in_order(process: CrawlerProcess, jobs: list[Job], failures: list[str]) -> None:
    """Run the jobs one after another in the same reactor (CrawlerProcess.start waits for the chain);
    a job that fails to start or crashes is noted in ``failures`` and the next one still runs."""
    ordered = sorted(jobs, key=lambda job: JOB_ORDER.get(job.spider, 2))

    def failed(failure, job):
        failures.append(f"{job.spider}: {failure.type.__name__}: {redact(failure.getErrorMessage())}")
        logging.getLogger(__name__).error("spider %s failed: %s", job.spider, failures[-1])

    def crawl(_result, job: Job):
        return process.crawl(job.spider, **job.args).addErrback(failed, job)

    if not ordered:
        return
    chain = crawl(None, ordered[0])
    for job in ordered[1:]:
        chain.addCallback(crawl, job)


def run(db: Database, jobs: list[Job], *, overrides: dict[str, str] | None = None,
        source_id: int | None = None) -> CrawlRun:
    """Run the jobs to completion and return the finished run's record."""
    run_id = runs.start_run(db, source_id=source_id)
    settings = build_settings(db, run_id, overrides or {}, source_id=source_id)
    process = CrawlerProcess(settings)
    logredact.install()  # on the handler Scrapy just configured: no credentials in any log line
    failures: list[str] = []
    _crawl_in_order(process, jobs, failures)
    status, error = "ok", None
    try:
        process.start()
    except BaseException as exc:  # KeyboardInterrupt included: the run row must say what happened
        status, error = "failed", f"{type(exc).__name__}: {redact(str(exc))}"
        raise
    finally:
        if failures and status == "ok":
            status, error = "failed", "; ".join(failures)[:1000]
        runs.close_run(db, run_id, status=status, error=error)
    with db.session() as session:
        finished = session.get(CrawlRun, run_id)
    if finished is None:
        raise ArchiveError(f"crawl run {run_id} is no longer in the archive {db.safe_url}")
    return finished
