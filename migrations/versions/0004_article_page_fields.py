"""article page fields: kicker, page, page_name, source_url

Revision ID: 0004
Revises: 0001
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = (
    ("kicker", sa.String(length=500), "Kicker (引题) printed above the title, where the format has one."),
    ("page", sa.String(length=20), "Page (版次) as printed without zero padding, e.g. 3 for 第03版, A3."),
    ("page_name", sa.String(length=100), "Page name (版名), e.g. 法治视点."),
    ("source_url", sa.String(length=1000), "URL the article was saved from, where the file says so."),
)


def upgrade() -> None:
    # Nullable columns without constraints: a plain ALTER TABLE ADD on every engine, SQLite included,
    # so the table is never rebuilt.
    for name, type_, comment in COLUMNS:
        op.add_column("article", sa.Column(name, type_, nullable=True, comment=comment))


def downgrade() -> None:
    # SQLite 3.35+ drops a plain column in place; a batch rebuild of `article` would cascade-delete
    # its children while foreign keys are enforced.
    for name, _, _ in reversed(COLUMNS):
        op.drop_column("article", name)
