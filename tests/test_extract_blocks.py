"""Soft blocks: challenge, access denied, consent/login walls, paywalls; articles are not blocked."""

from __future__ import annotations

import pytest

from crawler.extract import extract

ARTICLE = "".join(
    f"<p>Paragraph {i}: the council voted on Tuesday to approve a new housing plan that will add thousands of "
    "affordable homes over the next decade, after months of debate between the mayor and the opposition.</p>"
    for i in range(6)
)


def test_cloudflare_challenge():
    html = (
        "<html><head><title>Just a moment...</title></head><body><div id='challenge-running'>"
        "<h2>Checking your browser before accessing example.com.</h2><p>This process is automatic.</p></div>"
        "<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1'></script></body></html>"
    )
    assert extract(html, "https://example.com/a").blocked == "challenge"


def test_captcha_page():
    html = (
        "<html><head><title>Security check</title></head><body><p>Please verify you are a human.</p>"
        "<div class='g-recaptcha' data-sitekey='x'></div></body></html>"
    )
    assert extract(html, "https://example.com/a").blocked == "challenge"


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1><p>You don't have permission to "
        "access this page on this server. Reference #18.1234</p></body></html>",
        "<html><head><title>403 Forbidden</title></head><body><center><h1>403 "
        "Forbidden</h1></center><hr><center>nginx</center></body></html>",
    ],
)
def test_access_denied(html):
    assert extract(html, "https://example.com/a").blocked == "access-denied"


def test_consent_wall():
    html = (
        "<html><head><title>Before you continue</title></head><body><div class='consent-dialog'>"
        "<h1>Before you continue</h1><p>We use cookies and data to deliver and maintain our services. "
        "Manage your privacy choices at any time.</p><button>Reject all</button><button>Accept all</button>"
        "</div></body></html>"
    )
    assert extract(html, "https://example.com/a").blocked == "consent-wall"


def test_login_wall():
    html = (
        "<html><head><title>Sign in</title></head><body><h1>Please sign in to continue reading</h1>"
        "<form action='/login'><input type='text' name='user'><input type='password' name='pw'>"
        "<button>Log in</button></form></body></html>"
    )
    assert extract(html, "https://example.com/a").blocked == "login-wall"


def test_paywall_teaser():
    html = (
        "<html><head><title>Réforme</title></head><body><article><p>Le gouvernement a présenté mardi sa réforme.</p>"
        "<div class='paywall'><p>Cet article est réservé aux abonnés. Pour lire la suite, abonnez-vous.</p>"
        "</div></article></body></html>"
    )
    assert extract(html, "https://example.fr/a").blocked == "paywall"


def test_article_mentioning_access_denied_is_not_blocked():
    html = (
        "<html><head><title>Access denied to reporters at the council</title></head><body><article>"
        "<p>Access denied: that is what reporters heard on Tuesday when they tried to attend the meeting.</p>"
        f"{ARTICLE}<p>We use cookies, the baker said, and consent is not needed for "
        f"biscuits.</p></article></body></html>"
    )
    article = extract(html, "https://example.com/a")
    assert article.blocked is None
    assert "Access denied: that is what reporters heard" in article.text


def test_article_with_cookie_banner_and_login_popup_is_not_blocked():
    html = (
        f"<html><head><title>Housing plan</title></head><body><article>{ARTICLE}</article>"
        "<div id='cookie-consent'>We use cookies. Manage your privacy choices. <button>Accept all</button></div>"
        "<div class='modal'><form><input type='password'></form><p>Please sign in to continue</p></div></body></html>"
    )
    article = extract(html, "https://example.com/a")
    assert article.blocked is None and "Paragraph 5" in article.text


_MENU = "".join(f"<li><a href='/section-{n}/'>Section {n} news and more</a></li>" for n in range(40))
_BRIEF = ("<p>The regional train line between the two valleys reopened on Monday morning after a landslide "
          "closed it for three days.</p><p>The operator said trains would run at reduced speed until Friday "
          "while engineers finish checking the embankment.</p>")


