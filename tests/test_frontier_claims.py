"""Frontier claims: a URL being fetched by one crawl is skipped by the others until its claim expires."""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
import time
from datetime import timedelta

from sqlalchemy import select

from archive import frontier
from archive.db import Database
from archive.lease import new_holder
from archive.models import FrontierURL, utcnow
from archive.sources import add_source
from scheduling_helpers import FAST_CRAWL, ITEMS, feed_with, wait_for
from tests.clirun import crawl, start_crawl


def enqueue(db, count, *, source_id=None, prefix="http://news.test/a"):
    urls = [f"{prefix}{n}" for n in range(count)]
    frontier.enqueue(db, [(url, None) for url in urls], source_id)
    return urls


def claims(db):
    with db.session() as session:
        return {e.url: (e.claimed_by, e.state) for e in session.scalars(select(FrontierURL))}


def test_claimed_urls_are_skipped_by_other_holders_until_the_claim_expires(db):
    urls = enqueue(db, 6)
    first, second = "crawl-a", "crawl-b"
    got = frontier.claim(db, first, limit=4, ttl=60)
    assert [e.url for e in got] == urls[:4]  # oldest first
    assert all(e.claimed_by == first and e.claimed_until > utcnow() for e in got)
    assert [e.url for e in frontier.claim(db, second, limit=10, ttl=60)] == urls[4:]
    assert frontier.claim(db, "crawl-c", limit=10) == []
    assert [e.url for e in frontier.iter_pending(db)] == []  # everything is being fetched by someone
    assert [e.url for e in frontier.iter_pending(db, holder=first)] == urls[:4]  # a holder sees its own

    later = utcnow() + timedelta(seconds=61)  # both crawls died: their claims lapse
    assert [e.url for e in frontier.claim(db, "crawl-c", limit=10, now=later)] == urls
    assert {holder for holder, _ in claims(db).values()} == {"crawl-c"}


def test_archiving_or_failing_a_url_clears_its_claim(db):
    urls = enqueue(db, 3)
    frontier.claim(db, "crawl-a", limit=3)
    frontier.mark_done(db, urls[0])
    frontier.mark_failed(db, urls[1], "HTTP 503")
    state = claims(db)
    assert state[urls[0]] == (None, "done")
    assert state[urls[1]] == (None, "pending")  # a failure is retried, by any crawl
    assert [e.url for e in frontier.claim(db, "crawl-b", limit=5)] == [urls[1]]
    for _ in range(frontier.MAX_ATTEMPTS - 1):
        frontier.mark_failed(db, urls[1], "HTTP 503")
    assert claims(db)[urls[1]] == (None, "failed")
    # the one left is still crawl-a's until its claim lapses; a failed URL is never claimed again
    assert frontier.claim(db, "crawl-b", limit=5) == []
    assert [e.url for e in frontier.claim(db, "crawl-b", limit=5, now=utcnow() + timedelta(hours=1))] == [urls[2]]


def test_claim_by_source_and_claim_specific_urls(db):
    with db.transaction() as session:
        one = add_source(session, "http://news.test/feed-1")[0].id
        two = add_source(session, "http://news.test/feed-2")[0].id
    mine = enqueue(db, 3, source_id=one, prefix="http://news.test/one/")
    theirs = enqueue(db, 2, source_id=two, prefix="http://news.test/two/")
    assert [e.url for e in frontier.claim(db, "crawl-a", source_id=two)] == theirs
    # freshly discovered URLs: the holder gets those pending and free, never another's
    wanted = [theirs[0], mine[0], mine[1], "http://news.test/never-enqueued"]
    assert frontier.claim_urls(db, "crawl-b", wanted) == [mine[0], mine[1]]
    frontier.mark_done(db, mine[2])
    assert frontier.claim_urls(db, "crawl-b", [mine[2], mine[0]]) == [mine[0]]  # done is not claimable; own is
    assert frontier.claim(db, "crawl-c", source_id=one) == []


def test_extend_and_release(db):
    urls = enqueue(db, 3)
    frontier.claim(db, "crawl-a", limit=3, ttl=10)
    soon = utcnow() + timedelta(seconds=30)
    assert frontier.extend(db, "crawl-a", urls[:1], ttl=60) == 1
    assert frontier.extend(db, "crawl-b", urls, ttl=60) == 0  # not its claims
    assert [e.url for e in frontier.claim(db, "crawl-b", limit=5, now=soon)] == urls[1:]  # only the extended one stays
    assert frontier.release(db, "crawl-a") == 1
    assert frontier.release(db, "crawl-b", [urls[1]]) == 1
    assert {url: holder for url, (holder, _) in claims(db).items()} == {urls[0]: None, urls[1]: None,
                                                                       urls[2]: "crawl-b"}


