"""metric: when, where, base unit and series of each figure; views v_series and v_fact

Revision ID: 0010_metric_series
Revises: 0009_metric_subject_key
Create Date: 2026-12-05 10:00:00

Issue 15. ref_start/ref_end/ref_precision (archive/timeref.py), place/place_level
(archive/places.py), value_base/unit_base (units.tsv factors), measure (the series key) and
fact_key (one fact restated in several articles) are filled by the loader; existing rows get null
until `archive reparse`. v_series shows each figure of a series with where it was printed; v_fact
keeps the first printing of each fact (earliest issue, then lowest article and metric id).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from archive.migrations.frozen.view_comments import comment_views

revision: str = "0010_metric_series"
down_revision: Union[str, Sequence[str], None] = "0009_metric_subject_key"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Exact = sa.Numeric(38, 10, asdecimal=True)
COLUMNS = [
    ("ref_start", sa.Date(), "First day the figure holds for, resolved from as_of, period or the text against the issue date, e.g. 2020-01-01 for 1至5月."),
    ("ref_end", sa.Date(), "Last day the figure holds for (inclusive); equal to ref_start for a point such as 截至8月20日."),
    ("ref_precision", sa.String(length=10), "day, month, quarter or year when one such unit is named; span for any other stretch; issue when nothing is stated (then ref_start = ref_end = issue date)."),
    ("place", sa.String(length=100), "Where the figure holds: the place named nearest before it, else the article's place (dateline, title); official name, e.g. 湖北省, 全国, 美国."),
    ("place_level", sa.String(length=20), "country, province, prefecture, county or foreign."),
    ("value_base", Exact, "value in unit_base (12公里 -> 12000 米, 3吨 -> 3000 千克); negative for a change that goes down."),
    ("unit_base", sa.String(length=20), "The base unit of the unit's family (米, 千克, 人, 元, %); the unit itself where no fixed factor exists (年, 美元, 人次/小时)."),
    ("measure", sa.String(length=200), "The series the figure belongs to: subject|kind|family, e.g. 新增确诊病例|count|patient_case; null without a subject."),
    ("fact_key", sa.String(length=40), "Digest of measure, place, ref_start, ref_end, value_base and unit_base: the same figure restated in several articles has one key (v_fact keeps the first)."),
]
INDEXED = ("measure", "fact_key")


def _select(q) -> str:
    """The columns both views show, over metric and where it was printed."""
    return f"""
SELECT m.id AS metric_id, m.measure AS measure, m.place AS place, m.place_level AS place_level,
       m.ref_start AS ref_start, m.ref_end AS ref_end, m.ref_precision AS ref_precision,
       m.value_base AS value_base, m.unit_base AS unit_base, m.{q('value')} AS {q('value')}, m.unit AS unit,
       m.qualifier AS qualifier, i.{q('date')} AS {q('date')}, n.{q('name')} AS newspaper, a.id AS article_id,
       a.title AS title, m.paragraph_id AS paragraph_id, m.surface AS surface, m.fact_key AS fact_key"""


_FROM = """
FROM metric m JOIN article a ON a.id = m.article_id JOIN issue i ON i.id = a.issue_id
JOIN newspaper n ON n.id = i.newspaper_id"""


def v_series(q) -> str:
    return f"{_select(q)}{_FROM}\nWHERE m.measure IS NOT NULL".strip()


def _restated(dialect: str) -> str:
    count = "SELECT count(*) FROM metric x WHERE x.fact_key = m.fact_key"
    if dialect != "sqlite":
        return f"({count})"
    # SQLite types a view's expression column only through a compound's last arm (see frozen/bi_views.py)
    return f"({count} UNION ALL SELECT paragraph_count FROM article WHERE 0)"


def v_fact(dialect: str, q) -> str:
    # the first printing: no metric of the same fact in an earlier issue, or earlier in the same one.
    # NOT EXISTS rather than ROW_NUMBER(): every column stays a plain column, typed on SQLite too.
    return f"""
{_select(q)}, {_restated(dialect)} AS restated{_FROM}
WHERE m.fact_key IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM metric x JOIN article xa ON xa.id = x.article_id JOIN issue xi ON xi.id = xa.issue_id
  WHERE x.fact_key = m.fact_key AND (xi.{q('date')} < i.{q('date')}
    OR (xi.{q('date')} = i.{q('date')} AND (xa.id < a.id OR (xa.id = a.id AND x.id < m.id)))))""".strip()


def upgrade() -> None:
    bind = op.get_bind()
    quote = bind.dialect.identifier_preparer.quote_identifier
    # Nullable columns without constraints: a plain ALTER TABLE ADD everywhere, SQLite included.
    for name, type_, comment in COLUMNS:
        op.add_column("metric", sa.Column(name, type_, nullable=True, comment=comment))
    for name in INDEXED:
        op.create_index(op.f(f"ix_metric_{name}"), "metric", [name], unique=False)
    op.execute(f"CREATE VIEW v_series AS {v_series(quote)}")
    op.execute(f"CREATE VIEW v_fact AS {v_fact(bind.dialect.name, quote)}")
    comment_views(bind)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_fact")
    op.execute("DROP VIEW IF EXISTS v_series")
    for name in INDEXED:
        op.drop_index(op.f(f"ix_metric_{name}"), table_name="metric")
    # SQLite 3.35+ drops a plain column in place (a batch rebuild would cascade-delete children).
    for name, _type, _comment in reversed(COLUMNS):
        op.drop_column("metric", name)
    comment_views(op.get_bind())
