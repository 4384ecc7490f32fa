"""article page fields: kicker, page, page_name, source_url; article.ordinal's comment

Revision ID: 0003_article_page_fields
Revises: 0002_bi_views
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003_article_page_fields"
down_revision: Union[str, Sequence[str], None] = "0002_bi_views"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = (
    ("kicker", sa.String(length=500), "Kicker (引题) printed above the title, where the format has one."),
    ("page", sa.String(length=20), "Page (版次) as printed without zero padding, e.g. 3 for 第03版, A3."),
    ("page_name", sa.String(length=100), "Page name (版名), e.g. 法治视点."),
    ("source_url", sa.String(length=1000), "URL the article was saved from, where the file says so."),
)
ORDINAL_COMMENTS = (
    "Position of the article in its source file, from 1.",
    "Position of the article in its source file, from 1; for a one-article file, its position on the page "
    "when the file name says it (--name-pattern {ordinal}).",
)


def _ordinal_comment(old: str, new: str) -> None:
    # SQLite keeps no comments (and would rebuild the table to change one).
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "article", "ordinal", existing_type=sa.Integer(), existing_nullable=False, comment=new, existing_comment=old
        )


def upgrade() -> None:
    # Nullable columns without constraints: a plain ALTER TABLE ADD on every engine, SQLite included,
    # so the table is never rebuilt.
    for name, type_, comment in COLUMNS:
        op.add_column("article", sa.Column(name, type_, nullable=True, comment=comment))
    _ordinal_comment(*ORDINAL_COMMENTS)


def downgrade() -> None:
    # SQLite 3.35+ drops a plain column in place; a batch rebuild of `article` would cascade-delete
    # its children while foreign keys are enforced.
    _ordinal_comment(*reversed(ORDINAL_COMMENTS))
    for name, _, _ in reversed(COLUMNS):
        op.drop_column("article", name)
