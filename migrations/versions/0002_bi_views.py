"""BI views: v_article, v_metric, v_paragraph, with their comments (migrations/frozen)

Revision ID: 0002_bi_views
Revises: 0001_initial_schema
Create Date: 2026-11-27 22:20:00
"""
from typing import Sequence, Union

from alembic import op

from archive.migrations.frozen.bi_views import VIEWS, view_sql
from archive.migrations.frozen.view_comments import comment_views

revision: str = "0002_bi_views"
down_revision: Union[str, Sequence[str], None] = "0001_initial_schema"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    bind = op.get_bind()
    # Always quoted: date, lead, text, value, condition and period are keywords on some engine.
    quote = bind.dialect.identifier_preparer.quote_identifier
    for name, select in view_sql(bind.dialect.name, quote).items():
        op.execute(f"CREATE VIEW {name} AS {select.strip()}")
    comment_views(bind)


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
