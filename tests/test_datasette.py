"""The archive as analysts open it: SQL views, Datasette's ?_search= on the contentless FTS5 table,
the raw pages read through the plugin's SQL functions, and plain sqlite3."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import zlib

import pytest
from site_pages import archive_pages, article_page
from sqlalchemy import text

from archive import dictionaries
from archive.db import Database
from archive.store import ArticleFields, Page, save_article

datasette_app = pytest.importorskip("datasette.app", reason="datasette is a test extra (pip install -e '.[test]')")

STORY = " ".join(f"mot{i}" for i in range(60))


def save(db, url, body, *, title, headers=(), raw=None):
    page = Page(url=url, status=200, headers=list(headers), body=raw if raw is not None else body.encode())
    return save_article(db, page, ArticleFields(text=body, title=title, language="fr"))


def build(db):
    save(db, "https://journal.test/defense", "Le ministère de la Défense annonce un budget.\n" + STORY,
         title="Budget de la défense", headers=[("Content-Type", "text/html; charset=windows-1252")],
         raw="<html><title>Défense</title><p>Le ministère</p></html>".encode("cp1252"))
    save(db, "https://journal.test/defense", "Le ministère de la Défense annonce un budget en hausse.\n" + STORY,
         title="Budget de la défense")
    save(db, "https://autre.test/copie", "(Avec AFP)\nLe ministère de la Défense annonce un budget en hausse.\n"
         + STORY + "\nSource : AFP", title="Copie AFP")
    save(db, "https://journal.test/train", "Le train de nuit reprend du service.", title="Train de nuit")


@pytest.fixture
def archive_file(sqlite_url):
    db = Database(sqlite_url)
    build(db)
    db.dispose()
    return sqlite_url.removeprefix("sqlite:///")


def test_views_on_both_backends(db):
    build(db)
    with db.session() as s:
        texts = {r.url: r for r in s.execute(text("SELECT * FROM article_texts"))}
        assert texts["https://journal.test/defense"].revisions == 2
        assert "en hausse" in texts["https://journal.test/defense"].text
        assert texts["https://autre.test/copie"].duplicate_of == "https://journal.test/defense"
        revisions = s.execute(text("SELECT number, latest, raw_status FROM article_revisions "
                                   "WHERE url = 'https://journal.test/defense' ORDER BY number")).all()
        assert [(n, bool(latest), status) for n, latest, status in revisions] == [(1, False, 200), (2, True, 200)]
        copies = s.execute(text("SELECT copy_url, original_url FROM article_duplicates")).all()
        assert copies == [("https://autre.test/copie", "https://journal.test/defense")]


def datasette_get(files, path, **kwargs):
    async def fetch():
        ds = datasette_app.Datasette(files, **kwargs)
        await ds.invoke_startup()
        return await ds.client.get(path)
    return asyncio.run(fetch())


def rows(response):
    assert response.status_code == 200, response.text
    return response.json()


def test_search_works_in_datasette_through_the_plugin_whatever_the_file_name(archive_file):
    found = rows(datasette_get([archive_file], "/archive/articles.json?_search=defense&_shape=array"))
    assert sorted(r["title"] for r in found) == ["Budget de la défense", "Copie AFP"]
    found = rows(datasette_get([archive_file], "/archive/article_texts.json?_search=train+nuit&_shape=array"))
    assert [r["title"] for r in found] == ["Train de nuit"]


def test_raw_pages_read_through_the_plugin_functions(archive_file):
    sql = ("select raw_text(compression, body, headers) as html, raw_body(compression, body) as raw "
           "from raw_pages order by id limit 1")
    found = rows(datasette_get([archive_file], f"/archive.json?sql={sql}&_shape=array"))
    assert found[0]["html"] == "<html><title>Défense</title><p>Le ministère</p></html>"  # decoded as windows-1252


def test_pages_compressed_with_their_site_dictionary_read_through_the_plugin(archive_file):
    db = Database(f"sqlite:///{archive_file}")
    archive_pages(db, "journal.test", range(20))
    assert dictionaries.train_site_dictionaries(db, min_pages=16)
    archive_pages(db, "journal.test", [99])
    db.dispose()
    sql = ("select raw_text(compression, body, headers, dictionary_id) as html from raw_pages "
           "where dictionary_id is not null")
    found = rows(datasette_get([archive_file], f"/archive.json?sql={sql}&_shape=array"))
    assert [r["html"] for r in found] == [article_page("journal.test", 99)[0].decode()]
    sql = "select raw_text(compression, body, headers, dictionary_id) as html from raw_pages order by id limit 1"
    found = rows(datasette_get([archive_file], f"/archive.json?sql={sql}&_shape=array"))
    assert found[0]["html"].startswith("<html><title>Défense")  # pages without one: dictionary_id is NULL


def test_the_shipped_metadata_alone_links_the_index(archive_file, tmp_path):
    from datasette.plugins import pm

    import newsarchive.datasette_plugin as plugin

    named = tmp_path / "newsarchive.db"  # the default archive's name, which metadata.json is written for
    shutil.copy(archive_file, named)
    name = pm.get_name(plugin)
    pm.unregister(plugin)
    try:
        without = rows(datasette_get([str(named)], "/newsarchive/articles.json?_search=defense&_shape=array"))
        assert len(without) == 3  # every article: what Datasette does on its own: ignores the contentless index
        metadata = json.loads(plugin.METADATA.read_text("utf-8"))
        found = rows(datasette_get([str(named)], "/newsarchive/articles.json?_search=defense&_shape=array",
                                   metadata=metadata))
        assert sorted(r["title"] for r in found) == ["Budget de la défense", "Copie AFP"]
    finally:
        pm.register(plugin, name)


def test_plain_sqlite3(archive_file):
    conn = sqlite3.connect(archive_file)
    found = conn.execute("SELECT title FROM article_texts WHERE id IN "
                         "(SELECT rowid FROM article_fts WHERE article_fts MATCH 'defense') ORDER BY id").fetchall()
    assert found == [("Budget de la défense",), ("Copie AFP",)]
    conn.close()
    if shutil.which("sqlite3") is None:
        pytest.skip("no sqlite3 shell to try sqlar_uncompress with")
    # pages archived before a10_storage are zlib, which the shell reads (new ones are zstd)
    conn = sqlite3.connect(archive_file)
    conn.execute("INSERT INTO raw_pages (url, fetched_at, status, headers, compression, body) VALUES "
                 "('https://journal.test/train', '2026-01-01 00:00:00', 200, '[]', 'zlib', ?)",
                 (zlib.compress("<p>Le train de nuit reprend du service.</p>".encode()),))
    conn.commit()
    conn.close()
    shell = subprocess.run(["sqlite3", archive_file, "SELECT CAST(sqlar_uncompress(body, 10485760) AS TEXT) "
                            "FROM raw_pages WHERE compression = 'zlib' ORDER BY id DESC LIMIT 1"],
                           capture_output=True, text=True, timeout=30)
    assert shell.returncode == 0, shell.stderr
    assert "Le train de nuit reprend du service." in shell.stdout
