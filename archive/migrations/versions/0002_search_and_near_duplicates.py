"""search and near duplicates: MinHash band index, full-text index (FTS5 / tsvector + GIN)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 19:00:00

The full-text tables are created by hand here (``article_fts*`` / ``article_search*`` are left
out of autogenerate by env.py): an FTS5 virtual table on SQLite, a tsvector table with a GIN
index on PostgreSQL. Articles already archived are indexed as part of the upgrade.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from archive import dedup, search

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    op.create_table('article_bands',
    sa.Column('band_key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('article_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'],
                            name=op.f('fk_article_bands_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('band_key', 'article_id', name=op.f('pk_article_bands')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('article_bands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_bands_article_id'), ['article_id'], unique=False)

    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        op.execute("CREATE VIRTUAL TABLE article_fts USING fts5("
                   "title, text, content='', tokenize='unicode61 remove_diacritics 2')")
    else:
        op.execute("CREATE TABLE article_search ("
                   "article_id INTEGER NOT NULL PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE, "
                   "document TSVECTOR NOT NULL)")
        op.execute("CREATE INDEX ix_article_search_document ON article_search USING GIN (document)")
    _index_existing(bind)


def _index_existing(bind) -> None:
    session = Session(bind=bind)
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT a.id, r.title, r.text FROM articles a JOIN revisions r "
            "ON r.article_id = a.id AND r.number = a.revision_count "
            "WHERE a.id > :last ORDER BY a.id LIMIT :batch"), {"last": last, "batch": BATCH}).all()
        if not rows:
            break
        for article_id, title, body in rows:
            dedup.index_bands(session, article_id, dedup.text_band_keys(body))
            search.index_article(session, article_id, title, body)
        session.flush()
        last = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TABLE IF EXISTS article_fts")
    else:
        op.execute("DROP TABLE IF EXISTS article_search")
    with op.batch_alter_table('article_bands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_bands_article_id'))

    op.drop_table('article_bands')
