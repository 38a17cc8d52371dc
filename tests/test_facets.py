"""Pages of results, newest-first order, facet counts and browsing without a query, on both backends."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from archive import facets as facets_mod
from archive.browse import latest
from archive.facets import GroupCache, facet_counts
from archive.search import Filters, parse_query, search
from archive.store import ArticleFields, Page, save_article


def save(db, url, text, *, title, published=None, language="fr"):
    return save_article(db, Page(url=url, status=200, headers=[], body=text.encode()),
                        ArticleFields(text=text, title=title, published=published, language=language))


def day(month, d):
    return datetime(2024, month, d, 8, tzinfo=timezone.utc)


@pytest.fixture
def archive(db):
    for i in range(6):
        save(db, f"https://journal.test/t{i}", f"Le train numéro {i} part ce soir." + " train" * i,
             title=f"Train {i}", published=day(9 if i < 4 else 10, 1 + i))
    save(db, "https://autre.test/t", "A night train, the train of the night, numéro sept.", title="Night train",
         language="en")
    story = " ".join(f"mot{i}" for i in range(80)) + " train"
    save(db, "https://journal.test/orig", story, title="Original", published=day(10, 20))
    save(db, "https://autre.test/copie", "(Avec AFP) " + story + " Source : AFP", title="Copie", published=day(10, 21))
    save(db, "https://journal.test/t0", "Le train numéro 0 part ce soir, avec du retard.", title="Train 0",
         published=day(9, 1))  # a second revision
    return db


def test_pages_cover_the_ranked_results_once(archive):
    with archive.session() as s:
        every = [h.id for h in search(s, "train", limit=50)]
        pages = [h.id for offset in range(0, 12, 3) for h in search(s, "train", limit=3, offset=offset)]
        assert len(every) == 9 and pages == every
        assert search(s, "train", offset=5000) == []


def test_newest_order_is_by_archiving_and_stops_early(archive):
    with archive.session() as s:
        newest = search(s, "train", limit=4, order="newest")
        assert [h.title for h in newest] == ["Copie", "Original", "Night train", "Train 5"]
        assert [h.title for h in search(s, "train", limit=2, offset=2, order="newest")] == ["Night train", "Train 5"]
        with pytest.raises(ValueError):
            search(s, "train", order="sideways")


def test_snippet_pieces_mark_the_query_words(archive):
    with archive.session() as s:
        hit = search(s, "numero", filters=Filters(site="autre.test"))[0]
    assert ("numéro", True) in hit.pieces and hit.snippet == "".join(
        f"[{t}]" if m else t for t, m in hit.pieces)


def test_each_facet_is_counted_under_the_other_filters(archive):
    with archive.session() as s:
        query = parse_query("train")
        f = facet_counts(s, query)
        assert f.total == 9 and not f.capped
        assert dict(f.sites) == {"journal.test": 7, "autre.test": 2}
        assert dict(f.languages) == {"fr": 8, "en": 1}
        assert dict(f.months) == {"2024-09": 4, "2024-10": 4, None: 1}
        assert (f.revised, f.never_revised, f.copies, f.originals) == (1, 8, 1, 8)

        narrowed = facet_counts(s, query, Filters(site="www.autre.test", include_duplicates=False))
        assert narrowed.total == 1  # the English article; the copy is hidden
        assert dict(narrowed.sites) == {"journal.test": 7, "autre.test": 1}  # other sites still counted
        assert (narrowed.copies, narrowed.originals) == (1, 1)  # the copy counted for its own facet

        dated = facet_counts(s, query, Filters(since=day(10, 1), until=day(11, 1)))
        assert dated.total == 4 and dict(dated.months) == {"2024-10": 4}
        assert facet_counts(s, parse_query("absentword")).total == 0


def test_counts_are_bounded_and_say_so(archive, monkeypatch):
    with archive.session() as s:
        capped = facet_counts(s, parse_query("train"), cap=5)
        assert capped.capped and capped.total == 5
        monkeypatch.setattr(facets_mod, "FACET_CAP", 100)
        assert not facet_counts(s, None).capped


def test_browsing_without_a_query(archive):
    with archive.session() as s:
        assert facet_counts(s, None).total == 9
        newest = latest(s, limit=3)
        assert [h.title for h in newest] == ["Copie", "Original", "Night train"]
        assert newest[2].snippet.startswith("A night train")
        assert [h.title for h in latest(s, filters=Filters(has_revisions=True))] == ["Train 0"]
        second_page = latest(s, limit=2, offset=1, filters=Filters(language="fr"))
        assert [h.title for h in second_page] == ["Original", "Train 5"]


def test_cached_walks_are_reused_and_follow_the_archive(archive):
    cache = GroupCache()
    query = parse_query("train")
    with archive.session() as s:
        assert facet_counts(s, query, cache=cache).total == 9
        assert facet_counts(s, query, Filters(site="autre.test", has_revisions=False), cache=cache).total == 2
    assert len(cache.entries) == 1  # the site and edited filters were applied to the same walk
    save(archive, "https://x.test/nouveau", "Un train de plus.", title="Nouveau", published=day(10, 2))
    with archive.session() as s:
        assert facet_counts(s, query, cache=cache).total == 10  # a new article: a new walk
    save(archive, "https://x.test/nouveau", "Un train de plus, en retard.", title="Nouveau", published=day(10, 2))
    with archive.session() as s:
        assert facet_counts(s, query, cache=cache).revised == 2  # a new revision: a new walk too
    assert len(cache.entries) == 3


def test_postgresql_plan_switches_are_put_back(archive):
    if archive.is_sqlite:
        pytest.skip("PostgreSQL only: the GIN bitmap plan switches")
    with archive.session() as s:
        assert facet_counts(s, parse_query("train")).total == 9
        assert s.execute(text("SHOW enable_seqscan")).scalar() == "on"
        assert s.execute(text("SHOW enable_indexscan")).scalar() == "on"
        assert len(search(s, "train", limit=50)) == 9  # the same transaction goes on as before
