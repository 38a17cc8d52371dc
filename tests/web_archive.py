"""A small archive for the web app's tests: French texts with accents, an edited article, a copy,
aliases, a hostile page (script title, scripts and remote resources), sources in every state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from archive.models import CrawlRun, Source, utcnow
from archive.store import ArticleFields, Page, save_article

T0 = utcnow().replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=2)  # in the sources' charts
STORY = " ".join(f"mot{i}" for i in range(70))
SCRIPT_TITLE = "<script>alert(1)</script>"
HOSTILE_HTML = (
    "<html><head><title>&lt;script&gt;alert(1)&lt;/script&gt;</title>"
    '<meta http-equiv="refresh" content="0;url=https://refresh.invalid/">'
    '<link rel="stylesheet" href="https://css.invalid/x.css"></head>'
    "<body><h1>Hostile</h1><script>document.body.dataset.ran = 'yes'</script>"
    '<img src="https://img.invalid/x.png"><p>Une page hostile.</p></body></html>')
HTML_HEADERS = [("Content-Type", "text/html; charset=utf-8")]


@dataclass
class Ids:
    defense: int
    train: int
    copy: int
    hostile: int
    english: int
    source: int


def save(db, url, text, *, title, when, language="fr", body=None, source_id=None, published=None):
    page = Page(url=url, status=200, headers=HTML_HEADERS, fetched_at=when,
                body=body if body is not None else f"<html><body><p>{text}</p></body></html>".encode())
    return save_article(db, page, ArticleFields(text=text, title=title, language=language, author="Claire Dumont",
                                                published=published or when), source_id=source_id)


def populate(db) -> Ids:
    now = utcnow()
    with db.transaction() as s:
        feed = Source(url="https://journal.test/feed/", last_success_at=now, next_poll_at=now + timedelta(hours=1),
                      poll_seconds=2700)
        failing = Source(url="https://failing.test/rss", failure_score=2.5, consecutive_failures=3,
                         last_error="HTTP 503 <b>down</b>", last_error_at=now)
        s.add_all([feed, failing])
        s.flush()
        source_id = feed.id
        s.add(CrawlRun(source_id=source_id, status="ok", pid=1, finished_at=now, requests=9, new_articles=4,
                       dropped=json.dumps({"EmptyBody": 2})))
    defense = save(db, "https://journal.test/defense?utm_source=rss", "Le ministère de la Défense annonce un budget "
                   "en hausse.\nLes armées recevront de nouveaux équipements.\n" + STORY,
                   title="Budget de la défense", when=T0, source_id=source_id, published=now - timedelta(days=1))
    train = save(db, "https://journal.test/train", "Le train de nuit Paris-Briançon reprend du service.\n"
                 "La ligne traverse les Alpes.", title="Train de nuit", when=T0 + timedelta(hours=1),
                 source_id=source_id)
    save(db, "https://journal.test/train", "Le train de nuit Paris-Briançon reprend du service dès lundi.\n"
         "La ligne traverse les Alpes.\nMise à jour : horaires publiés.", title="Train de nuit : retour lundi",
         when=T0 + timedelta(hours=5), source_id=source_id)
    copy = save(db, "https://autre.test/copie", "(Avec AFP)\nLe ministère de la Défense annonce un budget en hausse.\n"
                "Les armées recevront de nouveaux équipements.\n" + STORY + "\nSource : AFP", title="Copie AFP",
                when=T0 + timedelta(hours=2))
    hostile = save(db, "https://hostile.test/page", "Une page hostile qui parle de défense.", title=SCRIPT_TITLE,
                   when=T0 + timedelta(hours=3), body=HOSTILE_HTML.encode())
    english = save(db, "https://autre.test/night-train", "A night train to Nice.", title="Night train",
                   when=T0 + timedelta(hours=4), language="en")
    assert copy.duplicate_of == "https://journal.test/defense"
    return Ids(defense.article_id, train.article_id, copy.article_id, hostile.article_id, english.article_id,
               source_id)
