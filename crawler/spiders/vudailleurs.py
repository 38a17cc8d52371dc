"""Vudailleurs.com: a French WordPress news site ("L'actualité vue d'ailleurs").

Its furniture: the "Image Alt" logo and "Vudailleurs.com" site title, the menu and account links,
Jetpack share buttons ("Partager sur Facebook"), the comment form ("Postez un commentaire"),
the login popup ("You don't have permission to register"), the newsletter widget, the footer.
"""

from crawler.spiders.site_base import Selectors, SiteSpider


class VudailleursSpider(SiteSpider):
    name = "vudailleurs"
    allowed_domains = ["vudailleurs.com"]
    feeds = ("https://www.vudailleurs.com/feed/",)
    sitemaps = ("https://www.vudailleurs.com/sitemap.xml",)
    article_url = r"^https?://[^/]+/20\d\d/\d\d/\d\d/[^/?#]+/?(?:[?#].*)?$"  # /2024/11/12/slug/
    selector_versions = (
        Selectors(drop=(
            "#cookie-notice", "#masthead", ".code-block", ".site-branding", "img.custom-logo", ".main-navigation",
            ".header-account", ".entry-header .cat-links", ".entry-footer", ".sharedaddy", ".post-navigation",
            "#comments", "#respond", "#secondary", ".widget_newsletter", "#colophon", "#login-popup",
        )),
    )
