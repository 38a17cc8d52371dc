"""`reextract`: a new revision only where the re-extracted text changed, on the same raw page."""

import json

from sqlalchemy import select

from archive.models import Revision
from archive.reextract import reextract
from archive.search import search
from archive.store import ArticleFields, Page, find_article, save_article
from crawler.headers import charset_of
from newsarchive.cli import main


def page_html(paragraphs):
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head><title>T</title></head><body><article>{body}</article></body></html>".encode()


def archive_two(db):
    save_article(db, Page(url="https://journal.test/a", status=200, headers=[("Content-Type", "text/html")],
                          body=page_html(["Premier paragraphe.", "Abonnez-vous !"])),
                 ArticleFields(text="Premier paragraphe.\nAbonnez-vous !", title="A"))
    save_article(db, Page(url="https://autre.test/b", status=200, headers=[], body=page_html(["Texte B."])),
                 ArticleFields(text="Texte B.", title="B"))


def better_extractor(body, url, headers, fetched_at):
    """Drops the furniture line the old extractor kept."""
    text = body.decode()
    paragraphs = [p.split("</p>")[0] for p in text.split("<p>")[1:]]
    return "\n".join(p for p in paragraphs if not p.startswith("Abonnez"))


def test_only_changed_texts_get_a_revision_on_the_same_raw_page(db):
    archive_two(db)
    summary = reextract(db, better_extractor)
    assert (summary.checked, summary.changed, summary.unchanged) == (2, 1, 1)
    with db.session() as s:
        a = find_article(s, "https://journal.test/a")
        revisions = list(s.scalars(select(Revision).where(Revision.article_id == a.id).order_by(Revision.number)))
        assert [r.text for r in revisions] == ["Premier paragraphe.\nAbonnez-vous !", "Premier paragraphe."]
        assert revisions[1].raw_page_id == revisions[0].raw_page_id and revisions[1].title == "A"
        assert find_article(s, "https://autre.test/b").revision_count == 1
        assert [h.url for h in search(s, "premier")] == ["https://journal.test/a"]
        assert search(s, "abonnez") == []  # the index follows the new revision
    again = reextract(db, better_extractor)
    assert (again.changed, again.unchanged) == (0, 2)


def test_site_filter_none_results_and_failures(db):
    archive_two(db)
    calls = []

    def failing(body, url, headers, fetched_at):
        calls.append(url)
        if "autre" in url:
            raise ValueError("broken page")
        return None

    errors = []
    summary = reextract(db, failing, on_error=lambda article_id, exc: errors.append(str(exc)))
    assert (summary.changed, summary.skipped, summary.errors) == (0, 1, 1) and errors == ["broken page"]
    calls.clear()
    reextract(db, failing, site="www.journal.test")
    assert calls == ["https://journal.test/a"]


def test_reextract_command_with_the_real_extractor(db, db_url, capsys):
    paragraphs = ["Le train de nuit entre Paris et Briançon reprend du service après des mois de travaux "
                  "sur la ligne, a annoncé la SNCF lundi matin dans un communiqué."] * 1
    paragraphs += [f"Paragraphe {i} : les voyageurs pourront réserver leurs places dès la semaine prochaine, "
                   "avec des couchettes rénovées et un nouveau service de restauration à bord." for i in range(4)]
    save_article(db, Page(url="https://journal.test/train", status=200,
                          headers=[("Content-Type", "text/html; charset=utf-8")], body=page_html(paragraphs)),
                 ArticleFields(text="Ancienne extraction incomplète.", title="Train"))
    assert main(["--db", db_url, "reextract", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["checked"] == 1 and summary["changed"] == 1
    with db.session() as s:
        article = find_article(s, "https://journal.test/train")
        assert article.revision_count == 2 and "Briançon" in article.revisions[-1].text
    assert main(["--db", db_url, "reextract"]) == 0
    assert "changed 0, unchanged 1" in capsys.readouterr().out


def test_charset_of_headers():
    assert charset_of([("content-type", 'text/html; charset="ISO-8859-1"')]) == "iso-8859-1"
    assert charset_of([("Content-Type", "text/html")]) is None and charset_of([]) is None


def test_reextract_command_keeps_learned_furniture_out(db, db_url, capsys):
    from archive import furniture
    from archive.text import line_fingerprint

    promo = "Rejoignez le club des lecteurs du Journal Test dès aujourd'hui, premier mois offert."
    paragraphs = [f"Paragraphe {i} : le conseil municipal a voté le budget de la médiathèque après un long "
                  "débat sur les horaires d'ouverture et le nombre de postes." for i in range(5)] + [promo]
    save_article(db, Page(url="https://journal.test/budget", status=200,
                          headers=[("Content-Type", "text/html; charset=utf-8")], body=page_html(paragraphs)),
                 ArticleFields(text="Ancienne extraction.", title="Budget"))
    with db.transaction() as session:
        furniture.set_pinned(session, "journal.test", line_fingerprint(promo), promo, True)
    assert main(["--db", db_url, "reextract"]) == 0
    with db.session() as s:
        text = find_article(s, "https://journal.test/budget").revisions[-1].text
    assert "Paragraphe 4" in text and promo not in text
