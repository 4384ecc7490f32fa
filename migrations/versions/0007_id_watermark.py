"""id_watermark: SQLite never hands out an id twice

Revision ID: 0007_id_watermark
Revises: 0006_search_automerge
Create Date: 2026-11-28 01:40:00

On SQLite the loader hands out ids itself (max(id) + 1), so the ids of a purged or replaced file could
be handed out again to the next file, and a bookmarked article id would then name another article.
Before deleting rows the loader now records each table's highest id here and never hands out one at
or below it. PostgreSQL and MariaDB/MySQL sequences never reuse ids; the table stays empty there.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007_id_watermark"
down_revision: Union[str, Sequence[str], None] = "0006_search_automerge"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "id_watermark",
        sa.Column("table_name", sa.String(length=50), nullable=False, comment="A table whose ids the loader hands out, e.g. paragraph."),
        sa.Column("last_id", sa.Integer(), nullable=False, comment="The highest id that table has ever held."),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_id_watermark")),
        comment="Bookkeeping, not data: the highest id each table has handed out, so that SQLite never hands "
        "out an id twice after rows are purged or replaced (PostgreSQL and MariaDB sequences do this themselves).",
    )


def downgrade() -> None:
    op.drop_table("id_watermark")
