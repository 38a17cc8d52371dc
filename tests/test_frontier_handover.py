"""Claims on a shared queue: the worker that pops a request takes its claim over from the one that
queued it; live workers renew their claims; an emptied queue gives every pending claim up."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from archive import frontier
from archive.models import FrontierURL, utcnow

URL = "http://news.test/story"


def holder_of(db, url=URL):
    with db.session() as session:
        return session.scalars(select(FrontierURL.claimed_by).where(FrontierURL.url == url)).first()


def test_the_popper_takes_the_claim_of_who_queued_it_and_a_second_copy_is_refused(db):
    frontier.enqueue(db, [(URL, None)], None)
    assert frontier.claim_urls(db, "pusher", [URL], ttl=60) == [URL]
    assert frontier.take_queued(db, "popper-1", URL, "pusher", ttl=60)
    assert holder_of(db) == "popper-1"
    assert not frontier.take_queued(db, "popper-2", URL, "pusher", ttl=60)  # a duplicate copy: not fetched
    frontier.mark_done(db, URL)
    assert not frontier.take_queued(db, "popper-3", URL, "popper-1", ttl=60)  # archived meanwhile
    assert frontier.take_queued(db, "popper-3", "http://news.test/not-in-the-frontier", "x")


def test_an_expired_claim_is_taken_by_whoever_pops_a_copy(db):
    frontier.enqueue(db, [(URL, None)], None)
    frontier.claim_urls(db, "dead", [URL], ttl=1)
    later = utcnow() + timedelta(seconds=5)
    assert frontier.take_queued(db, "popper", URL, "someone-else", ttl=60, now=later)


def test_renew_keeps_only_the_holders_pending_claims_alive(db):
    urls = [f"{URL}{n}" for n in range(3)]
    frontier.enqueue(db, [(u, None) for u in urls], None)
    frontier.claim_urls(db, "alive", urls[:2], ttl=1)
    frontier.claim_urls(db, "dead", urls[2:], ttl=1)
    frontier.mark_done(db, urls[1])
    assert frontier.renew(db, "alive", ttl=600) == 1
    later = utcnow() + timedelta(seconds=5)
    assert [e.url for e in frontier.claim(db, "requeuer", limit=10, now=later)] == urls[2:]


def test_release_pending_gives_up_every_claim_on_pending_urls(db):
    urls = [f"{URL}{n}" for n in range(3)]
    frontier.enqueue(db, [(u, None) for u in urls], None)
    frontier.claim_urls(db, "a", urls[:2], ttl=600)
    frontier.claim_urls(db, "b", urls[2:], ttl=600)
    assert frontier.release_pending(db) == 3
    assert {holder_of(db, u) for u in urls} == {None}
