"""The extraction pool in real worker processes: results come back to the reactor as Deferreds;
a page that hangs, crashes its worker or eats memory fails alone with its reason, and the pool
goes on with fresh workers; workers are recycled after a number of pages."""

from __future__ import annotations

import subprocess
import sys

import pytest
from twisted.internet import defer, reactor

from crawler.extraction_pool import ExtractionFailed, ExtractionPool
from tests import pool_targets
from tests.clirun import ROOT

pytestmark = pytest.mark.timeout(120)


def run(deferred_factory):
    """Run Twisted work to completion on a private reactor loop (iterate until it fires)."""
    results = []
    deferred_factory().addBoth(results.append)
    deadline = reactor.seconds() + 60
    while not results and reactor.seconds() < deadline:
        reactor.iterate(0.05)
    assert results, "timed out"
    return results[0]


def settled(pool, calls):
    return run(lambda: defer.DeferredList([pool.extract(b"x" * n, f"https://news.example/{n}") for n in calls],
                                          consumeErrors=True))


@pytest.fixture
def pool_of():
    pools = []

    def make(function, **options):
        pools.append(ExtractionPool(reactor, processes=2, function=function, **options))
        return pools[-1]

    yield make
    for pool in pools:
        pool.close()


def test_results_come_back_as_deferreds(pool_of):
    pool = pool_of(pool_targets.echo)
    outcomes = settled(pool, range(1, 21))
    assert all(ok for ok, _ in outcomes)
    assert sorted(value[0] for _, value in outcomes) == list(range(1, 21))


def test_the_real_extractor_runs_in_the_workers(pool_of):
    from crawler.extraction_pool import extract_page

    pool = pool_of(extract_page)
    html = ("<html lang='fr'><head><title>Un titre</title></head><body><article><h1>Un titre</h1>"
            + "<p>Un paragraphe assez long pour être gardé par l'extracteur, avec des mots.</p>" * 8
            + "</article></body></html>").encode()
    article = run(lambda: pool.extract(html, "https://news.example/2024/11/12/un-titre/"))
    assert article.title == "Un titre" and "paragraphe assez long" in article.text and article.language == "fr"


@pytest.mark.parametrize("function, reason", [(pool_targets.hang, "timeout"), (pool_targets.crash, "crashed"),
                                              (pool_targets.hog, "memory")])
def test_a_bad_page_fails_alone_and_the_pool_goes_on(pool_of, function, reason):
    bad = pool_of(function, timeout=1.5, memory_mb=1024)
    failure = run(lambda: bad.extract(b"page", "https://news.example/bad"))
    assert isinstance(failure.value, ExtractionFailed) and failure.value.reason == reason
    # the same pool still works for the next pages: its worker was replaced
    bad.function = pool_targets.echo
    assert all(ok for ok, _ in settled(bad, range(1, 5)))


def test_workers_are_recycled_after_max_tasks(pool_of):
    pool = pool_of(pool_targets.echo, max_tasks=3)
    pids = {value[2] for ok, value in settled(pool, range(1, 31)) if ok}
    assert len(pids) >= 30 // 3 // 2  # at most 3 pages per worker process


def test_workers_start_warm_from_the_fork_server(pool_of):
    # each worker's first page finds the extractor's lazily loaded data already there (loaded
    # once, in the fork server), instead of paying for it on the page
    pool = pool_of(pool_targets.warmth)
    firsts = settled(pool, [1, 2])
    assert [value for _, value in firsts] == [(True, True, True)] * 2


_LOCALES = """
import sys
from twisted.internet import reactor
from crawler.extraction_pool import ExtractionPool
from tests import pool_targets
pool = ExtractionPool(reactor, processes=1, function=pool_targets.date_locales, warm_date_locales=sys.argv[1] == "1")
print(pool.extract_waiting(b"", "https://news.example/"))
pool.close()
"""


@pytest.mark.parametrize("warm", [True, False])
def test_a_long_running_pool_starts_its_workers_with_every_date_locale_loaded(warm):
    # its own process: the first pool of a process decides what the fork server preloads
    result = subprocess.run([sys.executable, "-c", _LOCALES, "1" if warm else "0"], cwd=ROOT, capture_output=True,
                            text=True, timeout=90)
    assert result.returncode == 0, result.stderr
    loaded = int(result.stdout.split()[-1])
    assert loaded > 150 if warm else loaded < 20, loaded


_EARLY = """
import os, sys
from pathlib import Path
from scrapy.settings import Settings
from crawler import fork_server

def children():
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.add(int(stat.parent.name))
        except (OSError, ValueError):
            pass
    return found

fork_server.start(Settings({"NEWSARCHIVE_EXTRACT_PROCESSES": sys.argv[1]}))
early = children()
if sys.argv[1] == "0":
    print(bool(early), "-")
else:
    from twisted.internet import reactor
    from crawler.extraction_pool import ExtractionPool
    from tests import pool_targets
    pool = ExtractionPool(reactor, processes=1, function=pool_targets.parent)
    print(bool(early), pool.extract_waiting(b"", "https://news.example/") in early)
    pool.close()
"""


@pytest.mark.parametrize("processes, expected", [("2", "True True"), ("0", "False -")])
def test_a_crawl_starts_its_fork_server_before_the_pool_and_the_pool_forks_from_it(processes, expected):
    # the server warms up while the crawler opens; an inline crawl (0 processes) starts none
    result = subprocess.run([sys.executable, "-c", _EARLY, processes], cwd=ROOT, capture_output=True, text=True,
                            timeout=90)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == expected, result.stdout


_PAGE = ("<html lang='fr'><head><title>Un titre</title></head><body><article><h1>Un titre</h1>"
         + "".join(f"<p>Paragraphe numéro {n}, assez long pour être gardé par l'extracteur, avec des mots.</p>"
                   for n in range(8))
         + "<p>La rédaction de la vallée remercie les habitants qui ont répondu à ses questions ce matin.</p>"
         + "</article></body></html>").encode()


def test_a_crawl_worker_removes_known_furniture_and_keys_the_text_as_archived(pool_of):
    from archive.dedup import BandKeys, keys_for
    from archive.text import line_fingerprint, normalize_text
    from crawler.extraction_pool import Prepared, extract_page

    sign_off = "La rédaction de la vallée remercie les habitants qui ont répondu à ses questions ce matin."
    pool = pool_of(extract_page)
    url = "https://news.example/2024/11/12/un-titre/"
    article, lines, keys = run(lambda: pool.extract_for_archive(_PAGE, url, frozenset({line_fingerprint(sign_off)})))
    assert sign_off not in article.text and "Paragraphe numéro 7" in article.text
    assert sign_off in lines.values() and len(lines) == 9  # every line of the page, for learning
    assert lines[line_fingerprint("Paragraphe numéro 3, assez long pour être gardé par l'extracteur, avec des mots.")]
    # the keys are the archived text's: the writer uses them instead of computing its own
    assert keys == BandKeys.of(article.text)
    assert keys_for(article.text, normalize_text(article.text), keys) == list(keys.keys) and keys.keys

    unlearned = run(lambda: pool.extract_for_archive(_PAGE, url, None))
    assert isinstance(unlearned, Prepared) and sign_off in unlearned.article.text and unlearned.lines == {}