@pytest.mark.parametrize("language, privacy", [
    ("en", "<a href='/privacy'>Privacy policy</a> <a href='/cookies'>Cookie settings</a>"),
    ("fr", "<a href='/confidentialite'>Politique de confidentialité</a> <a href='/cookies'>Gérer les cookies</a>"),
])
def test_a_short_article_on_a_site_that_links_its_privacy_pages_is_not_a_consent_wall(language, privacy):
    # a two-sentence brief is under any length a consent wall's text could be told from; what
    # tells them apart is that the brief says nothing of cookies, on a page that says much more
    html = (f"<html lang='{language}'><head><title>Train line reopens</title></head><body><header><nav><ul>{_MENU}"
            f"</ul></nav><div class='top'>{privacy}</div></header><main><article><h1>Train line reopens</h1>{_BRIEF}"
            f"</article></main><footer><ul>{_MENU}</ul>{privacy}</footer></body></html>")
    article = extract(html, "https://example.com/2024/05/06/train-line-reopens/")
    assert article.blocked is None
    assert "reopened on Monday morning" in article.text


def test_a_consent_wall_over_a_full_page_is_still_one():
    # the dialog is what the page's text says, whatever lies behind it
    html = ("<html><head><title>Example News</title></head><body><header><nav><ul>" + _MENU + "</ul></nav></header>"
            "<div class='consent-dialog'><h2>Vos choix en matière de cookies</h2><p>Avec votre accord, nous et nos "
            "partenaires utilisons des cookies pour stocker et accéder à des informations. Vous pouvez retirer votre "
            "consentement à tout moment.</p><button>Tout accepter</button></div><footer><ul>" + _MENU + "</ul>"
            "</footer></body></html>")
    assert extract(html, "https://example.com/2024/05/06/wall/").blocked == "consent-wall"


def test_a_short_article_under_a_subscribe_link_is_not_a_paywall():
    # "Déjà abonné ?" in the site's header comes before every article; a paywall's notice follows its teaser
    html = ("<html lang='fr'><head><title>La ligne rouvre</title></head><body><header><a href='/abo'>Déjà abonné ? "
            "Connectez-vous</a> <a href='/offre'>Abonnez-vous pour 1 €</a></header><main><article><h1>La ligne "
            "rouvre</h1><p>La ligne de train entre les deux vallées a rouvert lundi matin après un glissement de "
            "terrain qui l'avait fermée trois jours.</p><p>Les trains rouleront au ralenti jusqu'à vendredi.</p>"
            "</article></main></body></html>")
    article = extract(html, "https://example.fr/2024/05/06/ligne/")
    assert article.blocked is None and "a rouvert lundi matin" in article.text


_LOGIN_BOX = ("<div class='account'><a href='/members'>Members only</a><form action='/login'><input type='text' "
              "name='user' placeholder='Email'><input type='password' name='pw'><button>Log in</button></form></div>")


def test_a_short_article_under_a_sign_in_box_is_not_a_login_wall():
    # a one-sentence brief (under 200 characters) on a site whose header carries a sign-in form and
    # a "members only" link, as every one of its pages does
    html = (f"<html><head><title>Prison review</title></head><body><header>{_LOGIN_BOX}<nav><ul>{_MENU}</ul></nav>"
            "</header><main><article><h1>Prison review</h1><p>A senior prison official said in a sworn affidavit "
            "that anyone determined enough could escape from the island's prison.</p></article></main>"
            f"<footer><ul>{_MENU}</ul></footer></body></html>")
    article = extract(html, "https://example.com/2024/05/06/prison-review/")
    assert article.blocked is None
    assert "sworn affidavit" in article.text


@pytest.mark.parametrize("wall", [
    "<main><h1>Account</h1><form action='/login'><label>Email</label><input type='text'><label>Password</label>"
    "<input type='password'><a href='/reset'>Forgot your password?</a><button>Log in</button></form></main>",
    "<main><article><h1>Budget vote</h1><p>The council approved the budget on Tuesday night after a long debate.</p>"
    "<div class='gate'><p>Please log in to continue reading this article.</p><form><input type='password'></form>"
    "</div></article></main>",
])
def test_a_sign_in_form_that_stands_for_the_article_is_a_login_wall(wall):
    # the form with no sentence at all, or its words following the teaser it cuts
    html = (f"<html><head><title>Example News</title></head><body><header><nav><ul>{_MENU}</ul></nav></header>"
            f"{wall}</body></html>")
    assert extract(html, "https://example.com/2024/05/06/budget-vote/").blocked == "login-wall"
