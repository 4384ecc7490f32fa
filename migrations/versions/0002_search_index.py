"""search index

Revision ID: 0002
Revises: 0005
Create Date: 2026-11-27 22:40:00

The full-text index of titles and paragraphs (archive/searchindex.py): an FTS5 table on SQLite, a
tsvector side table with a GIN index on PostgreSQL, a token side table (scanned) on MariaDB/MySQL.
It was written alongside 0003-0005 and applies after them (revision ids name, not order). None of it
is in the models, so autogenerate leaves it alone (env.py's include_name). Existing rows are indexed.
"""
from typing import Sequence, Union

from alembic import op

from archive import searchindex

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    searchindex.create_index(op.get_bind())


def downgrade() -> None:
    searchindex.drop_index(op.get_bind())
