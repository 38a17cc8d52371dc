"""Two processes writing the same archive at once: no "database is locked", no duplicate rows."""

from __future__ import annotations

import multiprocessing

from sqlalchemy import func, select

from archive.db import Database
from archive.models import Alias, Article, Revision
from archive.store import ArticleFields, Page, save_article

ARTICLES = 40


def writer(db_url: str, worker: int, barrier) -> None:
    db = Database(db_url)
    barrier.wait()
    for n in range(ARTICLES):
        # Both workers save the same canonical URLs (through different tracking variants)
        # and their own text, so they race on the article, alias and revision rows.
        url = f"http://news.test/{n}/?utm_source=worker{worker}"
        text = f"Article {n}\nParagraphe commun.\nVersion du rédacteur {worker}"
        save_article(db, Page(url=url, status=200, headers=[], body=b"<p>x</p>"), ArticleFields(text=text))
    db.dispose()


def test_two_writer_processes(db_url):
    Database(db_url).dispose()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    workers = [ctx.Process(target=writer, args=(db_url, w, barrier)) for w in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [p.exitcode for p in workers] == [0, 0]

    db = Database(db_url)
    with db.session() as session:
        assert session.scalar(select(func.count(Article.id))) == ARTICLES
        assert session.scalar(select(func.count(Alias.id))) == 2 * ARTICLES
        # each article: one revision per writer's text (the second writer changed it once)
        assert session.scalar(select(func.count(Revision.id))) == 2 * ARTICLES
        numbers = session.execute(select(Revision.article_id, func.max(Revision.number)).group_by(Revision.article_id))
        assert {n for _, n in numbers} == {2}
    db.dispose()
