"""Page furniture recognised by its shape (French, English, German, Spanish, Italian, some
Portuguese): "read also" links, ad labels, share boxes, comment/login/newsletter/paywall
prompts, cookie notices, lone image alt text, image captions and credits, the site name alone on a
line.

A paragraph is furniture only when it IS the label or prompt: the whole line, the label
followed by a separator and a link title, or a short line led by a prompt. A sentence that
merely contains the words stays. The DOM pass removes label-led, link-dense blocks before
extraction; the line pass judges the extracted paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.html import HtmlElement

from archive.text import line_fingerprint, normalize_line
from crawler.html_classes import names_any

# labels that lead a link to another article: "Lire aussi : <title>"
_RELATED = (
    r"(?:à |a )?lire (?:aussi|également|egalement)|(?:à |a )?voir aussi|sur le même sujet|lire la suite|voir la vidéo"
    r"|(?:read|see) (?:more|also)|also read|related(?: articles?| stories| content| coverage)?|more on this(?: story)?"
    r"|recommended|you may also like|you might also like|most read|editor'?s picks?|trending now"
    r"|lesen sie (?:auch|mehr)|mehr zum thema|auch interessant|das könnte sie auch interessieren|weiterlesen"
    r"|lee (?:también|tambien)|leer más|leer mas|te puede interesar|relacionad[oa]s?|noticias relacionadas"
    r"|leggi anche|leggi (?:tutto|di più)|potrebbe interessarti|articoli correlati"
    r"|leia (?:também|mais)|veja também|saiba mais"
    r"|vea (?:también|tambien)|ver (?:también|tambien)|notas relacionadas|te recomendamos"
    r"|lesen sie hier|schon gelesen|siehe auch|weitere artikel|lees ook|zie ook|découvrez aussi"
    r"|czytaj (?:też|także|również)|zobacz (?:też|także|również)|przeczytaj (?:też|także|również)"
    r"|don'?t miss|ne manquez pas|nicht verpassen"
)
_RELATED_LED = re.compile(rf"^(?:{_RELATED})\s*(?P<sep>[:»>|→\-–—•]+)?\s*(?P<rest>.*)$", re.I)
# first words of those labels: a cheap test before the regular expression
_RELATED_FIRST_WORDS = frozenset(
    "à a lire voir sur read see also related more recommended you most editor's editors trending lesen mehr auch"
    " das weiterlesen lee leer te relacionado relacionados relacionada relacionadas noticias leggi potrebbe"
    " articoli leia veja saiba vea ver notas schon siehe weitere lees zie découvrez czytaj zobacz przeczytaj don't dont"
    " ne nicht".split()
)

# whole-line labels and prompts (compared with normalize_line: casefolded, ends stripped)
_LABELS = {
    # ads
    "publicité", "pub", "annonce", "advertisement", "advertising", "ad", "sponsored", "sponsored content",
    "anzeige", "werbung", "publicidad", "anuncio", "pubblicità", "pubblicita", "publicidade",
    # share
    "partager", "partagez", "partager sur facebook", "partager sur twitter", "partager sur x",
    "partager sur linkedin", "partager par email", "partager cet article", "imprimer", "envoyer",
    "share", "share this", "share this article", "share this story", "share on facebook", "share on twitter",
    "share on x", "share on linkedin", "tweet", "email", "e-mail", "print", "copy link", "copier le lien",
    "teilen", "artikel teilen", "auf facebook teilen", "drucken", "compartir", "compartir en facebook",
    "condividi", "condividi su facebook", "compartilhar", "facebook", "twitter", "linkedin", "whatsapp",
    "pinterest", "messenger", "telegram", "reddit",
    # comments
    "postez un commentaire", "laisser un commentaire", "laissez un commentaire", "ajouter un commentaire",
    "commentaires", "commentaire", "réagir", "réagissez", "répondre", "leave a comment", "leave a reply",
    "post a comment", "add a comment", "comments", "comment", "reply", "kommentar schreiben", "kommentare",
    "kommentieren", "deja un comentario", "deja tu comentario", "comentarios", "lascia un commento",
    "commenti", "lascia un commento annulla risposta", "cancel reply", "annuler la réponse",
    # login / registration
    "you don't have permission to register", "you do not have permission to register", "log in", "login",
    "sign in", "sign up", "register", "se connecter", "connexion", "s'inscrire", "inscription", "mon compte",
    "mot de passe oublié", "forgot password", "forgot your password", "lost your password", "remember me",
    "se souvenir de moi", "anmelden", "registrieren", "iniciar sesión", "registrarse", "accedi", "registrati",
    # images
    "image alt", "image", "photo", "img", "alt", "illustration", "crédit photo", "photo credit", "bild", "foto",
    "imagen", "immagine",
    # newsletter / paywall
    "newsletter", "abonnez-vous", "s'abonner", "subscribe", "subscribe now", "abonnieren", "suscríbete",
    "abbonati", "déjà abonné", "already a subscriber", "réservé aux abonnés", "article réservé aux abonnés",
    "premium", "exclusive", "abonnés",
    # navigation leftovers
    "menu", "accueil", "home", "retour en haut", "back to top", "haut de page", "suivant", "précédent",
    "next", "previous", "next article", "previous article", "article suivant", "article précédent",
    "tell us what you think", "what do you think", "qu'en pensez-vous", "donnez votre avis",
}  # fmt: skip

# prompts that lead a short line: "Pour lire la suite de cet article, abonnez-vous"
_PROMPT_LED = re.compile(
    r"^(?:pour lire la suite|la suite est réservée|réservé aux abonnés|cet article est réservé|abonnez-vous"
    r"|inscrivez-vous|recevez (?:notre|nos|gratuitement)|(?:s'|vous )?inscrire à (?:la|notre) newsletter"
    r"|subscribe to|sign up (?:for|to)|get our newsletter|this article is for subscribers|to continue reading"
    r"|already a subscriber|create a free account|log in to|sign in to|you don't have permission|you must be logged"
    r"|melden sie sich|abonnieren sie|jetzt abonnieren|lesen sie weiter mit|dieser artikel ist exklusiv"
    r"|suscríbete|suscribete|regístrate|para seguir leyendo|contenido exclusivo para suscriptores"
    r"|iscriviti|abbonati|per continuare a leggere|contenuto riservato agli abbonati"
    r"|partager (?:sur|par|cet)|share (?:on|this|via)|teilen (?:auf|sie)|compartir en|condividi su"
    r"|(?:postez|laissez|laisser|ajoutez|écrire) (?:un|votre) commentaire|leave a (?:comment|reply)"
    r"|kommentar schreiben|deja (?:un|tu) comentario|lascia un commento"
    # "Like this story? Share it with a friend!": a question about the article, then a call
    r"|(?:did you )?(?:like|liked|enjoy|enjoyed|love) (?:this|the|our) (?:story|article|post|piece|read) ?\?"
    r"|(?:vous avez aimé|vous aimez) (?:cet|l') ?article ?\?|cet article vous a plu ?\?"
    r"|hat (?:ihnen|dir) (?:dieser|der|unser) (?:artikel|beitrag) gefallen ?\?"
    r"|gefällt (?:ihnen|dir) (?:dieser|der|unser) (?:artikel|beitrag) ?\?"
    r"|¿?te (?:gustó|ha gustado) (?:este|el) artículo ?\?|ti è piaciuto (?:questo|l') ?articolo ?\?"
    # calls to follow, sign up, support or download
    r"|follow us|like us on|folgen sie uns|liken sie uns|suivez-nous|síguenos|seguici"
    r"|subscribe now|sign up (?:now|here|today)|zum newsletter|newsletter abonnieren|jetzt (?:registrieren|anmelden)"
    r"|get (?:the|our) [^.?!]{0,40}(?:newsletter|edition|app)\b|download (?:the|our) [^.?!]{0,30}app\b"
    r"|(?:please )?support us|unterstütze[n]? (?:uns|sie uns)|donate now|jetzt spenden|hazte (?:miembro|socio)"
    r"|do you want to be informed|want to stay informed)",
    re.I,
)
# disclosures of affiliate links and advertisers: a notice about the page, not its article
_DISCLOSURE = re.compile(
    r"enthält (?:werbe|affiliate)|von denen [^.]{0,40}provision erh|we may (?:receive|earn) (?:a )?commission"
    r"|references to products from one or more of our advertisers|advertisers do not influence"
    r"|(?:contains|may contain) affiliate|liens d'affiliation|enlaces de afiliados"
    r"|copyrighted property of|written permission must be obtained",
    re.I,
)
_DISCLOSURE_MAX_WORDS = 50
# "12 Kommentare", "0 comments": a count of the comments below, not text
_COMMENT_COUNT = re.compile(r"^\d+ (?:kommentare?|comments?|commentaires?|comentarios?|commenti|reacties)\b", re.I)
# a prompt-led line is furniture when very short, or not long and calling for an action
_PROMPT_SHORT_WORDS = 8
_PROMPT_MAX_WORDS = 25
_CALL_TO_ACTION = re.compile(
    r"abonn|subscri|inscri|newsletter|compte|connect|log ?in|sign ?(?:in|up)|account|regist|abbon|suscri"
    r"|commentaire|comment|kommentar|comentario|commento|facebook|twitter|whatsapp|e-?mail|gratuit|free"
    r"|share|partag|teile|compart|condivid|instagram|youtube|app\b|donat|spende|miembro|informed",
    re.I,
)
# cookie notices: a line led by one of these is furniture when not long
_COOKIE_LED = re.compile(
    r"^(?:(?:ce|notre) site (?:web )?utilise des cookies|nous utilisons des cookies|en poursuivant votre navigation"
    r"|(?:we|this (?:web)?site) uses? cookies|by (?:continuing|using) (?:to use )?(?:this|our) (?:web)?site"
    r"|wir verwenden cookies|diese (?:web)?seite verwendet cookies|diese website (?:verwendet|nutzt) cookies"
    r"|utilizamos cookies|este sitio (?:web )?utiliza cookies|utilizziamo (?:i )?cookie"
    r"|questo sito (?:web )?utilizza (?:i )?cookie|este site utiliza cookies|usamos cookies)",
    re.I,
)
_COOKIE_MAX_WORDS = 80
# "© 2024 Example", "Copyright Example 2019 - ISSN ...", "Tous droits réservés"
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|copyright\b)|all rights reserved|tous droits réservés|alle rechte vorbehalten"
    r"|todos los derechos reservados|tutti i diritti riservati",
    re.I,
)
_COPYRIGHT_MAX_WORDS = 20
# "Updated at 1:23 p.m.", "Mis à jour le 12/11/2024 à 18h30": a timestamp line, not a sentence
_TIMESTAMP_LED = re.compile(
    r"^(?:updated|last updated|published|posted|mis à jour|publié|modifié|aktualisiert|veröffentlicht"
    r"|actualizado|publicado|aggiornato|pubblicato)\b.*\d",
    re.I,
)
_TIMESTAMP_MAX_WORDS = 10
# "Foto: dpa", "Titelbild: Name/Agentur", "Crédits photos : Bestimage", "(Photo by Name/Getty Images)"
_CREDIT_LED = re.compile(
    r"^\(?(?:(?:photo|foto|bild|image|picture|imagen|fotografía|immagine)s?(?: (?:credits?|source|quelle|fuente))?"
    r"|titelbild|beitragsbild|headerbild|aufmacherbild|bildquelle|crédits? photos?|source photo|credits?)\s*[:©]"
    r"|^\(?(?:photo|foto|bild) (?:by|von|de|di|par|:)\b",
    re.I,
)
_CREDIT_MAX_WORDS = 12
# lines about the page, not of its article: tags, reading time, contributors, a lone e-mail address
_ABOUT_PAGE = re.compile(
    r"^(?:filed under|tags?|tagged(?: with)?|schlagwörter|schlagworte|stichworte|mots-clés|étiquettes|etiquetas"
    r"|temas|argomenti)\s*:"
    r"|^(?:reading time|read time|lesezeit|lesedauer|temps de lecture|tiempo de lectura|tempo de leitura"
    r"|tempo di lettura)\s*:?\s*(?:ca\.\s*)?\d+|^\d+\s*(?:min(?:ute)?s?\.?|minuten) (?:read|lesezeit|de lecture)\b"
    r"|^\((?:additional )?(?:reporting|writing|editing) by\b|^(?:additional )?reporting by [^.]*;\s*editing by"
    r"|contributed (?:to )?(?:this report|reporting)(?: (?:from|in) [^.,;]{0,40})?\.?$"
    r"|^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$",  # (a lone URL may be what the article lists: kept)
    re.I,
)
_ABOUT_PAGE_MAX_WORDS = 40
# "Follow AP's coverage at https://...", "Follow The Times on Facebook": a call, whoever is followed
_FOLLOW = re.compile(r"^follow\b.*\b(?:facebook|twitter|instagram|youtube|linkedin|tiktok|coverage|newsletter)\b"
                     r"|^follow\b.*https?://", re.I)
_SHORTCODE = re.compile(r"^\[\w[^\]]*\].*\[/\w+\]$")  # a CMS shortcode left unrendered
_SENTENCE_END = re.compile(r"[.!?…]['\"»”’)]*$")


def is_furniture_line(line: str, site_names: Iterable[str] = ()) -> bool:
    """True when a paragraph of extracted text is page furniture by its shape."""
    norm = normalize_line(line)
    if not norm or not any(c.isalnum() for c in norm):
        return True
    if norm in _LABELS or norm in site_names:
        return True
    words = len(norm.split())
    if words <= _COPYRIGHT_MAX_WORDS and _COPYRIGHT.search(line):
        return True
    if words <= _TIMESTAMP_MAX_WORDS and _TIMESTAMP_LED.match(norm):
        return True
    stripped = line.strip()
    if _SHORTCODE.match(stripped):
        return True
    if words <= _CREDIT_MAX_WORDS and _CREDIT_LED.match(stripped):
        return True
    if words <= _CREDIT_MAX_WORDS and _COMMENT_COUNT.match(norm) and not _SENTENCE_END.search(stripped):
        return True
    if words <= _DISCLOSURE_MAX_WORDS and _DISCLOSURE.search(norm):
        return True
    if words <= _ABOUT_PAGE_MAX_WORDS and (_ABOUT_PAGE.search(stripped) or _FOLLOW.match(stripped)):
        return True
    related = _RELATED_LED.match(norm)
    if related:
        rest = related.group("rest")
        if not rest or related.group("sep"):
            return words <= 60
        # no separator: a link title (short, no final full stop), not a sentence
        return words <= 20 and not _SENTENCE_END.search(stripped)
    # list items ("- Sign up for the bundle...") are steps of the article, not prompts
    if words <= _PROMPT_MAX_WORDS and not line.lstrip().startswith(("- ", "• ")) and _PROMPT_LED.match(norm):
        return words <= _PROMPT_SHORT_WORDS or bool(_CALL_TO_ACTION.search(norm))
    return words <= _COOKIE_MAX_WORDS and bool(_COOKIE_LED.match(norm))


def site_name_keys(*names: str | None) -> frozenset[str]:
    """Normal forms of the site's names ("Vudailleurs.com", "vudailleurs") for whole-line matching."""
    keys = set()
    for name in names:
        if name:
            keys.add(normalize_line(name))
            if "." in name:
                keys.add(normalize_line(name.rsplit(".", 1)[0]))
    keys.discard("")
    return frozenset(keys)


