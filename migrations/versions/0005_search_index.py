"""search index

Revision ID: 0005_search_index
Revises: 0004_source_format_options
Create Date: 2026-11-27 22:40:00

The full-text index of the stored texts (migrations/frozen/search_index.py): an FTS5 table on SQLite,
a tsvector side table with a GIN index on PostgreSQL, a token side table (scanned) on MariaDB/MySQL.
Its id was 0002 before issue 16 (migrations/renamed.py): written before 0002-0004, applied after them.
None of it is in the models, so autogenerate leaves it alone (env.py's include_name). Existing texts
are indexed with the keys and tokens the frozen copy holds (those of 0008 on).
"""
from typing import Sequence, Union

from alembic import op

from archive.migrations.frozen import search_index

revision: str = "0005_search_index"
down_revision: Union[str, Sequence[str], None] = "0004_source_format_options"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    search_index.create_index(op.get_bind())


def downgrade() -> None:
    search_index.drop_index(op.get_bind())
