"""storage for one long-running engine: frontier claims, zstd dictionaries for raw pages

Revision ID: a10_storage
Revises: a13_views
Create Date: 2026-12-05 10:00:00

* ``frontier.claimed_by`` / ``claimed_until``: who is fetching a URL and until when, so two crawls
  of one archive never fetch the same URL at once (archive/frontier.py); an index on
  (state, id) for taking pending URLs in discovery order.
* ``raw_dictionaries``: zstd dictionaries trained per site (archive/dictionaries.py), and
  ``raw_pages.dictionary_id``, the one a page was compressed with. Existing raw pages stay as they
  are (zlib); archive/rawpages.py reads both.

Only columns are added (``ALTER TABLE ... ADD COLUMN`` on SQLite too, no table rebuild), so the
views of a13_views stay valid and an archive of any size upgrades at once.
"""
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import sqlalchemy as sa
from alembic import op

import archive.models

revision = 'a10_storage'
down_revision = 'a13_views'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('raw_dictionaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=255), nullable=False),
    sa.Column('trained_at', archive.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('site_pages', sa.Integer(), nullable=False),
    sa.Column('zstd_id', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_dictionaries'))
    )
    op.create_index(op.f('ix_raw_dictionaries_site'), 'raw_dictionaries', ['site'], unique=False)
    # Added in place, not by batch mode's table rebuild: SQLite takes a REFERENCES clause in ADD COLUMN.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE raw_pages ADD COLUMN dictionary_id INTEGER "
                   "CONSTRAINT fk_raw_pages_dictionary_id_raw_dictionaries REFERENCES raw_dictionaries (id)")
    else:
        op.add_column('raw_pages', sa.Column('dictionary_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_raw_pages_dictionary_id_raw_dictionaries'), 'raw_pages',
                              'raw_dictionaries', ['dictionary_id'], ['id'])
    op.add_column('frontier', sa.Column('claimed_by', sa.String(length=255), nullable=True))
    op.add_column('frontier', sa.Column('claimed_until', archive.models.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_frontier_state_id', 'frontier', ['state', 'id'], unique=False)


def downgrade() -> None:
    # Raw pages compressed with zstd stay zstd: a downgraded newsarchive cannot read them.
    op.drop_index('ix_frontier_state_id', table_name='frontier')
    with op.batch_alter_table('frontier', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    views = _a13_views() if sqlite else {}
    for name in views:  # SQLite rebuilds raw_pages to drop a column: no view may name it meanwhile
        op.execute(f"DROP VIEW IF EXISTS {name}")
    if sqlite:
        # Dropping the old raw_pages sets revisions.raw_page_id to NULL (ON DELETE SET NULL fires
        # on DROP TABLE): keep the links aside and put them back once the table is rebuilt.
        op.execute("CREATE TEMP TABLE a10_raw_links AS SELECT id, raw_page_id FROM revisions "
                   "WHERE raw_page_id IS NOT NULL")
    with op.batch_alter_table('raw_pages', schema=None) as batch_op:
        if not sqlite:
            batch_op.drop_constraint(op.f('fk_raw_pages_dictionary_id_raw_dictionaries'), type_='foreignkey')
        batch_op.drop_column('dictionary_id')
    if sqlite:
        op.execute("UPDATE revisions SET raw_page_id = (SELECT l.raw_page_id FROM a10_raw_links l "
                   "WHERE l.id = revisions.id) WHERE id IN (SELECT id FROM a10_raw_links)")
        op.execute("DROP TABLE a10_raw_links")
    for name, sql in views.items():
        op.execute(f"CREATE VIEW {name} AS {sql}")
    op.drop_index(op.f('ix_raw_dictionaries_site'), table_name='raw_dictionaries')
    op.drop_table('raw_dictionaries')


def _a13_views() -> dict[str, str]:
    spec = spec_from_file_location("a13_views", Path(__file__).with_name("a13_views.py"))
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VIEWS