def filter_lines(lines: Iterable[str], furniture: frozenset[int], site_names: frozenset[str]) -> list[str]:
    kept = []
    for line in lines:
        if furniture and line_fingerprint(line) in furniture:
            continue
        if is_furniture_line(line, site_names):
            continue
        kept.append(line)
    return kept


def link_density(node: HtmlElement, text_length: int) -> float:
    linked = sum(len(a.text_content().strip()) for a in node.iter("a"))
    return linked / text_length if text_length else 0.0


def drop_related_blocks(tree: HtmlElement) -> None:
    """Remove short, label-led, link-dense blocks ("Lire aussi : <a>...</a>") from the tree."""
    doomed = []
    for node in tree.iter("p", "div", "li", "aside", "section", "strong", "span", "h2", "h3", "h4"):
        # cheap test first: the block's first words (its own text, or its first child's)
        lead = node.text
        if not (lead and lead.strip()) and len(node):
            lead = node[0].text
        words = lead.split(None, 1) if lead else None
        if not words or words[0].casefold().rstrip(":»>|-–—") not in _RELATED_FIRST_WORDS:
            continue
        if not _RELATED_LED.match(lead.lstrip()[:60].casefold()):
            continue
        text = " ".join(node.text_content().split())
        if len(text) <= 400 and node.find(".//a") is not None and link_density(node, len(text)) >= 0.5:
            doomed.append(node)
    for node in doomed:
        if node.getparent() is not None:
            node.drop_tree()  # keeps the tail text


