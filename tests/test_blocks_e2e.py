"""Soft blocks end to end: challenge pages, "Access denied", consent walls and login walls
served with 200 by a loopback site are recorded in blocked_fetches with their reason, and never
archived as articles.
"""

from __future__ import annotations

from sqlalchemy import select

from archive.db import Database
from archive.models import Article, BlockedFetch
from newsarchive.cli import main
from tests.clirun import crawl

CHALLENGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"><script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script>
</head><body><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">www.vudailleurs.com</h1><h2 class="h2" id="challenge-running">Checking if the site
connection is secure</h2><noscript><div id="challenge-error-title">Enable JavaScript and cookies to continue</div>
</noscript><div id="challenge-body-text" class="core-msg spacer">www.vudailleurs.com needs to review the security of
your connection before proceeding.</div><form id="challenge-form" action="/?__cf_chl_f_tk=abc" method="POST"></form>
</div></div><script>window._cf_chl_opt={cvId: '3', cZone: "www.vudailleurs.com"};</script></body></html>"""

DENIED = """<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY><H1>Access Denied</H1>
You don't have permission to access "http&#58;&#47;&#47;www&#46;vudailleurs&#46;com&#47;2024&#47;11&#47;" on this
server.<P>Reference&#32;&#35;18&#46;5c0e1002&#46;1731428000&#46;1a2b3c</BODY></HTML>"""

CONSENT = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Vudailleurs.com</title></head>
<body><div class="consent-wall" role="dialog"><h1>Vos choix en matière de cookies</h1>
<p>Avec votre accord, nous et nos partenaires utilisons des cookies ou technologies similaires pour stocker et
accéder à des informations personnelles comme votre visite sur ce site. Vous pouvez retirer votre consentement
ou vous opposer aux traitements à tout moment en consultant notre politique de confidentialité.</p>
<button>Tout accepter</button> <button>Tout refuser</button> <a href="/privacy">Paramétrer les cookies</a>
</div></body></html>"""

LOGIN = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Connexion – Vudailleurs.com</title></head>
<body><main><h1>Connectez-vous pour lire cet article</h1><p>Cet article est réservé à nos membres.</p>
<form method="post" action="/wp-login.php"><label>Identifiant <input type="text" name="log"></label>
<label>Mot de passe <input type="password" name="pwd"></label><button type="submit">Se connecter</button></form>
</main></body></html>"""

BLOCKS = {"/2024/11/20/challenge/": ("challenge", CHALLENGE), "/2024/11/21/denied/": ("access-denied", DENIED),
          "/2024/11/22/consent/": ("consent-wall", CONSENT), "/2024/11/23/login/": ("login-wall", LOGIN)}
ARTICLE = "/2024/11/12/otan-rutte-macron/"


def feed(paths) -> str:
    items = "".join(f"<item><title>t</title><link>{{{{base}}}}{path}</link>"
                    f"<pubDate>Wed, 20 Nov 2024 10:00:00 +0000</pubDate></item>" for path in paths)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Vudailleurs.com</title>'
            f"<link>{{{{base}}}}/</link><description>d</description>{items}</channel></rss>")


def test_block_pages_are_recorded_never_archived(site, sqlite_url):
    for path, (_, body) in BLOCKS.items():
        site.set_page(path, body)
    site.set_page("/feed.xml", feed([*BLOCKS, ARTICLE]), content_type="application/rss+xml; charset=utf-8")
    assert main(["--db", sqlite_url, "sources", "add", site.url("/feed.xml")]) == 0
    result = crawl(sqlite_url, check=True)
    assert "Blocked 4" in result.stdout
    base = site.base_url

    db = Database(sqlite_url)
    with db.session() as session:
        blocked = {row.url.removeprefix(base): row for row in session.scalars(select(BlockedFetch))}
        archived = [url.removeprefix(base) for url in session.scalars(select(Article.canonical_url))]
    db.dispose()
    assert {path: row.reason for path, row in blocked.items()} == {path: r for path, (r, _) in BLOCKS.items()}
    assert all(row.status == 200 and row.site == "127.0.0.1" and row.run_id for row in blocked.values())
    assert archived == [ARTICLE]
