"""line_fingerprint, normalize_text and the furniture-by-shape rules, line by line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from archive.text import line_fingerprint, normalize_text
from crawler.text_furniture import is_furniture_line, site_name_keys


def test_fingerprint_is_pinned():
    # stored in the archive per site: a change here silently forgets every learned furniture line
    assert line_fingerprint("Postez un commentaire") == -1956668669515056028
    assert line_fingerprint("Vudailleurs.com") == -496879550444347651


def test_fingerprint_is_stable_across_processes():
    code = "from archive.text import line_fingerprint; print(line_fingerprint('Partager sur Facebook'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123"})  # fmt: skip
    assert int(other.stdout) == line_fingerprint("Partager sur Facebook")


@pytest.mark.parametrize(
    "variant",
    ["postez un commentaire", "  POSTEZ   un\tcommentaire ", "Postez un commentaire :", "« Postez un commentaire »",
     "— Postez un commentaire!"],
)
def test_fingerprint_normalises_case_space_and_edge_punctuation(variant):
    assert line_fingerprint(variant) == line_fingerprint("Postez un commentaire")


def test_fingerprint_keeps_digits_and_inner_punctuation():
    assert line_fingerprint("Édition du 12 novembre") != line_fingerprint("Édition du 13 novembre")
    assert line_fingerprint("l'État") != line_fingerprint("lÉtat")


def test_fingerprint_fits_a_signed_bigint():
    for line in ("", "a", "Lire aussi", "x" * 10_000):
        assert -(2**63) <= line_fingerprint(line) < 2**63


def test_normalize_text_is_whitespace_insensitive():
    a = "Premier  paragraphe.\n\nSecond\u00a0paragraphe,   ici.\n"
    b = "  Premier paragraphe.\r\n   \r\nSecond paragraphe, ici."
    assert normalize_text(a) == normalize_text(b) == "Premier paragraphe.\nSecond paragraphe, ici."


def test_invisible_characters_are_dropped_wherever_they_are():
    marked = "Le gouver\u00adnement\u200b a\ufeff parlé.\n\u200b\nLa séance reprend."
    assert normalize_text(marked) == normalize_text("Le gouvernement a parlé.\nLa séance reprend.")
    assert normalize_text(marked) == "Le gouvernement a parlé.\nLa séance reprend."
    assert line_fingerprint("Lire\u00ad aussi") == line_fingerprint("Lire aussi")


def test_normalize_text_keeps_real_changes():
    assert normalize_text("Le maire a dit oui.") != normalize_text("Le maire a dit non.")
    assert normalize_text("") == ""


# (furniture, a real sentence that contains the same words) per language
PAIRS = {
    "fr": [
        ("Lire aussi : Le Sénat adopte le budget",
         "Le ministre a dit qu'il faut lire aussi les rapports de la Cour des comptes avant de voter."),
        ("À lire aussi", "Il est conseillé à lire aussi attentivement les notes de bas de page du rapport annuel."),
        ("Voir aussi", "Voir aussi loin dans l'avenir est un exercice difficile pour les économistes, a-t-il reconnu."),
        ("- Publicité -", "La publicité pour les jeux d'argent sera davantage encadrée à partir du mois prochain."),
        ("Postez un commentaire",
         "Le ministre n'a pas voulu faire de commentaire sur cette affaire judiciaire en cours."),
        ("Partager sur Facebook",
         "Il a refusé de partager sur Facebook les documents qui lui avaient été transmis par la mairie."),
        ("Pour lire la suite, abonnez-vous",
         "Pour lire la suite du rapport, les députés ont dû attendre plusieurs semaines après sa remise au "
         "gouvernement."),
        ("Réservé aux abonnés",
         "Le parking est réservé aux abonnés du réseau de transport, selon la décision de la mairie."),
        ("Inscrivez-vous à notre newsletter",
         "Les habitants peuvent s'inscrire sur les listes électorales jusqu'au 6 février, rappelle la préfecture."),
        ("Ce site utilise des cookies pour améliorer votre expérience.",
         "La biscuiterie produit chaque jour des cookies vendus dans toute la région."),
        ("Image Alt", "L'image de la ville a beaucoup changé depuis la rénovation du centre historique."),
        ("Vous avez aimé cet article ? Partagez-le !",
         "Vous avez aimé cet article de la loi, a lancé le ministre aux députés qui l'avaient voté en 2019."),
        ("Crédits photos : Bestimage",
         "Les crédits photos de l'exposition ont été offerts par la mairie aux écoles de la ville."),
    ],
    "en": [
        ("Read more: Senate passes the budget",
         "Residents who want to read more about the plan can attend the hearing on Monday."),
        ("Related: Markets fall after the vote",
         "Related charges against the other defendants were dropped last year, the court said."),
        ("Advertisement", "The advertisement campaign cost the city more than a million dollars last year."),
        ("Leave a comment", "The spokesman declined to leave a comment on the ongoing investigation into the company."),
        ("Share this", "Officials said they would share this information with the public once the review is over."),
        ("Subscribe to our newsletter",
         "Readers can subscribe to the city's newsletter to follow the council's decisions, the mayor said."),
        ("You don't have permission to register",
         "The clerk said he didn't have permission to register the new voters before the deadline."),
        ("We use cookies to personalise content and ads.",
         "The bakery said we use cookies from a local supplier in every box we sell."),
        ("Like this story? Share it with a friend!",
         "Like this story, the mayor's account of the flood was shared widely before the council met."),
        ("Enjoyed this article? Share it on WhatsApp or by email with your friends and family.",
         "Enjoyed this article's subject, the festival, is held every August in the old harbour, organisers said."),
        ("(Photo by Kevin Mazur/Getty Images)",
         "Photo by photo, the exhibition retraces the life of the old harbour since the war, the curator said."),
        ("Follow us on Twitter",
         "Police said the protesters would follow us to the border, the driver told reporters."),
        ("This post contains references to products from one or more of our advertisers.",
         "The company said affiliate links made up a third of its revenue last year, according to the filing."),
        ("0 comments", "12 comments were left on the council website before the vote, the clerk said."),
        ("Filed under: Politics |", "Filed under a false name, the claim was rejected by the insurer in March."),
        ("5 min read", "Officials had 5 minutes to read the statement before the vote, the clerk said."),
        ("(Reporting by Jane Doe; Editing by Tom Brown)",
         "Reporting by local journalists has declined for a decade, the study found."),
        ("Fox News' Jessica Napoli contributed to this report.",
         "The mayor contributed to this report on housing, which the council will debate on Monday."),
        ("jane.doe@example.com", "Readers can write to jane.doe@example.com with their questions about the plan."),
        ("Follow AP's coverage of the election at https://apnews.example/elections",
         "Follow the money, investigators said, and you will find the minister behind the contracts."),
        ("DON'T MISS", "Don't miss the deadline, the tax office warned people who file their returns by post."),
    ],
    "de": [
        ("Lesen Sie auch: Bundestag beschließt Haushalt",
         "Der Minister sagte, man solle auch die Berichte des Rechnungshofs lesen, bevor man abstimme."),
        ("Mehr zum Thema",
         "Mehr zum Thema Haushalt will die Regierung in der kommenden Woche im Parlament vorstellen."),
        ("Anzeige", "Eine Anzeige gegen den Bauträger wurde nach Angaben der Polizei bereits im Sommer erstattet."),
        ("Kommentar schreiben",
         "Der Sprecher wollte keinen Kommentar zu den laufenden Ermittlungen abgeben, schreiben die Kollegen."),
        ("Hat Ihnen dieser Artikel gefallen? Dann teilen Sie ihn!",
         "Hat Ihnen dieser Artikel des Grundgesetzes nie gefallen, fragte die Richterin den Kläger in der Anhörung."),
        ("Titelbild: Christophe Geyres/picture-alliance",
         "Das Titelbild der Zeitschrift zeigte den Bürgermeister vor dem neuen Rathaus, sagte die Redaktion."),
        ("Schon gelesen?", "Schon gelesen hatte der Minister den Bericht, als die Abgeordneten ihn danach fragten."),
        ("Dieser Artikel kann Links zu Anbietern enthalten, von denen wir eine Provision erhalten.",
         "Der Makler soll eine Provision erhalten haben, sagte die Staatsanwältin vor dem Landgericht."),
        ("Folgen Sie uns auf Facebook", "Folgen Sie uns, rief der Bürgermeister, und die Brücke wird 2030 fertig."),
    ],
    "es": [
        ("Lee también: El Congreso aprueba los presupuestos",
         "El ministro dijo que lee también los informes del tribunal de cuentas antes de votar."),
        ("Leer más", "Los expertos recomiendan leer más libros durante las vacaciones de verano, según el estudio."),
        ("Publicidad", "La publicidad institucional costó más de un millón de euros el año pasado, según el informe."),
        ("Deja un comentario",
         "El portavoz no quiso hacer ningún comentario sobre la investigación en curso del juzgado."),
        ("VEA TAMBIÉN: Entre heces y guaricha, la escuela no brilla",
         "Los vecinos pueden ver también el programa de las fiestas en la web del ayuntamiento."),
    ],
    "it": [
        ("Leggi anche: Il Senato approva la legge di bilancio",
         "Il ministro ha detto che bisogna leggere anche i rapporti della Corte dei conti prima del voto."),
        ("Pubblicità",
         "La pubblicità del comune è costata più di un milione di euro lo scorso anno, secondo la relazione."),
        ("Lascia un commento",
         "Il portavoce non ha voluto lasciare un commento sulle indagini in corso della procura."),
    ],
    "pl": [
        ("Czytaj też: Wyścig zbrojeń ruszył z kopyta",
         "Czytaj też uważnie instrukcję obsługi, radzą eksperci z urzędu ochrony konsumentów."),
    ],
}
CASES = [(lang, furniture, sentence) for lang, pairs in PAIRS.items() for furniture, sentence in pairs]


@pytest.mark.parametrize(("lang", "furniture", "sentence"), CASES)
def test_furniture_line_versus_sentence(lang, furniture, sentence):
    assert is_furniture_line(furniture)
    assert not is_furniture_line(sentence)


def test_label_led_sentence_without_separator_stays():
    assert not is_furniture_line("Read more carefully, the budget shows that the deficit grew by three percent last "
                                 "year.")
    assert is_furniture_line("Read more Senate passes the budget after a long night")


def test_site_name_alone_is_furniture():
    names = site_name_keys("Vudailleurs.com", "vudailleurs.com")
    assert is_furniture_line("Vudailleurs.com", names)
    assert is_furniture_line("VUDAILLEURS", names)
    assert not is_furniture_line("Vudailleurs.com a interrogé le ministre sur la réforme des retraites.", names)


def test_punctuation_only_line_is_furniture():
    assert is_furniture_line("• • •")
    assert not is_furniture_line("2024")


@pytest.mark.parametrize(
    "line",
    [
        "© 2024 Vudailleurs.com — Tous droits réservés",
        "Copyright Example 2019 - ISSN: 2283-5474",
        "Updated at 1:23 p.m.",
        "Mis à jour le 12/11/2024 à 18h30",
        '[button link="/submit/"] Send us your review[/button]',
    ],
)
def test_copyright_timestamp_and_shortcode_lines_are_furniture(line):
    assert is_furniture_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "The company said all rights reserved by the original contract would pass to the new owner, according to the "
        "filing made public on Monday.",
        "Published in 1925, the novel sold fewer than 25,000 copies in its first year, a disappointment for its "
        "author.",
        "- Sign up for a Hulu ad-free account for $11.99 a month",
    ],
)
def test_sentences_like_copyright_timestamp_or_prompt_stay(line):
    assert not is_furniture_line(line)
