"""metric.subject_key and metric.role; v_metric shows both

Revision ID: 0009_metric_subject_key
Revises: 0008_fidelity
Create Date: 2026-12-04 17:00:00

subject_key is the subject's normalised head (全局共有民警 -> 民警), indexed so that GROUP BY
subject_key gathers one measure across articles; role is from/to for the two ends of a change
stated as a pair (由9个简化为5个). Existing rows get null in both until `archive reparse`.
v_metric is recreated with the two columns on every engine.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from archive.migrations.frozen.view_comments import comment_views

revision: str = "0009_metric_subject_key"
down_revision: Union[str, Sequence[str], None] = "0008_fidelity"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SUBJECT_KEY = (
    "The subject's head noun phrase, normalised so that GROUP BY gathers one measure across articles: "
    "全局共有民警 -> 民警."
)
ROLE = "from or to, for the two ends of a change stated as a pair (由9个简化为5个); else null."


def _v_metric(q, new: bool) -> str:
    """v_metric as 0002_bi_views made it, or with subject_key after subject and role at the end."""
    issue_joins = "JOIN issue i ON i.id = a.issue_id JOIN newspaper n ON n.id = i.newspaper_id"
    key = "m.subject_key AS subject_key, " if new else ""
    role = ", m.role AS role" if new else ""
    return f"""
SELECT m.id AS metric_id, i.{q('date')} AS {q('date')}, n.{q('name')} AS newspaper, a.id AS article_id,
       a.title AS title, s.heading AS section_heading, m.paragraph_id AS paragraph_id, m.surface AS surface,
       m.subject AS subject, {key}m.{q('value')} AS {q('value')}, m.value_high AS value_high, m.unit AS unit,
       m.qualifier AS qualifier, m.kind AS kind, m.{q('condition')} AS {q('condition')}, m.as_of AS as_of,
       m.{q('period')} AS {q('period')}, m.direction AS direction, m.basis AS basis{role}
FROM metric m JOIN paragraph p ON p.id = m.paragraph_id JOIN section s ON s.id = p.section_id
JOIN article a ON a.id = m.article_id {issue_joins}""".strip()


def upgrade() -> None:
    bind = op.get_bind()
    quote = bind.dialect.identifier_preparer.quote_identifier
    op.execute("DROP VIEW IF EXISTS v_metric")
    # Nullable columns without constraints: a plain ALTER TABLE ADD everywhere, SQLite included.
    op.add_column("metric", sa.Column("subject_key", sa.String(length=100), nullable=True, comment=SUBJECT_KEY))
    op.add_column("metric", sa.Column("role", sa.String(length=10), nullable=True, comment=ROLE))
    op.create_index(op.f("ix_metric_subject_key"), "metric", ["subject_key"], unique=False)
    op.execute(f"CREATE VIEW v_metric AS {_v_metric(quote, True)}")
    comment_views(bind)


def downgrade() -> None:
    bind = op.get_bind()
    quote = bind.dialect.identifier_preparer.quote_identifier
    op.execute("DROP VIEW IF EXISTS v_metric")
    op.drop_index(op.f("ix_metric_subject_key"), table_name="metric")
    # SQLite 3.35+ drops a plain column in place (a batch rebuild would cascade-delete children).
    op.drop_column("metric", "role")
    op.drop_column("metric", "subject_key")
    op.execute(f"CREATE VIEW v_metric AS {_v_metric(quote, False)}")
    comment_views(bind)   # skips the two columns the old view lacks
