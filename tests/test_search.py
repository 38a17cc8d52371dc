"""Full-text search on both backends: accents, phrases, filters, ranking, hostile queries."""

import json
from datetime import datetime, timezone

import pytest

from archive import search as search_mod
from archive.search import Filters, QueryError, parse_query, search
from archive.store import ArticleFields, Page, save_article
from newsarchive.cli import main


def save(db, url, text, *, title=None, published=None, language="fr"):
    return save_article(db, Page(url=url, status=200, headers=[], body=text.encode()),
                        ArticleFields(text=text, title=title, published=published, language=language))


def day(d):
    return datetime(2024, 9, d, 8, tzinfo=timezone.utc)


@pytest.fixture
def archive(db):
    save(db, "https://journal.test/defense", "Le ministère de la Défense annonce un budget en hausse.\n"
         "Les armées recevront de nouveaux équipements.", title="Budget de la défense", published=day(1))
    save(db, "https://journal.test/train", "Le train de nuit Paris-Briançon reprend du service.\n"
         "La ligne traverse les Alpes.", title="Train de nuit", published=day(10))
    save(db, "https://autre.test/train", "Un train de nuit vers Nice. La nuit, les trains sont rares.",
         title="Trains", published=day(20), language="en")
    save(db, "https://journal.test/edited", "Première version sur le climat.", title="Climat", published=day(15))
    save(db, "https://journal.test/edited", "Seconde version sur le climat, complétée.", title="Climat",
         published=day(15))
    return db


def titles(hits):
    return [h.title for h in hits]


def test_accent_insensitive_both_ways(archive):
    with archive.session() as s:
        assert titles(search(s, "defense")) == ["Budget de la défense"]
        assert titles(search(s, "DÉFENSE équipements")) == ["Budget de la défense"]
        assert titles(search(s, "briancon")) == ["Train de nuit"]


def test_words_are_anded_phrases_or_and_exclusion(archive):
    with archive.session() as s:
        assert set(titles(search(s, "train nuit"))) == {"Train de nuit", "Trains"}
        assert titles(search(s, '"train de nuit" alpes')) == ["Train de nuit"]
        assert titles(search(s, '"nuit de train"')) == []
        assert set(titles(search(s, "alpes OR nice"))) == {"Train de nuit", "Trains"}
        assert titles(search(s, "train -nice")) == ["Train de nuit"]


def test_ranking_puts_title_and_frequent_matches_first_with_snippets(archive):
    with archive.session() as s:
        hits = search(s, "nuit")
        assert len(hits) == 2 and all("[nuit]" in h.snippet.lower() for h in hits)
        assert hits[0].score >= hits[1].score


def test_filters(archive):
    with archive.session() as s:
        assert titles(search(s, "train", filters=Filters(site="www.journal.test"))) == ["Train de nuit"]
        assert titles(search(s, "train", filters=Filters(language="en"))) == ["Trains"]
        assert titles(search(s, "train", filters=Filters(since=day(15)))) == ["Trains"]
        assert titles(search(s, "train", filters=Filters(until=day(15)))) == ["Train de nuit"]
        assert titles(search(s, "train", filters=Filters(since=day(21), until=day(25)))) == []
        assert titles(search(s, "climat", filters=Filters(has_revisions=True))) == ["Climat"]
        assert titles(search(s, "train", filters=Filters(has_revisions=True))) == []


def test_only_the_latest_revision_is_indexed(archive):
    with archive.session() as s:
        assert titles(search(s, "seconde")) == ["Climat"]
        assert titles(search(s, "premiere")) == []


def test_duplicates_can_be_left_out(db):
    text = " ".join(f"mot{i}" for i in range(80)) + " tempête"
    save(db, "https://journal.test/orig", text, title="Original")
    copy = save(db, "https://autre.test/copie", "(Avec AFP) " + text + " Source : AFP", title="Copie")
    assert copy.duplicate_of == "https://journal.test/orig"
    with db.session() as s:
        assert set(titles(search(s, "tempete"))) == {"Original", "Copie"}
        assert titles(search(s, "tempete", filters=Filters(include_duplicates=False))) == ["Original"]


def test_ranking_is_bounded_to_the_newest_candidates(db, monkeypatch):
    monkeypatch.setattr(search_mod, "RANK_CANDIDATES", 3)
    for i in range(6):
        save(db, f"https://journal.test/{i}", f"Article numéro {i} sur la tempête." + " tempête" * (5 - i))
    with db.session() as s:
        hits = search(s, "tempete", limit=10)
    # the three most recent matches only, best ranked (most occurrences) first
    assert [h.url for h in hits] == ["https://journal.test/3", "https://journal.test/4", "https://journal.test/5"]


@pytest.mark.parametrize("nasty", ['"unbalanced', "AND OR NOT", "*", "NEAR(", "it's o'clock; DROP TABLE articles; --",
                                   "train AND", "OR train OR", '-"', "NOT train", "train*", "^train", "col:train",
                                   "\\", "''", '"" OR ""', "train)", "x" * 5000, "東京 🚆 train", "a" * 3000 + " train",
                                   "%_% train", "\x00 train"])
def test_hostile_queries_never_crash(archive, nasty):
    with archive.session() as s:
        try:
            search(s, nasty)
        except QueryError:
            pass


def test_queries_without_words_are_clear_errors():
    for text in ("*", "", "   ", "(", "-train", '""'):
        with pytest.raises(QueryError):
            parse_query(text)
    assert parse_query('"unbalanced phrase').fts5() == '("unbalanced phrase")'
    assert parse_query("AND OR NOT").clauses == ((("and",), ("not",)),)


def test_search_command(archive, db_url, capsys):
    assert main(["--db", db_url, "search", "defense", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [h["url"] for h in hits] == ["https://journal.test/defense"]
    assert main(["--db", db_url, "search", "train", "--site", "autre.test", "--lang", "en",
                 "--since", "2024-09-01", "--until", "2024-09-20"]) == 0
    out = capsys.readouterr().out
    assert "https://autre.test/train" in out and "journal.test" not in out
    assert main(["--db", db_url, "search", "*"]) == 1
    assert "nothing to search for" in capsys.readouterr().err
    assert main(["--db", db_url, "search", "train", "--since", "hier"]) == 1
    assert "not a date" in capsys.readouterr().err
    assert main(["--db", db_url, "search", "NEAR( AND"]) == 0


def test_an_enormous_page_is_saved_and_searchable(db):
    body = "début " + " ".join(f"mot{i % 5000}" for i in range(150_000))  # ~1.3 MB, over a tsvector's 1 MB
    save(db, "https://journal.test/enorme", body, title="Énorme")
    with db.session() as s:
        assert titles(search(s, "debut mot42")) == ["Énorme"]
