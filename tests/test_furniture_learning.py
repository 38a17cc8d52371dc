"""Learned per-site furniture: counting lines over distinct pages, thresholds, pins, the pipeline
removing what it learned (older articles re-cleaned into new revisions) and `boilerplate`."""

from __future__ import annotations

import json
import random

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from archive import furniture
from archive.models import Article, Revision
from archive.text import line_fingerprint
from crawler.archive_io import archive_io_for
from crawler.archive_link import database_for
from crawler.items import PageItem
from crawler.pipelines import ArchivePipeline, ExtractPipeline, UnchangedArticle
from newsarchive.cli import main
from tests.reactor_thread import on_reactor, running_reactor

NEWSLETTER = "Recevez chaque matin l’essentiel de l’actualité vue d’ailleurs, directement dans votre boîte mail."
QUOTE = ("« Plus nos dépenses de défense augmentent, et plus diminue le risque qu’un conflit éclate à "
         "l’avenir », a indiqué le secrétaire général.")
WORDS = ("ministre gouvernement région conseil projet réforme budget école hôpital village rivière "
         "élection maire habitants associations entreprise usine emplois salariés syndicat grève "
         "festival musique théâtre cinéma récolte vignerons pluie chantier route train gare tribunal "
         "enquête témoins procès juge député sénat loi vote commission rapport chercheurs étude").split()


def lines_of(texts):
    return {line_fingerprint(t): t for t in texts}


# -- archive/furniture.py ---------------------------------------------------------------------

def test_threshold_is_five_pages_and_thirty_percent():
    assert furniture.threshold(1) == furniture.threshold(2) == furniture.threshold(16) == 5
    assert furniture.threshold(3) == 3 and furniture.threshold(4) == 4  # every page of a small site
    assert furniture.threshold(17) == 6
    assert furniture.threshold(1000) == 300


def test_a_line_becomes_furniture_on_its_fifth_page_a_shared_quote_does_not(db):
    site = "example.org"
    for page in range(1, 6):
        texts = [NEWSLETTER, f"Paragraphe propre à la page {page}."] + ([QUOTE] if page <= 2 else [])
        now = furniture.learn_page(db, site, lines_of(texts))
        # on every page from the third on (small site), and still at five (the general rule)
        assert (line_fingerprint(NEWSLETTER) in now) == (page >= 3)
    with db.session() as session:
        assert furniture.learned_pages(session, "www.example.org") == 5
        assert furniture.furniture_fingerprints(session, site) == {line_fingerprint(NEWSLETTER)}
        lines = {line.sample: line for line in furniture.site_lines(session, site)}
    assert lines[NEWSLETTER].pages == 5 and lines[NEWSLETTER].status == "learned"
    assert lines[QUOTE].pages == 2 and lines[QUOTE].status == "counting"


def test_a_sign_off_on_every_page_of_a_small_site_is_furniture_a_shared_quote_is_not(db):
    site = "petit-journal.example"
    sign_off = "Have a news tip? Email the newsroom at tips@petit-journal.example, we read everything."
    for page in range(1, 4):
        texts = [sign_off, f"Paragraph of article {page}."] + ([QUOTE] if page >= 2 else [])
        now = furniture.learn_page(db, site, lines_of(texts))
        assert (line_fingerprint(sign_off) in now) == (page == 3)
    with db.session() as session:
        assert furniture.furniture_fingerprints(session, site) == {line_fingerprint(sign_off)}
    # a fourth page without the sign-off: it is no longer on every page, the quote on 3 of 4 neither
    furniture.learn_page(db, site, lines_of(["Paragraph of article 4.", QUOTE]))
    with db.session() as session:
        assert furniture.furniture_fingerprints(session, site) == frozenset()


def test_lines_on_every_page_of_a_batch():
    sign_off, quote = line_fingerprint("Email the newsroom."), line_fingerprint(QUOTE)
    pages = [{sign_off, quote, 1}, {sign_off, quote, 2}, {sign_off, 3}]
    assert furniture.lines_on_every_page(pages) == {sign_off}
    assert furniture.lines_on_every_page(pages[:2]) == frozenset()  # two pages: a shared quote stays
    assert furniture.lines_on_every_page([]) == frozenset()


def test_a_line_on_few_pages_of_a_big_site_is_not_furniture(db):
    for page in range(40):
        texts = [f"Texte {page}."] + (["Un feuilleton en cinq épisodes, lisez la suite demain."] if page < 8 else [])
        furniture.learn_page(db, "big.example", lines_of(texts))
    with db.session() as session:
        assert furniture.furniture_fingerprints(session, "big.example") == frozenset()  # 8 < 30 % of 40


