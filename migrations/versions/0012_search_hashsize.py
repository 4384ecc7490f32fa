"""search index: FTS5 hashsize 8 MB on SQLite

Revision ID: 0012_search_hashsize
Revises: 0011_search_char_prefix
Create Date: 2026-12-06 03:20:00

FTS5 writes a transaction's new terms out as a segment of the index at COMMIT, or sooner once they take
`hashsize` bytes (1 MB by default). The loader commits 32 pages at a time, more than 1 MB of terms, so a
batch cost two or three segments and their merging; at 8 MB it is one, and the writer spends about
0.6 CPU-ms a page less (docs/benchmarks.md, session 7). A setting of the index, not a change to what it
holds; nothing to do on PostgreSQL or MariaDB/MySQL.
"""
from typing import Sequence, Union

from alembic import op

from archive.migrations.frozen import search_index

revision: str = "0012_search_hashsize"
down_revision: Union[str, Sequence[str], None] = "0011_search_char_prefix"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    search_index.set_hashsize(op.get_bind(), search_index.SQLITE_HASHSIZE)


def downgrade() -> None:
    search_index.set_hashsize(op.get_bind(), search_index.SQLITE_DEFAULT_HASHSIZE)
