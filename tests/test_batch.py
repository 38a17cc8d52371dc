"""Batched archive writes: one transaction per batch, one savepoint per item, furniture learned first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace

from sqlalchemy import event, func, select

from archive import frontier, furniture
from archive.batch import BatchItem, Rejected, save_batch
from archive.dedup import BandKeys
from archive.models import Article, ArticleBand, BlockedFetch, FrontierURL, RawPage, Revision, SiteLine
from archive.store import ArticleFields, Outcome, Page, find_article
from archive.text import line_fingerprint
from scheduling_helpers import ROOT

SIGN_OFF = "Retrouvez toute l'actualité de la région sur notre site et dans notre édition papier."
QUOTE = "« Nous ne lâcherons rien », a déclaré la porte-parole devant la préfecture."


def story(n: int, *extra: str) -> str:
    own = [f"Paragraphe {n}.{i} : un texte propre à cet article numéro {n}, ligne {i}." for i in range(3)]
    return "\n".join([*own, *extra])


def lines_of(text: str) -> dict[int, str]:
    return {line_fingerprint(line): line for line in text.splitlines()}


def item(url: str, text: str, **kwargs) -> BatchItem:
    page = Page(url=url, status=200, headers=[], body=f"<html><p>{text}</p></html>".encode())
    return BatchItem(page=page, fields=ArticleFields(text=text, title=url.rsplit("/", 1)[-1]), frontier_url=url,
                     lines=lines_of(text), **kwargs)


def frontier_of(db) -> dict[str, tuple[str, int]]:
    with db.session() as session:
        return {e.url: (e.state, e.attempts) for e in session.scalars(select(FrontierURL))}


def count(db, column) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(column)))


def test_a_batch_archives_marks_the_frontier_and_counts_lines_in_one_transaction(db):
    urls = [f"https://journal.test/{n}" for n in range(5)]
    frontier.enqueue(db, [(url, None) for url in urls], None)
    frontier.claim(db, "crawl-a", limit=10)
    saved = save_batch(db, [item(url, story(n)) for n, url in enumerate(urls)])
    assert [r.saved.outcome for r in saved] == [Outcome.NEW] * 5 and all(r.ok for r in saved)
    assert frontier_of(db) == {url: ("done", 0) for url in urls}
    with db.session() as session:
        assert furniture.learned_pages(session, "journal.test") == 5
        assert session.scalar(select(func.count()).where(FrontierURL.claimed_by.is_not(None))) == 0
    again = save_batch(db, [item(urls[0], story(0)), item(urls[1], story(1, "Une correction."))])
    assert [r.saved.outcome for r in again] == [Outcome.UNCHANGED, Outcome.REVISION]
    with db.session() as session:
        assert furniture.learned_pages(session, "journal.test") == 5  # a page is learned once


def test_one_refused_item_rolls_back_alone_and_counts_a_failed_attempt(db):
    urls = [f"https://journal.test/{n}" for n in range(3)]
    frontier.enqueue(db, [(url, None) for url in urls], None)
    batch = [item(urls[0], story(0)), item(urls[1], story(1), source_id=987654),  # its source is gone
             item(urls[2], story(2))]
    saved = save_batch(db, batch)
    assert [r.ok for r in saved] == [True, False, True]
    assert "foreign key" in saved[1].error.lower()
    assert frontier_of(db) == {urls[0]: ("done", 0), urls[1]: ("pending", 1), urls[2]: ("done", 0)}
    assert count(db, Article.id) == 2 and count(db, RawPage.id) == 2 and count(db, Revision.id) == 2
    with db.session() as session:
        assert furniture.learned_pages(session, "journal.test") == 2  # the refused page was not learned
        assert find_article(session, urls[1]) is None


def test_a_value_postgresql_refuses_fails_that_item_only(db):
    bad = item("https://journal.test/long", story(1))
    bad = BatchItem(page=bad.page, fields=ArticleFields(text=story(1), language="fr-FR-x-regional-variant"),
                    frontier_url=bad.frontier_url)
    saved = save_batch(db, [bad, item("https://journal.test/ok", story(2))])
    if db.is_sqlite:  # SQLite does not enforce column sizes: it is stored as given
        assert [r.ok for r in saved] == [True, True]
    else:
        assert [r.ok for r in saved] == [False, True] and "too long" in saved[0].error
    assert saved[1].saved.outcome is Outcome.NEW


def test_a_new_sites_first_batch_is_written_without_its_sign_off(db):
    texts = [story(n, SIGN_OFF) for n in range(4)]
    texts[0] += "\n" + QUOTE
    texts[1] += "\n" + QUOTE  # a quote two stories share stays text
    saved = save_batch(db, [item(f"https://nouveau.test/{n}", t) for n, t in enumerate(texts)],
                       fingerprint=line_fingerprint)
    assert all(r.saved.outcome is Outcome.NEW for r in saved)
    assert saved.new_furniture == {"nouveau.test": {line_fingerprint(SIGN_OFF): SIGN_OFF}}
    assert saved.lines_removed == 4
    with db.session() as session:
        stored = [find_article(session, f"https://nouveau.test/{n}").revisions for n in range(4)]
        assert all(len(revisions) == 1 for revisions in stored)  # written clean, not revised afterwards
        assert [r[0].text for r in stored] == [t.replace("\n" + SIGN_OFF, "") for t in texts]
        assert furniture.furniture_fingerprints(session, "nouveau.test") == {line_fingerprint(SIGN_OFF)}


def test_a_page_that_is_only_furniture_is_refused(db):
    urls = [f"https://nouveau.test/{n}" for n in range(4)]
    frontier.enqueue(db, [(url, None) for url in urls], None)
    batch = [item(url, story(n, SIGN_OFF)) for n, url in enumerate(urls[:3])] + [item(urls[3], SIGN_OFF)]
    saved = save_batch(db, batch, fingerprint=line_fingerprint)
    assert [r.ok for r in saved] == [True, True, True, False]
    assert saved[3].error == "no article text once the site's furniture is removed"
    assert frontier_of(db)[urls[3]] == ("pending", 1)
    with db.session() as session:
        assert furniture.learned_pages(session, "nouveau.test") == 3
        assert SIGN_OFF not in find_article(session, urls[0]).revisions[0].text


def test_two_pages_are_too_few_to_call_a_line_furniture(db):
    saved = save_batch(db, [item(f"https://petit.test/{n}", story(n, SIGN_OFF)) for n in range(2)],
                       fingerprint=line_fingerprint)
    assert saved.new_furniture == {} and saved.lines_removed == 0
    with db.session() as session:
        assert SIGN_OFF in find_article(session, "https://petit.test/0").revisions[0].text


def test_a_line_reaching_the_threshold_in_a_batch_is_reported_for_re_cleaning(db):
    save_batch(db, [item(f"https://grand.test/old{n}", story(n, *([SIGN_OFF] if n < 3 else []))) for n in range(10)])
    saved = save_batch(db, [item(f"https://grand.test/new{n}", story(100 + n, SIGN_OFF)) for n in range(2)],
                       fingerprint=line_fingerprint)
    assert saved.new_furniture == {"grand.test": {line_fingerprint(SIGN_OFF): SIGN_OFF}}  # 5 of 12 pages
    with db.session() as session:
        assert SIGN_OFF not in find_article(session, "https://grand.test/new0").revisions[0].text
        assert SIGN_OFF in find_article(session, "https://grand.test/old0").revisions[0].text  # the caller's re-clean


def test_when_an_item_is_refused_the_batch_is_rewritten_with_the_pages_really_learned(db):
    batch = [item(f"https://nouveau.test/{n}", story(n, SIGN_OFF)) for n in range(3)]
    batch[1] = BatchItem(page=batch[1].page, fields=batch[1].fields, source_id=987654, lines=batch[1].lines)
    saved = save_batch(db, batch, fingerprint=line_fingerprint)
    assert [r.ok for r in saved] == [True, False, True]
    # three new pages would have made the sign-off furniture; two do not: it stays in the text
    assert saved.new_furniture == {} and saved.lines_removed == 0
    with db.session() as session:
        assert SIGN_OFF in find_article(session, "https://nouveau.test/0").revisions[0].text


def test_copies_and_repeats_inside_one_batch(db):
    wire = " ".join(f"mot{i}" for i in range(80))
    saved = save_batch(db, [item("https://a.test/depeche", wire), item("https://b.test/reprise", "(AFP)\n" + wire),
                            item("https://a.test/depeche?utm_source=rss", wire)])
    assert [r.saved.outcome for r in saved] == [Outcome.NEW, Outcome.DUPLICATE, Outcome.UNCHANGED]
    assert saved[1].saved.duplicate_of == "https://a.test/depeche"
    with db.session() as session:  # both copies are pages of their sites: learned once each
        assert furniture.learned_pages(session, "a.test") == furniture.learned_pages(session, "b.test") == 1


def with_keys(batch_item: BatchItem) -> BatchItem:
    """The item as a crawl hands it over: band keys computed beforehand (in the extraction pool)."""
    return replace(batch_item, fields=replace(batch_item.fields, band_keys=BandKeys.of(batch_item.fields.text)))


def test_copies_are_found_when_the_batch_looked_its_keys_up_at_once(db):
    wire = " ".join(f"mot{i}" for i in range(80))
    revised = " ".join(f"autre{i}" for i in range(80))
    save_batch(db, [with_keys(item("https://a.test/archive", wire))])
    saved = save_batch(db, [with_keys(item("https://b.test/copie", wire)),  # exact copy of the archived one
                            with_keys(item("https://c.test/neuf", story(7))),
                            with_keys(item("https://d.test/reprise", "(AFP)\n" + story(7))),  # of the one above
                            with_keys(item("https://a.test/archive", revised)),  # a revision...
                            with_keys(item("https://e.test/suite", revised + " Fin."))])  # ...copied later on
    assert [r.saved.outcome for r in saved] == [Outcome.DUPLICATE, Outcome.NEW, Outcome.DUPLICATE, Outcome.REVISION,
                                                Outcome.DUPLICATE]
    assert saved[0].saved.duplicate_of == saved[4].saved.duplicate_of == "https://a.test/archive"
    assert saved[2].saved.duplicate_of == "https://c.test/neuf"
    with db.session() as session:  # the revision's bands replaced the first text's
        article = find_article(session, "https://a.test/archive")
        bands = set(session.scalars(select(ArticleBand.band_key).where(ArticleBand.article_id == article.id)))
        assert bands == set(BandKeys.of(revised).keys)


def test_a_batch_of_new_texts_looks_copies_up_once_not_once_per_text(db):
    lookups = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and ("article_bands" in statement
                                                                 or "text_hash" in statement):
            lookups.append(statement)

    items = [with_keys(item(f"https://journal.test/{n}", " ".join(f"n{n}mot{i}" for i in range(60))))
             for n in range(20)]
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        saved = save_batch(db, items)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert [r.saved.outcome for r in saved] == [Outcome.NEW] * 20
    assert 1 <= len(lookups) <= 2, lookups


def test_rejected_pages_are_recorded_in_the_same_transaction(db):
    frontier.enqueue(db, [("https://journal.test/wall", None), ("https://journal.test/empty", None)], None)
    save_batch(db, [], rejected=[Rejected("https://journal.test/wall", "blocked: consent", blocked="consent",
                                          site="journal.test", status=200),
                                 Rejected("https://journal.test/empty", "no article text")])
    assert frontier_of(db) == {"https://journal.test/wall": ("pending", 1),
                               "https://journal.test/empty": ("pending", 1)}
    with db.session() as session:
        assert [(b.url, b.reason) for b in session.scalars(select(BlockedFetch))] == [
            ("https://journal.test/wall", "consent")]


CHILD = """
import sys, time
from sqlalchemy import event
from archive.db import Database
from test_batch import batch_of
from archive.batch import save_batch

