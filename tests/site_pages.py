"""Pages of made-up news sites for storage tests: one template per site, one article per page."""

from __future__ import annotations

import random

from archive.store import ArticleFields, Page, save_article

WORDS = ("ministre budget réforme élection conseil ville région saison match joueur prix marché "
         "entreprise emploi santé hôpital école climat énergie transport police justice culture").split()


def template(site: str) -> tuple[str, str]:
    """A news site's page head and foot (navigation, scripts, footer), the same on every page."""
    rng = random.Random(site)
    nav = "".join(f'<li><a href="/rubrique/{w}-{rng.randrange(999)}/">{w.title()}</a></li>' for w in WORDS)
    script = "".join(f"window.cfg_{i} = {{'site': '{site}', 'slot': {rng.randrange(10**6)}}};\n" for i in range(150))
    foot = "".join(f'<p class="legal">Mention {i} de {site} : {" ".join(rng.choices(WORDS, k=12))}</p>'
                   for i in range(40))
    head = (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{{title}} - {site}</title>'
            f'<script>{script}</script></head><body><header><nav><ul>{nav}</ul></nav></header><main>')
    return head, f"</main><footer>{foot}</footer></body></html>"


def article_page(site: str, n: int) -> tuple[bytes, str]:
    """(HTML, clean text) of article n of a site: its own words inside the site's template."""
    rng = random.Random(f"{site}/{n}")
    paragraphs = [" ".join(rng.choices(WORDS, k=40)) + f" ({n}-{i})" for i in range(8)]
    head, foot = template(site)
    html = head.replace("{title}", f"Article {n}") + "".join(f"<p>{p}</p>" for p in paragraphs) + foot
    return html.encode(), "\n".join(paragraphs)


def archive_pages(db, site: str, numbers) -> list[bytes]:
    bodies = []
    for n in numbers:
        html, text = article_page(site, n)
        save_article(db, Page(url=f"https://{site}/articles/{n}", status=200, headers=[], body=html),
                     ArticleFields(text=text, title=f"Article {n}"))
        bodies.append(html)
    return bodies
