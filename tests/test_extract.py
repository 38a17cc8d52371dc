"""The extractor on whole pages: article text kept, furniture dropped, metadata read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive.text import line_fingerprint
from crawler.extract import Article, extract

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
VUDAILLEURS_URL = "https://www.vudailleurs.com/2024/11/12/en-visite-a-paris-le-secretaire-general-de-lotan/"

VUDAILLEURS_PARAGRAPHS = [
    "Le secrétaire général de l’OTAN, Mark Rutte, a rencontré ce mardi (12 novembre) le président de la République",
    "Il s’agissait de la première visite officielle du secrétaire général à Paris depuis sa prise de fonctions.",
    "M. Rutte et M. Macron ont évoqué la nécessité d’accroître les investissements de défense",
    "« Plus nos dépenses de défense augmentent, et plus diminue le risque qu’un conflit éclate à l’avenir »",
    "Le ministre a dit qu’il faut lire aussi les rapports de la Cour des comptes avant de voter.",
    "Les deux hommes ont également discuté de la nécessité d’intensifier le soutien à l’Ukraine avant l’hiver",
    "« La France a fourni à l’Ukraine des systèmes d’artillerie de pointe",
    "Avant son entretien avec le président français, le secrétaire général s’est rendu sur l’un des sites de Thales",
]
VUDAILLEURS_FURNITURE = [
    "Image Alt",
    "Vudailleurs.com",
    "Postez un commentaire",
    "You don't have permission to register",
    "Lire aussi :",
    "À lire aussi",
    "Sommet de Budapest",
    "Comment la France forme une brigade ukrainienne",
    "Publicité",
    "Partager",
    "Laisser un commentaire",
    "Inscrivez-vous à notre newsletter",
    "cookies",
    "Accueil",
    "Tous droits réservés",
    "Article précédent",
    "Budget 2025",
]


@pytest.fixture(scope="module")
def vudailleurs() -> Article:
    return extract((FIXTURES / "vudailleurs_article.html").read_bytes(), VUDAILLEURS_URL, encoding="utf-8")


def test_vudailleurs_keeps_every_article_paragraph(vudailleurs):
    lines = vudailleurs.text.split("\n")
    for paragraph in VUDAILLEURS_PARAGRAPHS:
        assert sum(line.startswith(paragraph) for line in lines) == 1, paragraph
    assert len(lines) == len(VUDAILLEURS_PARAGRAPHS)


@pytest.mark.parametrize("furniture", VUDAILLEURS_FURNITURE)
def test_vudailleurs_drops_furniture(vudailleurs, furniture):
    assert furniture.casefold() not in vudailleurs.text.casefold()


def test_vudailleurs_metadata(vudailleurs):
    assert vudailleurs.title == ("En visite à Paris, le secrétaire général de l’OTAN s’entretient avec le président "
                                 "Macron")
    assert vudailleurs.author == "Jean-Pierre Martin"
    assert vudailleurs.language == "fr"
    assert vudailleurs.site == "vudailleurs.com"
    assert vudailleurs.canonical_url == VUDAILLEURS_URL
    assert vudailleurs.published == datetime(2024, 11, 12, 17, 30, tzinfo=UTC)
    assert vudailleurs.published.utcoffset() == timedelta(hours=1)
    assert vudailleurs.updated == datetime(2024, 11, 13, 8, 15, tzinfo=UTC)
    assert vudailleurs.blocked is None
    assert vudailleurs.url == VUDAILLEURS_URL


def test_text_shape(vudailleurs):
    assert vudailleurs.text == vudailleurs.text.strip()
    assert "\n\n" not in vudailleurs.text
    assert all(line == line.strip() and line for line in vudailleurs.text.split("\n"))


def test_learned_furniture_fingerprints_drop_lines():
    body = _page(
        "fr",
        [*_FILLER["fr"],
         "Retrouvez toute l'actualité de la région sur notre application mobile gratuite, disponible partout."],
    )
    promo = "Retrouvez toute l'actualité de la région sur notre application mobile gratuite, disponible partout."
    assert promo in extract(body, "https://example.fr/a").text
    learned = frozenset({line_fingerprint("  RETROUVEZ toute l'actualité de la région sur notre application mobile "
                                          "gratuite, disponible partout  ")})
    text = extract(body, "https://example.fr/a", furniture=learned).text
    assert promo not in text
    assert _FILLER["fr"][0] in text


def test_drop_selectors_remove_elements_before_extraction():
    box = ('<div class="promo-box"><p>Notre offre spéciale du moment vous attend avec des réductions sur tous les '
           'abonnements annuels cette semaine.</p></div>')
    body = _page("fr", _FILLER["fr"], extra=box)
    assert "offre spéciale" in extract(body, "https://example.fr/a").text
    assert "offre spéciale" not in extract(body, "https://example.fr/a", drop_selectors=("div.promo-box",)).text


# one page per language: real paragraphs (one merely containing the furniture words) and furniture
_FILLER = {
    "fr": [
        "Le gouvernement a présenté mardi un projet de loi destiné à réformer le financement des collectivités "
        "locales, après des mois de concertation avec les maires.",
        "Selon le ministre, la réforme permettra de mieux répartir les dotations entre les communes rurales et les "
        "grandes agglomérations du pays.",
        "Les élus de l'opposition dénoncent toutefois un texte préparé dans l'urgence, qui laisse de nombreuses "
        "questions sans réponse sur le calendrier.",
    ],
    "en": [
        "The city council voted on Tuesday to approve a new housing plan that will add thousands of affordable homes "
        "over the next decade.",
        "Supporters of the measure said it would ease pressure on renters, while critics warned about the cost to "
        "taxpayers and the strain on services.",
        "The mayor is expected to sign the plan into law next week, after a final review of the budget by the finance "
        "committee.",
    ],
    "de": [
        "Der Stadtrat hat am Dienstag einen neuen Wohnungsbauplan beschlossen, der in den kommenden zehn Jahren "
        "Tausende bezahlbare Wohnungen schaffen soll.",
        "Befürworter sagten, der Plan werde den Druck auf Mieter verringern, während Kritiker vor den Kosten für die "
        "Steuerzahler warnten.",
        "Die Bürgermeisterin will das Gesetz in der nächsten Woche unterzeichnen, nachdem der Finanzausschuss den "
        "Haushalt geprüft hat.",
    ],
    "es": [
        "El ayuntamiento aprobó el martes un nuevo plan de vivienda que añadirá miles de viviendas asequibles durante "
        "la próxima década.",
        "Los partidarios de la medida dijeron que aliviará la presión sobre los inquilinos, mientras que los críticos "
        "advirtieron sobre su coste.",
        "Se espera que la alcaldesa firme el plan la próxima semana, tras una revisión final del presupuesto por la "
        "comisión de hacienda.",
    ],
    "it": [
        "Il consiglio comunale ha approvato martedì un nuovo piano per la casa che aggiungerà migliaia di alloggi a "
        "prezzi accessibili nel prossimo decennio.",
        "I sostenitori della misura hanno detto che ridurrà la pressione sugli affittuari, mentre i critici hanno "
        "messo in guardia sui costi.",
        "La sindaca dovrebbe firmare il piano la prossima settimana, dopo una revisione finale del bilancio da parte "
        "della commissione finanze.",
    ],
}
_SENTENCES = {  # real sentences that contain furniture words, or start like a label
    "fr": [
        "Le ministre a dit qu'il faut lire aussi les rapports de la Cour des comptes avant de voter.",
        "Lire aussi les annexes du rapport est indispensable pour comprendre le calcul des dotations.",
        "Le maire a refusé de partager sur Facebook les chiffres de la publicité municipale, jugés confidentiels.",
    ],
    "en": [
        "The report said residents should read more about the plan before the public hearing in March.",
        "Read more carefully, the budget shows that the deficit grew by three percent last year.",
        "One councillor said access denied to reporters at the meeting was a mistake that must not happen again.",
    ],
    "de": [
        "Der Minister sagte, man müsse mehr zum Thema Haushalt lesen, bevor man abstimme.",
        "Eine Anzeige gegen den Bauträger wurde nach Angaben der Polizei bereits im Sommer erstattet.",
    ],
    "es": [
        "El ministro dijo que hay que leer más informes antes de votar la ley de presupuestos.",
        "La publicidad institucional del ayuntamiento costó más de un millón de euros el año pasado.",
    ],
    "it": [
        "Il ministro ha detto che bisogna leggere anche i rapporti della Corte dei conti prima del voto.",
        "La pubblicità del comune è costata più di un milione di euro lo scorso anno, secondo la relazione.",
    ],
}
_FURNITURE = {
    "fr": [
        "Lire aussi : Le budget adopté au Sénat après une nuit de débats",
        "À lire aussi",
        "Voir aussi : Les maires en colère contre la réforme",
        "Publicité",
        "- Publicité -",
        "Postez un commentaire",
        "Laisser un commentaire",
        "Partager sur Facebook",
        "Pour lire la suite de cet article, abonnez-vous.",
        "Réservé aux abonnés",
        "Inscrivez-vous à notre newsletter",
        "Ce site utilise des cookies pour améliorer votre expérience de navigation.",
        "Image Alt",
        "You don't have permission to register",
    ],
    "en": [
        "Read more: Senate passes the budget bill after a long night",
        "Related: Markets fall after the vote",
        "Advertisement",
        "Leave a comment",
        "Share this",
        "Subscribe to our newsletter",
        "We use cookies to improve your experience on our website.",
    ],
    "de": [
        "Lesen Sie auch: Bundestag beschließt den Haushalt",
        "Mehr zum Thema",
        "Anzeige",
        "Kommentar schreiben",
        "Wir verwenden Cookies, um Ihnen ein besseres Nutzungserlebnis zu bieten.",
    ],
    "es": [
        "Lee también: El Congreso aprueba los presupuestos",
        "Leer más",
        "Publicidad",
        "Deja un comentario",
        "Compartir en Facebook",
        "Utilizamos cookies para mejorar su experiencia.",
    ],
    "it": [
        "Leggi anche: Il Senato approva la legge di bilancio",
        "Pubblicità",
        "Lascia un commento",
        "Condividi su Facebook",
        "Utilizziamo i cookie per migliorare la tua esperienza.",
    ],
}


def _page(lang: str, paragraphs: list[str], extra: str = "", title: str = "Une page") -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body><header><nav><a href="/">Home</a></nav></header><main><article><h1>{title}</h1>'
        f'<div class="entry-content">{body}{extra}</div></article></main>'
        "<footer><p>© 2024 Example</p></footer></body></html>"
    ).encode("utf-8")


@pytest.mark.parametrize("lang", sorted(_FURNITURE))
def test_furniture_by_shape_in_article_body(lang):
    paragraphs = []
    for real, furniture in zip(_FILLER[lang] + _SENTENCES[lang], _FURNITURE[lang] * 2):
        paragraphs += [real, furniture]
    paragraphs += _FURNITURE[lang]
    lines = extract(_page(lang, paragraphs), f"https://news.example/{lang}/article").text.split("\n")
    assert lines == _FILLER[lang] + _SENTENCES[lang]


def test_related_link_block_is_dropped_but_link_in_sentence_kept():
    extra = (
        '<p><strong>Read more:</strong> <a href="/b">Senate passes the budget</a></p>'
        '<p>As we <a href="/c">reported last week</a>, the council had delayed the vote twice before the deadline in '
        'June.</p>'
    )
    text = extract(_page("en", _FILLER["en"], extra=extra), "https://news.example/a").text
    assert "Senate passes the budget" not in text
    assert "As we reported last week, the council had delayed the vote twice" in text


def test_site_name_line_is_dropped():
    paragraphs = ["Example News", *_FILLER["en"], "news.example"]
    head_meta = '<meta property="og:site_name" content="Example News">'
    body = _page("en", paragraphs).replace(b"<title>", head_meta.encode() + b"<title>")
    assert extract(body, "https://www.news.example/a").text.split("\n") == _FILLER["en"]


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ("Par Jean Dupont", "Jean Dupont"),
        ("By John Smith and Jane Doe", "John Smith, Jane Doe"),
        ("Von Max Müller", "Max Müller"),
        ("Por María García y Pedro López", "María García, Pedro López"),
        ("Di Giulia Rossi", "Giulia Rossi"),
        ("par Marie Curie et Pierre Curie", "Marie Curie, Pierre Curie"),
        ("By Rachael Link, MS, RD", "Rachael Link"),
        ("Madeline Fry, November 18, 2019", "Madeline Fry"),
        ("AFP", "AFP"),
        # the byline ran on into the author's role or an agency credit
        ("Tom Gillespie News reporter", "Tom Gillespie"),
        ("Anna Schmidt, Korrespondentin in Paris", "Anna Schmidt"),
        ("Jean Dupont, journaliste", "Jean Dupont"),
        ("GREG BEACHAM, AP Sports Writer", "GREG BEACHAM"),
        ("DANICA KIRKA, JILL LAWLESSAssociated Press", "DANICA KIRKA, JILL LAWLESS"),
        ("Reuters, Jane Doe", "Jane Doe"),
        # ...and what only looks so
        ("The Associated Press", "The Associated Press"),  # an agency alone is the author
        ("Letters To The Editor", "Letters To The Editor"),  # a capitalised role may be part of a name
        ("FIFPlay", "FIFPlay"),  # a brand, not a name in capitals run into the next word
        ("Theresa May", "Theresa May"),
        ("Peter Writer-Smith", "Peter Writer-Smith"),
        ("Published 3 hours ago", None),
    ],
)
def test_author_prefixes_stripped(byline, expected):
    head = f'<meta name="author" content="{byline}">'
    body = _page("fr", _FILLER["fr"]).replace(b"<title>", head.encode() + b"<title>")
    assert extract(body, "https://example.fr/a").author == expected


def test_author_from_json_ld_list():
    ld = ('<script type="application/ld+json">{"@type":"NewsArticle","author":[{"@type":"Person","name":"By Ann Lee"},'
          '{"@type":"Person","name":"Bob Stone"}]}</script>')
    body = _page("en", _FILLER["en"]).replace(b"<title>", ld.encode() + b"<title>")
    assert extract(body, "https://example.com/a").author == "Ann Lee, Bob Stone"


@pytest.mark.parametrize(
    ("url", "href", "expected"),
    [
        ("https://www.example.co.uk/a?utm_source=x", "/a", "https://www.example.co.uk/a"),
        ("https://amp.example.co.uk/a", "https://www.example.co.uk/a", "https://www.example.co.uk/a"),
        ("https://www.example.co.uk/a", "https://www.other.co.uk/a", None),
        ("https://blog.example.com/a", "https://example.org/a", None),
        ("https://example.com/a", "javascript:void(0)", None),
    ],
)
def test_canonical_same_registered_domain_only(url, href, expected):
    body = _page("en", _FILLER["en"]).replace(b"<title>", f'<link rel="canonical" href="{href}"><title>'.encode())
    assert extract(body, url).canonical_url == expected


def test_no_canonical():
    assert extract(_page("en", _FILLER["en"]), "https://example.com/a").canonical_url is None


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Housing plan approved - Example News", "Housing plan approved"),
        ("Housing plan approved | Example News", "Housing plan approved"),
        ("Housing plan approved – news.example", "Housing plan approved"),
        ("Budget: what changes in 2025", "Budget: what changes in 2025"),
    ],
)
def test_title_without_site_suffix(title, expected):
    head = '<meta property="og:site_name" content="Example News">'
    body = _page("en", _FILLER["en"], title=title).replace(b"<title>", head.encode() + b"<title>")
    assert extract(body, "https://www.news.example/a").title == expected


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ('<html lang="de-DE">', "de"),
        ('<html><head><meta property="og:locale" content="es_ES">', "es"),
        ('<html><head><meta http-equiv="content-language" content="it">', "it"),
    ],
)
def test_language(attrs, expected):
    body = _page("en", _FILLER["en"]).decode().replace('<html lang="en">', attrs.replace("<head>", ""), 1)
    if "<head>" in attrs:
        body = body.replace("<head>", "<head>" + attrs.split("<head>")[1], 1)
    assert extract(body, "https://example.com/a").language == expected


def test_language_is_not_guessed_from_a_few_words():
    short = b"<html><body><article><p>Photo: AFP</p></article></body></html>"
    assert extract(short, "https://example.com/a").language is None  # the detector would say Slovak
    sentence = "<html><body><article><p>Der Stadtrat hat gestern den Haushalt beschlossen.</p></article></body></html>"
    assert extract(sentence, "https://example.com/a").language == "de"


def test_site_is_host_without_www():
    assert extract(_page("en", _FILLER["en"]), "https://WWW.Example.COM/a").site == "example.com"


def test_empty_body_gives_empty_article():
    article = extract(b"", "https://example.com/a")
    assert article.text == "" and article.title is None and article.site == "example.com"


def test_feed_date_used_when_page_has_none():
    feed = datetime(2024, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    assert extract(_page("en", _FILLER["en"]), "https://example.com/a", feed_date=feed).published == feed


def test_extractor_is_pure():
    """No Scrapy, no database, and of the archive only its pure text and URL modules: the CLI's
    extract/reextract use it standalone."""
    import subprocess
    import sys

    code = (
        "import sys, crawler.extract; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'scrapy', 'twisted', 'sqlalchemy', 'archive'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['archive', 'archive.text', 'archive.urls']"


def test_article_is_frozen(vudailleurs):
    with pytest.raises(AttributeError):
        vudailleurs.text = ""
