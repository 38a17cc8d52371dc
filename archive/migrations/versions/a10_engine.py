"""the long-running engine: runs with host, role and heartbeat; how late each source's poll started

Revision ID: a10_engine
Revises: a14_canonical
Create Date: 2026-12-02 12:00:00

A run is now one engine's life (crawl, revisit, schedule, worker), which may last months: it
writes a heartbeat, so a run whose engine died is known by its silence on any host, not by a
local process id. The scheduler asks for the sources due now, by next_poll_at (indexed). Columns
and an index only (SQLite adds them in place, the views of a13_views stay).
"""
import sqlalchemy as sa
from alembic import op

from archive.models import UTCDateTime

revision = 'a10_engine'
down_revision = 'a14_canonical'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('crawl_runs', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('host', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('role', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', UTCDateTime(), nullable=True))
    with op.batch_alter_table('sources', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('last_poll_late_seconds', sa.Double(), nullable=True))
    op.create_index('ix_sources_next_poll_at', 'sources', ['next_poll_at'])


def downgrade() -> None:
    op.drop_index('ix_sources_next_poll_at', table_name='sources')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('last_poll_late_seconds')
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('role')
        batch_op.drop_column('host')
