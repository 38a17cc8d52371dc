"""views for analysts: articles with their latest text, revisions, duplicates

Revision ID: a13_views
Revises: 0002
Create Date: 2026-12-02 10:00:00

Plain SQL views, the same on SQLite and PostgreSQL, so an analyst can query the archive
directly (sqlite3, psql, Datasette) without knowing that an article's text lives in its latest
revision. Views are not in the models: env.py keeps autogenerate away from them.

A later migration that rebuilds articles, revisions or raw_pages on SQLite (batch mode: copy,
drop, rename) must drop these views first and create them again after: SQLite refuses to rename
a table while a view names one that is missing.
"""
from alembic import op

revision = 'a13_views'
down_revision = '0002'
branch_labels = None
depends_on = None

VIEWS = {
    # one row per article: its metadata, its latest revision's title and text, the original it copies
    "article_texts": """
        SELECT a.id, a.canonical_url AS url, a.site, a.language, r.title, a.author, a.published, a.updated,
               a.first_seen, a.last_seen, a.revision_count AS revisions, r.fetched_at AS revised_at, r.text,
               a.duplicate_of_id, o.canonical_url AS duplicate_of, r.raw_page_id
        FROM articles a
        JOIN revisions r ON r.article_id = a.id AND r.number = a.revision_count
        LEFT JOIN articles o ON o.id = a.duplicate_of_id""",
    # every revision of every article, with its article's URL and the raw page it came from
    "article_revisions": """
        SELECT r.id, r.article_id, a.canonical_url AS url, a.site, r.number, r.fetched_at, r.title, r.text,
               length(r.text) AS characters, r.number = a.revision_count AS latest, r.raw_page_id,
               p.status AS raw_status, p.compression AS raw_compression
        FROM revisions r
        JOIN articles a ON a.id = r.article_id
        LEFT JOIN raw_pages p ON p.id = r.raw_page_id""",
    # one row per copy: the copy and the earliest archived article it copies
    "article_duplicates": """
        SELECT c.id AS copy_id, c.canonical_url AS copy_url, c.site AS copy_site, c.title AS copy_title,
               c.first_seen AS copy_first_seen, o.id AS original_id, o.canonical_url AS original_url,
               o.site AS original_site, o.title AS original_title, o.first_seen AS original_first_seen
        FROM articles c
        JOIN articles o ON o.id = c.duplicate_of_id""",
}


def upgrade() -> None:
    for name, sql in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {sql}")


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
