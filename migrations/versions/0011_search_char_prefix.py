"""search index: one-character terms fast

Revision ID: 0011_search_char_prefix
Revises: 0010_metric_series
Create Date: 2026-12-05 17:30:00

SQLite: search_fts is made again with FTS5's prefix index of 4-letter prefixes (one doclist per
character, migrations/frozen/search_index.py SQLITE_CHAR_PREFIX) and every stored text indexed again (about a
minute per million paragraphs). The downgrade makes it again without.

PostgreSQL: search_char_count, how many indexed texts hold each character (migrations/frozen/search_index.py
CHAR_COUNT_DDL), filled from the stored texts; the count of a one-character query reads one row of it.

Nothing changes on MariaDB/MySQL.
"""
from typing import Sequence, Union

from alembic import op

from archive.migrations.frozen import search_index

revision: str = "0011_search_char_prefix"
down_revision: Union[str, Sequence[str], None] = "0010_metric_series"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    bind = op.get_bind()
    if search_index.engine_kind(bind) == "sqlite":
        search_index.recreate_sqlite_index(bind, char_prefix=True)
    elif search_index.engine_kind(bind) == "postgresql":
        search_index.create_char_count(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if search_index.engine_kind(bind) == "sqlite":
        search_index.recreate_sqlite_index(bind, char_prefix=False)
    elif search_index.engine_kind(bind) == "postgresql":
        op.execute("DROP TABLE search_char_count")