_CAPTION_WORDS = frozenset({"caption", "figcaption", "credit", "credits", "copyright"})
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
CAPTION_MAX_CHARS = 400  # a longer "caption" block holds more than a caption
CAPTION_LEVELS = 3  # how far up from an image its caption's container may be


def drop_captions(tree: HtmlElement) -> None:
    """Remove image captions and photo credits: <figcaption>, and a block beside an image (a
    child of one of its nearest containers) whose class names it a caption or a credit
    ("img__caption", "photoCredit"). A heading is kept whatever its class says (utility classes
    such as "caption-s5" are font sizes). Found from the images, which are few, not by a look at
    every element's class."""
    doomed = list(tree.iter("figcaption"))
    seen: set[HtmlElement] = set()
    for image in tree.iter("img", "picture"):
        container = image.getparent()
        for _ in range(CAPTION_LEVELS):
            if container is None or container in seen:
                break
            seen.add(container)
            doomed.extend(child for child in container if _is_caption(child))
            container = container.getparent()
    for node in doomed:
        if node.getparent() is not None and len(" ".join(node.text_content().split())) < CAPTION_MAX_CHARS:
            node.drop_tree()  # keeps the tail text


def _is_caption(node: HtmlElement) -> bool:
    classes = node.get("class")
    if not classes or ("aption" not in classes and "redit" not in classes and "opyright" not in classes):
        return False  # cheap: most classes name none of the words
    return node.tag not in _HEADING_TAGS and names_any(classes, _CAPTION_WORDS)


def drop_selected(tree: HtmlElement, selectors: Iterable[str]) -> None:
    """Remove the elements matching a site spider's CSS selectors."""
    for selector in selectors:
        for node in tree.cssselect(selector):
            if node.getparent() is not None:
                node.drop_tree()