db = Database(sys.argv[1])
save_batch(db, batch_of(0))

@event.listens_for(db.engine, "before_cursor_execute")
def stall(conn, cursor, statement, *args):
    if "site_lines" in statement and statement.lstrip().upper().startswith("INSERT"):
        print("mid-batch", flush=True)  # every item of the batch is written, nothing committed
        time.sleep(60)

save_batch(db, batch_of(1))
"""
BATCH = 8


def batch_of(k: int) -> list[BatchItem]:
    return [item(f"https://journal.test/{k}-{n}", story(k * 100 + n)) for n in range(BATCH)]


def test_a_batch_killed_before_its_commit_is_not_there_at_all_and_is_written_once_again(db, db_url):
    frontier.enqueue(db, [(i.frontier_url, None) for k in (0, 1) for i in batch_of(k)], None)
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url], cwd=ROOT / "tests", stdout=subprocess.PIPE,
                             text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), start_new_session=True)
    try:
        assert child.stdout.readline().strip() == "mid-batch"
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    states = frontier_of(db)
    assert sorted(states.values()) == [("done", 0)] * BATCH + [("pending", 0)] * BATCH
    assert count(db, Article.id) == count(db, RawPage.id) == BATCH  # the first batch, all of it; none of the second
    with db.session() as session:
        assert furniture.learned_pages(session, "journal.test") == BATCH
    save_batch(db, batch_of(1))  # the re-fetch
    assert set(frontier_of(db).values()) == {("done", 0)}
    assert count(db, Article.id) == 2 * BATCH
    with db.session() as session:
        assert furniture.learned_pages(session, "journal.test") == 2 * BATCH
        assert session.scalar(select(func.max(SiteLine.pages)).where(SiteLine.fingerprint != furniture.PAGE_TALLY)) == 1


def racing_writer(db_url: str, worker: int, barrier) -> None:
    from archive.db import Database

    database = Database(db_url)
    barrier.wait()
    for k in range(4):  # both save the same canonical URLs, through their own tracking variants
        batch = [item(f"https://journal.test/{k}-{n}?utm_source=w{worker}", story(k * 100 + n)) for n in range(10)]
        assert all(r.ok for r in save_batch(database, batch, fingerprint=line_fingerprint))
    database.dispose()


def test_two_processes_racing_on_the_same_articles(db, db_url):
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    workers = [ctx.Process(target=racing_writer, args=(db_url, w, barrier)) for w in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [p.exitcode for p in workers] == [0, 0]
    assert count(db, Article.id) == 40 and count(db, Revision.id) == 40  # same text: one revision each
    with db.session() as session:
        assert furniture.learned_pages(session, "journal.test") == 40  # each page learned once
