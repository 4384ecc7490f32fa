"""search index: one-character terms fast

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 17:30:00

SQLite: search_fts is made again with FTS5's prefix index of 4-letter prefixes (one doclist per
character, archive/searchindex.py SQLITE_CHAR_PREFIX) and every stored text indexed again (about a
minute per million paragraphs). The downgrade makes it again without.

PostgreSQL: search_char_count, how many indexed texts hold each character (archive/searchindex.py
CHAR_COUNT_DDL), filled from the stored texts; the count of a one-character query reads one row of it.

Nothing changes on MariaDB/MySQL.
"""
from typing import Sequence, Union

from alembic import op

from archive import searchindex

revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    bind = op.get_bind()
    if searchindex.engine_kind(bind) == "sqlite":
        searchindex.recreate_sqlite_index(bind, char_prefix=True)
    elif searchindex.engine_kind(bind) == "postgresql":
        searchindex.create_char_count(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if searchindex.engine_kind(bind) == "sqlite":
        searchindex.recreate_sqlite_index(bind, char_prefix=False)
    elif searchindex.engine_kind(bind) == "postgresql":
        op.execute("DROP TABLE search_char_count")
