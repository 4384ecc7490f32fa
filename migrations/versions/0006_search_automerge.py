"""search index: FTS5 automerge 16 on SQLite

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-28 00:30:00

The loader writes one FTS5 segment per file. With FTS5's default automerge of 4, merging those
segments took about a third of a page's write time; at 16 the loader writes faster and searches
measured the same (docs/benchmarks.md). A setting of the index, not a change to its contents; nothing
to do on PostgreSQL or MariaDB/MySQL.
"""
from typing import Sequence, Union

from alembic import op

from archive import searchindex

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    searchindex.set_automerge(op.get_bind(), searchindex.SQLITE_AUTOMERGE)


def downgrade() -> None:
    searchindex.set_automerge(op.get_bind(), searchindex.SQLITE_DEFAULT_AUTOMERGE)
