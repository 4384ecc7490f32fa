"""search index: FTS5 automerge 16 on SQLite

Revision ID: 0006_search_automerge
Revises: 0005_search_index
Create Date: 2026-11-28 00:30:00

The loader writes one FTS5 segment per file. With FTS5's default automerge of 4, merging those
segments took about a third of a page's write time; at 16 the loader writes faster and searches
measured the same (docs/benchmarks.md). A setting of the index, not a change to its contents; nothing
to do on PostgreSQL or MariaDB/MySQL.
"""
from typing import Sequence, Union

from alembic import op

from archive.migrations.frozen import search_index

revision: str = "0006_search_automerge"
down_revision: Union[str, Sequence[str], None] = "0005_search_index"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    search_index.set_automerge(op.get_bind(), search_index.SQLITE_AUTOMERGE)


def downgrade() -> None:
    search_index.set_automerge(op.get_bind(), search_index.SQLITE_DEFAULT_AUTOMERGE)
