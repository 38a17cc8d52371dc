"""Soft blocks: pages served with 200 that are not the article but a challenge, an error,
a consent wall, a login wall or a paywall. Only pages with little text can be blocked: an
article that mentions "access denied" in a sentence is still an article."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from crawler.text_select import is_sentence

SHORT_TEXT = 600  # characters of extracted text under which a page may be a block page


def _any_of(*phrases: str, anchor: str = "") -> re.Pattern[str]:
    """Case-insensitive: any of the phrases (each a regular expression), after ``anchor``."""
    return re.compile(f"{anchor}(?:{'|'.join(phrases)})", re.I)


_CHALLENGE_TITLE = _any_of(
    "just a moment", "attention required", "checking your browser", "please wait", "one more step", "ddos-guard",
    "security check", "are you a (robot|human)", "verify(ing)? you are human", "un instant", "bot verification",
    anchor="^")
_CHALLENGE_MARKUP = _any_of(
    "cf-browser-verification", "cf_chl_opt", "challenge-platform", "cf-challenge", "g-recaptcha", "h-captcha",
    "hcaptcha", "captcha-delivery", "px-captcha", "_Incapsula_Resource", "datadome")
_CHALLENGE_TEXT = _any_of(
    "checking your browser", "enable javascript and cookies to continue", "verify (that )?you are (a )?human",
    "are you a robot", "complete the security check", "captcha", "vérifiez que vous êtes humain")
_DENIED = _any_of(
    "access denied", "access to this page has been denied", "403 forbidden", "forbidden", "error 403", "http 403",
    "401 unauthorized", "request blocked", "you have been blocked", "sorry, you have been blocked", "accès refusé",
    "zugriff verweigert", "acceso denegado", "accesso negato",
    anchor=r"^\W*")
_CONSENT = _any_of(
    "cookie", "consent", "consentement", "privacy", "confidentialité", "datenschutz", "einwilligung", "privacidad",
    "before you continue", "avant d'accéder", "vos choix", "your choices", "accept all", "tout accepter",
    "alle akzeptieren", "aceptar todo", "accetta tutti")
_LOGIN = _any_of(
    "(sign|log) ?in to (continue|read|view|access)", "please (sign|log) ?in", "connectez-vous pour", "identifiez-vous",
    "melden sie sich an", "inicia sesión para", "accedi per", "you must be logged in", "login required", "members only")
_PAYWALL = _any_of(
    "subscribe to (continue|read)", "subscribers only", "for subscribers", "réservé aux abonnés", "pour lire la suite",
    "abonnez-vous pour", "nur für abonnenten", "exklusiv für abonnenten", "solo para suscriptores",
    "riservato agli abbonati", "already a subscriber", "déjà abonné")


def block_reason(tree: HtmlElement, title: str | None, text: str) -> str | None:
    """The soft block reason for a page, or None for a normal page."""
    if len(text) >= SHORT_TEXT:
        return None
    title = title or ""
    page_text = " ".join(tree.xpath("string(//body)").split()) if tree is not None else ""
    visible = page_text[:3000]
    head = " ".join(text.split())[:400] or visible[:400]
    around = _around(page_text, text)  # where a wall's notice follows the teaser it cuts
    markup = _markup_sample(tree)
    little = len(visible) < 1500  # the whole page says little: not an article with a captcha'd comment form
    challenged = little and bool(_CHALLENGE_MARKUP.search(markup) or _CHALLENGE_TEXT.search(visible))
    if _CHALLENGE_TITLE.search(title) or challenged:
        return "challenge"
    if _DENIED.search(title) or _DENIED.search(head):
        return "access-denied"
    # a sign-in form on the page is a wall when its words follow the text, or when the text is a
    # scrap with no sentence; a site's header login box beside a short article is not
    if tree is not None and tree.xpath("//input[@type='password']") and (
            _LOGIN.search(around) or (len(text) < 200 and not _has_sentence(text))):
        return "login-wall"
    if _LOGIN.search(head):
        return "login-wall"
    if len(text) < 400 and _PAYWALL.search(around):
        return "paywall"
    # a consent wall's own words are what the page's text says (the start of the page when no text
    # was found): a short article on a site that links its privacy and cookie pages is no wall
    if len(text) < 400 and len(_CONSENT.findall(head)) >= 2:
        return "consent-wall"
    return None


def _has_sentence(text: str) -> bool:
    return any(is_sentence(line) for line in text.splitlines())


def _around(page_text: str, text: str, after: int = 1000) -> str:
    """The page's visible text from where the extracted text starts to a little after it ends: a
    paywall's notice follows the teaser it cuts, while a site-wide "already a subscriber?" link in
    the header comes before every article, short ones too. The page's start when the text is not
    found in it (or there is none)."""
    first = " ".join(text.split("\n", 1)[0].split())[:80]
    at = page_text.find(first) if first else -1
    return page_text[at:at + len(" ".join(text.split())) + after] if at >= 0 else page_text[:3000]


def _markup_sample(tree: HtmlElement | None) -> str:
    if tree is None:
        return ""
    parts: list[str] = []
    for node in tree.xpath("//script[@src] | //div[@id or @class] | //form[@id or @action] | //iframe[@src]")[:200]:
        parts.extend(filter(None, (node.get("src"), node.get("id"), node.get("class"), node.get("action"))))
    parts.extend(s.text or "" for s in tree.xpath("//script[not(@src)]")[:20])
    return " ".join(parts)
