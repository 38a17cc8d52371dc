"""canonical URLs the standard way: re-canonicalize archived URLs, merge articles that now coincide

Revision ID: a14_canonical
Revises: a9_text_hash
Create Date: 2026-12-05 10:00:00

A data migration, no schema change: archive/urls.py clean_url now starts from w3lib's
canonicalize_url (sorted query, normalized escapes) and drops more tracking parameters, so
archived canonical URLs are brought to the new form by archive/recanonicalize.py (old URLs become
aliases, articles that now share a URL are merged into the first seen, nothing is deleted but
the merged articles' own rows). No table is rebuilt, so the views of a13_views stay as they are.

Downgrade keeps the data as it is: the old code finds every article by its old URL, now an alias.
"""
from alembic import op

revision = 'a14_canonical'
down_revision = 'a9_text_hash'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from archive.recanonicalize import recanonicalize

    recanonicalize(op.get_bind())


def downgrade() -> None:
    pass  # the new canonical URLs and the aliases stay: nothing the older code cannot read
