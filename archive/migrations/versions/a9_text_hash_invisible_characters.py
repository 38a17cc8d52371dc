"""text hashes without invisible characters: recompute them for texts holding U+00AD, U+200B, U+FEFF

Revision ID: a9_text_hash
Revises: a10_storage
Create Date: 2026-12-02 10:00:00

The text normaliser (archive/text.py) now drops soft hyphens, zero-width spaces and byte-order
marks, as the extractor's line normaliser always did. A revision archived before holds a hash of
its text with them: re-archiving the same page would hash differently and record a spurious new
revision. Here the hashes of exactly the texts holding one of those characters are recomputed,
in batches by id (the stored texts themselves are kept as they were archived). Downgrading
recomputes them as the old normaliser did.
"""
import hashlib
import re

import sqlalchemy as sa
from alembic import op

from archive.text import INVISIBLE, text_hash

revision = 'a9_text_hash'
down_revision = 'a10_storage'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    _rehash(text_hash)


def downgrade() -> None:
    _rehash(_whitespace_only_hash)


def _whitespace_only_hash(text: str) -> str:
    """The text hash before this revision: whitespace collapsed, invisible characters kept."""
    lines = (re.sub(r"\s+", " ", line).strip() for line in text.splitlines())
    return hashlib.sha256("\n".join(line for line in lines if line).encode("utf-8")).hexdigest()


def _rehash(hash_of) -> None:
    bind = op.get_bind()
    holds_invisible = " OR ".join(f"r.text LIKE :c{i}" for i in range(len(INVISIBLE)))
    patterns = {f"c{i}": f"%{char}%" for i, char in enumerate(INVISIBLE)}
    select_batch = sa.text(
        "SELECT r.id, r.article_id, r.number, r.text, a.revision_count FROM revisions r "
        f"JOIN articles a ON a.id = r.article_id WHERE r.id > :last AND ({holds_invisible}) "
        "ORDER BY r.id LIMIT :batch")
    update_revision = sa.text("UPDATE revisions SET text_hash = :h WHERE id = :id")
    update_article = sa.text("UPDATE articles SET text_hash = :h WHERE id = :id")
    last = 0
    while True:
        rows = bind.execute(select_batch, {"last": last, "batch": BATCH, **patterns}).all()
        if not rows:
            return
        for revision_id, article_id, number, body, current in rows:
            digest = hash_of(body)
            bind.execute(update_revision, {"h": digest, "id": revision_id})
            if number == current:  # the article's hash is its current revision's
                bind.execute(update_article, {"h": digest, "id": article_id})
        last = rows[-1][0]
