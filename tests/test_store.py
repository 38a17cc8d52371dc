"""The archive's write path: canonical URLs, aliases, revisions, exact copies, raw pages."""

from archive.lookup import archived_urls, find_article
from archive.rawpages import decompress
from archive.store import ArticleFields, Outcome, Page, save_article

BODY = "<html><body><p>x</p></body></html>".encode()


def page(url, body=BODY, headers=()):
    return Page(url=url, status=200, headers=list(headers), body=body)


def test_tracking_and_amp_variants_are_aliases_of_one_article(db):
    first = save_article(db, page("http://news.test/a/?utm_source=rss&utm_medium=rss"), ArticleFields(text="Un\nDeux"))
    amp = save_article(db, page("http://news.test/a/amp/"),
                       ArticleFields(text="Un\nDeux", canonical_url="http://news.test/a/"))
    assert first.outcome is Outcome.NEW and amp.outcome is Outcome.UNCHANGED
    assert first.article_id == amp.article_id and first.canonical_url == "http://news.test/a/"
    with db.session() as s:
        article = find_article(s, "http://news.test/a/?utm_campaign=x")
        assert {a.url for a in article.aliases} == {"http://news.test/a/?utm_source=rss&utm_medium=rss",
                                                    "http://news.test/a/amp/"}
        assert archived_urls(s, ["http://news.test/a/#top", "http://news.test/b/"]) == {"http://news.test/a/#top"}


def test_changed_text_is_a_revision_but_whitespace_is_not(db):
    save_article(db, page("http://news.test/a/"), ArticleFields(text="Un\nDeux"))
    same = save_article(db, page("http://news.test/a/"), ArticleFields(text="  Un \n\n Deux  "))
    changed = save_article(db, page("http://news.test/a/", body=b"<p>v2</p>"), ArticleFields(text="Un\nDeux\nTrois"))
    assert same.outcome is Outcome.UNCHANGED
    assert changed.outcome is Outcome.REVISION and changed.revision == 2
    with db.session() as s:
        article = find_article(s, "http://news.test/a/")
        assert [r.number for r in article.revisions] == [1, 2]
        assert article.revisions[1].text == "Un\nDeux\nTrois"
        assert decompress(article.revisions[1].raw_page) == b"<p>v2</p>"


def test_same_text_at_another_url_points_at_the_earliest_copy(db):
    save_article(db, page("http://news.test/a/"), ArticleFields(text="Texte repris"))
    copy = save_article(db, page("http://other.test/copie"), ArticleFields(text="Texte repris"))
    assert copy.outcome is Outcome.DUPLICATE and copy.duplicate_of == "http://news.test/a/"
