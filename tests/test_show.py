"""`show`: an article with its aliases, revisions (with times) and copies both ways."""

import json
from datetime import datetime, timedelta, timezone

from archive.store import ArticleFields, Page, save_article
from newsarchive.cli import main

STORY = " ".join(f"mot{i}" for i in range(60))
T0 = datetime(2024, 10, 8, 6, tzinfo=timezone.utc)


def save(db, url, text, when):
    return save_article(db, Page(url=url, status=200, headers=[], body=text.encode(), fetched_at=when),
                        ArticleFields(text=text, title="Train de nuit"))


def test_show_lists_revisions_aliases_and_duplicates_both_ways(db, db_url, capsys):
    original = save(db, "https://journal.test/train?utm_source=rss", STORY, T0)
    save(db, "https://journal.test/train", STORY + "\nMise à jour.", T0 + timedelta(hours=1))
    copy = save(db, "https://autre.test/train", "(Avec AFP)\n" + STORY + "\nSource : AFP", T0 + timedelta(hours=2))
    assert copy.duplicate_of == "https://journal.test/train"

    assert main(["--db", db_url, "show", str(original.article_id), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["url"] == "https://journal.test/train"
    assert data["aliases"] == ["https://journal.test/train?utm_source=rss"]
    assert [(r["number"], r["fetched_at"]) for r in data["revisions"]] == [
        (1, T0.isoformat()), (2, (T0 + timedelta(hours=1)).isoformat())]
    assert data["duplicates"] == [{"id": copy.article_id, "url": "https://autre.test/train",
                                   "first_seen": (T0 + timedelta(hours=2)).isoformat()}]
    assert data["duplicate_of"] is None and data["text"].endswith("Mise à jour.")

    assert main(["--db", db_url, "show", "https://autre.test/train"]) == 0
    out = capsys.readouterr().out
    assert f"copy of:     [{original.article_id}] https://journal.test/train" in out
    assert main(["--db", db_url, "show", "https://journal.test/train"]) == 0
    out = capsys.readouterr().out
    assert "copied by:" in out and "https://autre.test/train" in out
    assert "2024-10-08T07:00:00+00:00" in out  # revision times in the table


def test_show_unknown_article_is_a_clean_error(db_url, capsys):
    assert main(["--db", db_url, "show", "12345"]) == 1
    assert "no archived article" in capsys.readouterr().err