def _race(db_url, workers, work):
    """Run ``work(db, holder)`` in concurrent threads, each with its own connection; their results."""
    barrier = threading.Barrier(workers)
    results, errors = {}, []

    def run():
        database = Database(db_url, migrate=False)
        holder = new_holder() + f":{threading.get_ident()}"
        try:
            barrier.wait(timeout=30)
            results[holder] = work(database, holder)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_concurrent_claimers_never_get_the_same_url(db, db_url):
    urls = enqueue(db, 400)

    def drain(database, holder):
        mine = []
        while batch := frontier.claim(database, holder, limit=7, ttl=600):
            mine += [e.url for e in batch]
        return mine

    results = _race(db_url, 4, drain)
    taken = [url for got in results.values() for url in got]
    assert sorted(taken) == sorted(urls)  # every URL once: none twice, none lost
    assert sum(1 for got in results.values() if got) >= 2  # they really ran side by side
    assert {holder for holder, _ in claims(db).values()} == {holder for holder, got in results.items() if got}


def test_concurrent_claim_urls_split_the_same_list(db, db_url):
    urls = enqueue(db, 300)
    results = _race(db_url, 3, lambda database, holder: frontier.claim_urls(database, holder, urls, ttl=600))
    taken = [url for got in results.values() for url in got]
    assert sorted(taken) == sorted(urls)


def test_claims_of_a_dead_process_of_this_host_are_released_at_once_others_kept(db):
    urls = enqueue(db, 3)
    host = socket.gethostname()
    dead, live, remote = f"{host}:999999:aa", f"{host}:{os.getpid()}:bb", "elsewhere.example:999999:cc"
    for holder, url in zip((dead, live, remote), urls):
        assert frontier.claim_urls(db, holder, [url], ttl=600) == [url]
    released = frontier.release_dead(db, alive=lambda pid: pid == os.getpid())
    assert released == 1
    assert claims(db) == {urls[0]: (None, "pending"), urls[1]: (live, "pending"), urls[2]: (remote, "pending")}


def test_a_running_crawl_keeps_its_claims_past_their_ttl_by_its_heartbeat(site, sqlite_url, tmp_path):
    db = Database(sqlite_url)
    site.set_page("/feed.xml", feed_with(4), content_type="application/rss+xml; charset=utf-8")
    for item in ITEMS[:4]:
        site.set_delay(re.search(r"<link>\{\{base\}\}([^?<]+)", item).group(1), 30)  # article fetches hang
    with db.transaction() as session:
        sid = add_source(session, site.url("/feed.xml"))[0].id
    proc = start_crawl(sqlite_url, str(sid), log=tmp_path / "crawl.log",
                       settings={**FAST_CRAWL, "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
                                 "NEWSARCHIVE_CLAIM_SECONDS": "2", "NEWSARCHIVE_HEARTBEAT_SECONDS": "0.5"})
    try:
        wait_for(lambda: any(holder for holder, _ in claims(db).values()), 30, what="the crawl's claims")
        time.sleep(4)  # twice the TTL
        assert frontier.claim(db, "another-crawl", limit=10) == []  # still held: renewed by the heartbeat
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    later = utcnow() + timedelta(seconds=3)  # its heartbeat stopped: the claims lapse after the TTL
    assert len(frontier.claim(db, "another-crawl", limit=10, now=later)) == 4
    db.dispose()


def test_a_fetch_that_fails_after_a_redirect_is_counted_on_the_url_the_frontier_knows(site, sqlite_url):
    # the failure's request is the redirected one: its claim and its attempt belong to the URL found
    db = Database(sqlite_url)
    site.set_page("/moved/", "moved", status=302)
    site.set_headers("/moved/", {"Location": site.url("/gone/")})
    site.set_page("/gone/", "gone", status=404)
    site.set_page("/feed.xml", feed_of([site.url("/moved/")]), content_type="application/rss+xml; charset=utf-8")
    with db.transaction() as session:
        sid = add_source(session, site.url("/feed.xml"))[0].id
    crawl(sqlite_url, str(sid), settings=FAST_CRAWL)
    assert {r.path for r in site.requests} >= {"/moved/", "/gone/"}
    with db.session() as session:
        entry = session.scalars(select(FrontierURL).where(FrontierURL.url == site.url("/moved/"))).one()
        assert (entry.attempts, entry.claimed_by) == (1, None)
        assert "404" in entry.last_error
    db.dispose()


def feed_of(links: list[str]) -> str:
    items = "".join(f"<item><title>t{i}</title><link>{link}</link></item>" for i, link in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>'