def test_pins_override_the_counts(db):
    site = "example.org"
    fp = line_fingerprint("- Publicité -")
    with db.transaction() as session:
        assert furniture.set_pinned(session, site, fp, "- Publicité -", True).status == "pinned"
    furniture.learn_page(db, site, lines_of(["- Publicité -", QUOTE]))
    with db.transaction() as session:
        assert furniture.furniture_fingerprints(session, site) == {fp}
        furniture.set_pinned(session, site, fp, "x", False)
        assert furniture.furniture_fingerprints(session, site) == frozenset()
        furniture.set_pinned(session, site, fp, "x", None)
        with pytest.raises(KeyError):
            furniture.set_pinned(session, site, line_fingerprint("never seen"), "never seen", None)


# -- the pipeline -----------------------------------------------------------------------------

def page_html(n: int, extra: list[str]) -> bytes:
    rng = random.Random(n)
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(5)]
    body = "".join(f"<p>{p}</p>" for p in [paragraphs[0], *extra, *paragraphs[1:]])
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Article numéro {n} – Exemple</title><meta property="og:site_name" content="Exemple">
<meta property="article:published_time" content="2024-11-{n + 1:02d}T10:00:00+01:00"></head>
<body><header><nav><a href="/">Accueil</a></nav></header><main><article><h1>Article numéro {n}</h1>
<div class="entry-content">{body}</div></article></main></body></html>""".encode()


def page_item(url: str, body: bytes) -> PageItem:
    return PageItem(url=url, final_url=None, status=200, headers=[("Content-Type", "text/html; charset=utf-8")],
                    body=body, encoding="utf-8", source_id=None, feed_date=None, drop_selectors=())


@pytest.fixture
def pipelines(sqlite_url):
    """The extract and archive pipelines on a running reactor (extraction inline, each page its
    own batch), as a crawl runs them."""
    reactor = running_reactor()
    crawler = get_crawler(settings_dict={"NEWSARCHIVE_DB": sqlite_url, "NEWSARCHIVE_FURNITURE_REFRESH_ITEMS": 3,
                                         "NEWSARCHIVE_EXTRACT_PROCESSES": 0, "NEWSARCHIVE_BATCH_SIZE": 1})
    extract, archive = ExtractPipeline.from_crawler(crawler), ArchivePipeline.from_crawler(crawler)
    on_reactor(reactor, extract.open_spider)
    on_reactor(reactor, archive.open_spider)

    async def both(item):
        return await archive.process_item(await extract.process_item(item))

    def process(url, body):
        return on_reactor(reactor, both, page_item(url, body))

    process.db = database_for(crawler)
    process.stats = crawler.stats
    yield process
    on_reactor(reactor, archive.close_spider)
    archive_io_for(crawler).stop()
    process.db.dispose()


def current_texts(db) -> dict[str, str]:
    with db.session() as session:
        rows = session.execute(select(Article.canonical_url, Revision.text).join(
            Revision, (Revision.article_id == Article.id) & (Revision.number == Article.revision_count)))
        return dict(rows.all())


def test_pipeline_learns_furniture_and_recleans_older_articles(pipelines):
    base = "https://www.exemple.fr/2024/11/"
    for n in range(2):
        pipelines(f"{base}{n}/", page_html(n, [NEWSLETTER, QUOTE]))
    texts = current_texts(pipelines.db)
    assert all(NEWSLETTER in text for text in texts.values())  # 2 pages: still counting

    pipelines(f"{base}2/", page_html(2, [NEWSLETTER]))  # on every one of 3 pages: furniture
    texts = current_texts(pipelines.db)
    assert len(texts) == 3 and not any(NEWSLETTER in text for text in texts.values())
    assert sum(QUOTE in text for text in texts.values()) == 2  # shared by two articles: text
    with pipelines.db.session() as session:
        counts = dict(session.execute(select(Article.canonical_url, Article.revision_count)).all())
    # the first two got a re-cleaned revision; the third was written clean by the batch that
    # counted its lines (a batch removes the furniture it makes from its own pages)
    assert sorted(counts.values()) == [1, 2, 2]
    assert pipelines.stats.get_value("newsarchive/furniture/recleaned") == 2

    item = pipelines(f"{base}3/", page_html(3, [NEWSLETTER]))  # removed at once from new pages
    assert NEWSLETTER not in item["article"].text
    with pipelines.db.session() as session:  # ... and still counted, so it stays learned
        lines = {line.sample: line for line in furniture.site_lines(session, "exemple.fr")}
    assert lines[NEWSLETTER].pages == 4 and lines[NEWSLETTER].status == "learned"


def test_pipeline_learns_each_page_once(pipelines):
    url = "https://www.exemple.fr/2024/11/1/"
    pipelines(url, page_html(1, [NEWSLETTER]))
    with pytest.raises(UnchangedArticle):
        pipelines(url, page_html(1, [NEWSLETTER]))
    pipelines(url, page_html(1, [NEWSLETTER, "Une correction ajoutée plus tard au texte de l’article."]))
    with pipelines.db.session() as session:
        assert furniture.learned_pages(session, "exemple.fr") == 1
        assert {line.pages for line in furniture.site_lines(session, "exemple.fr")} == {1}


# -- newsarchive boilerplate ------------------------------------------------------------------

def test_boilerplate_command_lists_pins_keeps_and_unpins(db_url, capsys):
    from archive.db import Database

    db = Database(db_url)
    for page in range(5):
        furniture.learn_page(db, "vudailleurs.com", lines_of([NEWSLETTER, f"Texte {page}."]))
    db.dispose()
    capsys.readouterr()
    assert main(["--db", db_url, "boilerplate", "www.vudailleurs.com", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["site"] == "vudailleurs.com" and shown["pages_learned"] == 5
    assert {"sample": NEWSLETTER, "pages": 5, "status": "learned"}.items() <= shown["lines"][0].items()

    assert main(["--db", db_url, "boilerplate", "vudailleurs.com", "--pin", "- Publicité -"]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "boilerplate", "vudailleurs.com", "--keep", NEWSLETTER.upper(), "--json"]) == 0
    kept = json.loads(capsys.readouterr().out)
    expected = {"site": "vudailleurs.com", "sample": NEWSLETTER, "status": "kept", "recleaned": None}
    assert expected.items() <= kept.items()
    assert main(["--db", db_url, "boilerplate", "vudailleurs.com", "--json"]) == 0
    statuses = {line["sample"]: line["status"] for line in json.loads(capsys.readouterr().out)["lines"]}
    assert statuses["- Publicité -"] == "pinned" and statuses[NEWSLETTER] == "kept"

    assert main(["--db", db_url, "boilerplate", "vudailleurs.com", "--unpin", NEWSLETTER]) == 0
    assert main(["--db", db_url, "boilerplate", "vudailleurs.com"]) == 0
    out = capsys.readouterr().out
    assert "learned" in out and "pinned" in out
    assert main(["--db", db_url, "boilerplate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"site": "vudailleurs.com", "pages_learned": 5, "furniture": 2}]
    assert main(["--db", db_url, "boilerplate", "vudailleurs.com", "--unpin", "jamais vu"]) == 1
    assert main(["--db", db_url, "boilerplate", "vudailleurs.com", "--pin", "x", "--keep", "y"]) == 1


def test_pinning_a_line_recleans_the_archived_articles_that_hold_it(pipelines, sqlite_url, capsys):
    promo = "Retrouvez toute notre couverture des élections dans notre dossier spécial, mis à jour chaque jour."
    for n in range(2):
        pipelines(f"https://www.exemple.fr/2024/11/{n}/", page_html(n, [promo]))
    pipelines("https://www.exemple.fr/2024/11/2/", page_html(2, []))
    assert sum(promo in text for text in current_texts(pipelines.db).values()) == 2

    assert main(["--db", sqlite_url, "boilerplate", "exemple.fr", "--pin", promo]) == 0
    assert "re-cleaned 2 archived article(s)" in capsys.readouterr().out
    assert not any(promo in text for text in current_texts(pipelines.db).values())
    with pipelines.db.session() as session:
        assert sorted(session.scalars(select(Article.revision_count))) == [1, 2, 2]


def test_reclean_is_bounded(pipelines):
    for n in range(4):  # on 3 pages of 4: not furniture yet
        pipelines(f"https://www.exemple.fr/2024/11/{n}/", page_html(n, [NEWSLETTER] if n else []))
    seen = []

    def reextract(body, url, headers, fetched_at):
        seen.append(url)
        return "texte propre"

    summary = furniture.reclean(pipelines.db, "exemple.fr", [NEWSLETTER.upper()], reextract,
                                affected=lambda text: True, limit=2)
    assert (summary.checked, summary.changed, summary.truncated) == (2, 2, True) and len(seen) == 2


def test_lines_seen_once_are_pruned_periodically(db, monkeypatch):
    monkeypatch.setattr(furniture, "PRUNE_EVERY", 4)
    for page in range(4):
        furniture.learn_page(db, "example.org", lines_of([NEWSLETTER, f"Texte unique {page}."]))
    with db.session() as session:
        assert [line.sample for line in furniture.site_lines(session, "example.org")] == [NEWSLETTER]
        assert furniture.learned_pages(session, "example.org") == 4
