"""Near-duplicates: syndicated copies point at the earliest copy; shared furniture is not a copy."""

import random

from sqlalchemy import func, select

from archive import dedup
from archive.models import ArticleBand
from archive.store import ArticleFields, Outcome, Page, find_article, save_article
from archive.text import normalize_text

VOCABULARY = ("gouvernement ministre réforme élection député sénat budget défense économie entreprise "
              "salariés grève syndicat hôpital médecin école élèves université recherche climat énergie "
              "nucléaire électricité transport train région département commune maire habitants village "
              "montagne rivière tempête agriculteurs récolte marché prix inflation banque euro Europe "
              "Bruxelles Allemagne Italie Espagne accord négociation frontière police justice tribunal "
              "procès avocat enquête témoin festival cinéma théâtre musique concert livre auteur prix "
              "match équipe joueur entraîneur saison victoire défaite stade supporters").split()


def paragraphs(seed, count=5, length=40):
    rng = random.Random(seed)
    return [" ".join(rng.choice(VOCABULARY) for _ in range(length)).capitalize() + "." for _ in range(count)]


def edit_words(text, share, seed):
    rng = random.Random(seed)
    tokens = text.split(" ")
    for i in rng.sample(range(len(tokens)), max(1, int(len(tokens) * share))):
        tokens[i] = rng.choice(("modifié", "changé", "autrement", "nouveau"))
    return " ".join(tokens)


def save(db, url, text, title="Titre"):
    return save_article(db, Page(url=url, status=200, headers=[], body=text.encode()),
                        ArticleFields(text=text, title=title))


def test_syndicated_copy_with_lead_and_source_line_points_at_the_original(db):
    story = "\n".join(paragraphs(1))
    original = save(db, "https://journal.test/politique/reforme", story)
    copy_text = "(Avec AFP)\n" + edit_words(story, 0.02, seed=7) + "\nSource : AFP"
    copy = save(db, "https://autre-site.test/actu/reforme-adoptee", copy_text)
    again = save(db, "https://troisieme.test/a", "Publié avec l'AFP.\n" + edit_words(story, 0.02, seed=8))
    assert original.outcome is Outcome.NEW
    assert copy.outcome is Outcome.DUPLICATE and copy.duplicate_of == original.canonical_url
    # a copy of a copy points at the earliest one, not at the copy it is closest to
    assert again.outcome is Outcome.DUPLICATE and again.duplicate_of == original.canonical_url
    with db.session() as s:
        assert find_article(s, copy.canonical_url).duplicate_of.canonical_url == original.canonical_url


def test_articles_of_one_site_sharing_a_standard_lead_and_furniture_are_not_copies(db):
    lead = paragraphs(100, count=1, length=45)[0]
    furniture = ["Abonnez-vous à notre lettre d'information pour recevoir chaque matin l'essentiel de l'actualité "
                 "de la région, les offres de nos partenaires et les rendez-vous de la semaine.",
                 "Tous droits réservés. Reproduction interdite sans autorisation écrite de la rédaction."]
    first = save(db, "https://journal.test/a", "\n".join([lead, *paragraphs(2, count=3), *furniture]))
    second = save(db, "https://journal.test/b", "\n".join([lead, *paragraphs(3, count=3), *furniture]))
    assert first.outcome is Outcome.NEW and second.outcome is Outcome.NEW
    assert second.duplicate_of is None


def test_a_rewritten_story_on_the_same_topic_is_not_a_copy(db):
    story = paragraphs(4)
    save(db, "https://journal.test/story", "\n".join(story))
    # keeps one paragraph of five, the rest is new writing
    rewrite = save(db, "https://autre.test/story", "\n".join([story[0], *paragraphs(5, count=4)]))
    assert rewrite.outcome is Outcome.NEW


def test_bands_follow_the_current_revision(db):
    story = "\n".join(paragraphs(6))
    saved = save(db, "https://journal.test/edited", story)
    with db.session() as s:
        before = set(s.scalars(select(ArticleBand.band_key).where(ArticleBand.article_id == saved.article_id)))
    assert before == set(dedup.text_band_keys(story)) and len(before) == dedup.BANDS
    rewritten = "\n".join(paragraphs(9))
    assert save(db, "https://journal.test/edited", rewritten).outcome is Outcome.REVISION
    with db.session() as s:
        after = set(s.scalars(select(ArticleBand.band_key).where(ArticleBand.article_id == saved.article_id)))
        assert s.scalar(select(func.count()).select_from(ArticleBand)) == dedup.BANDS
    assert after == set(dedup.text_band_keys(rewritten))
    # a copy of the new text is found; a copy of the old one no longer is
    assert save(db, "https://autre.test/new", rewritten + "\nSource : AFP").outcome is Outcome.DUPLICATE
    assert save(db, "https://autre.test/old", story + "\nSource : AFP").outcome is Outcome.NEW


def test_short_texts_are_only_compared_exactly(db):
    assert dedup.text_band_keys("Brève : le match est reporté.") == []
    save(db, "https://journal.test/breve", "Brève : le match est reporté.")
    assert save(db, "https://autre.test/breve", "Brève : le match est reporté à demain.").outcome is Outcome.NEW


def test_lsh_recall_on_one_percent_edits_without_false_matches():
    """The pure MinHash layer: copies with 1% of words edited share a band; unrelated texts do not."""
    found = false = 0
    for seed in range(60):
        text = " ".join(paragraphs(1000 + seed, count=15, length=40))  # 600 words
        copy = edit_words(text, 0.01, seed)
        other = " ".join(paragraphs(5000 + seed, count=15, length=40))
        keys = set(dedup.text_band_keys(text))
        found += bool(keys & set(dedup.text_band_keys(copy)))
        false += bool(keys & set(dedup.text_band_keys(other)))
    assert found >= 57 and false == 0


def test_folding_keeps_positions_and_removes_accents():
    assert dedup.fold("Défense À l'ÉTÉ") == "defense a l'ete"
    assert len(dedup.fold("œuvre ﬁn")) == len("œuvre ﬁn")
    assert dedup.words("L'État d’urgence") == ["l", "etat", "d", "urgence"]


def test_band_keys_made_in_the_extraction_pool_are_used_only_for_the_text_they_were_made_for():
    BandKeys, keys_for, text_band_keys = dedup.BandKeys, dedup.keys_for, dedup.text_band_keys
    text = " ".join(f"mot{i} du texte de l'article numéro {i % 7}" for i in range(80))
    made = BandKeys.of(text)
    assert list(made.keys) == text_band_keys(normalize_text(text)) and made.keys
    assert keys_for(text, normalize_text(text), made) == list(made.keys)
    cleaned = text.replace("mot3 ", "")  # furniture removed after extraction: the keys are stale
    assert keys_for(cleaned, normalize_text(cleaned), made) == text_band_keys(normalize_text(cleaned))
    assert keys_for(cleaned, normalize_text(cleaned), made) != list(made.keys)
    forged = BandKeys(text, (1, 2, 3))
    assert keys_for(text, normalize_text(text), forged) == [1, 2, 3]  # trusted for its own text only
