"""per-source request options: extra headers, HTTP basic auth and a proxy on each source

Revision ID: a14_request_options
Revises: a10_engine
Create Date: 2026-12-02 14:00:00

`sources add URL --header NAME:VALUE --auth USER:PASSWORD --proxy URL` stores them on the source
(archive/request_options.py). Nullable columns only: SQLite adds them in place (the views of
a13_views stay), existing sources have no options.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a14_request_options'
down_revision = 'a10_engine'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('request_headers', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('request_auth', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('request_proxy', sa.String(length=4096), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('request_proxy')
        batch_op.drop_column('request_auth')
        batch_op.drop_column('request_headers')
