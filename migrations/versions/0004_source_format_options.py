"""source.format and source.options: what reparse needs to read a file exactly as it was loaded

Revision ID: 0004_source_format_options
Revises: 0003_article_page_fields
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004_source_format_options"
down_revision: Union[str, Sequence[str], None] = "0003_article_page_fields"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("format", sa.String(length=20), nullable=True, comment="Layout the text was parsed as: page, article or markdown."))
        batch_op.add_column(sa.Column("options", sa.Text(), nullable=True, comment="What the load options and file name said about the file (JSON: newspaper, date, page ...), reused by reparse."))
    # Sources loaded before keep NULL: reparse then picks their format from the content.


def downgrade() -> None:
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_column("options")
        batch_op.drop_column("format")
