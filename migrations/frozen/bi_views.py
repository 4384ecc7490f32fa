"""The BI views v_article, v_metric and v_paragraph as migration 0002_bi_views made them.

0002_bi_views creates them from here and 0008_fidelity extends v_article from here (one definition of
the views' SQL). Frozen: later revisions change a view in a migration of their own, never here.
"""

from __future__ import annotations

VIEWS = ("v_article", "v_metric", "v_paragraph")


def _aggregate(dialect: str, expr: str, typed_like: str) -> str:
    """A scalar subquery whose column type BI tools can see on SQLite as well.

    SQLite gives an expression column of a view no declared type (even CAST leaves it empty), but a
    compound scalar subquery takes its type from its last arm: an arm that returns no rows and selects
    a plain column of the wanted type (`typed_like`, "table.column") types the column without changing
    its value. PostgreSQL and MariaDB type expressions themselves.
    """
    if dialect != "sqlite":
        return f"({expr})"
    table, column = typed_like.split(".")
    return f"({expr} UNION ALL SELECT {column} FROM {table} WHERE 0)"


def _authors(dialect: str, q) -> str:
    where = "FROM article_author w WHERE w.article_id = a.id"
    if dialect == "postgresql":
        return f"(SELECT string_agg(w.{q('name')}, '、' ORDER BY w.ordinal) {where})"
    if dialect in ("mysql", "mariadb"):
        return f"(SELECT GROUP_CONCAT(w.{q('name')} ORDER BY w.ordinal SEPARATOR '、') {where})"
    ordered = f"SELECT w.name {where} ORDER BY w.ordinal"
    return _aggregate(dialect, f"SELECT group_concat(o.name, '、') FROM ({ordered}) o", "paragraph.text")


def view_sql(dialect: str, q) -> dict[str, str]:
    """The SELECT of each view for `dialect`, identifiers quoted by `q` where the dialect needs it."""
    count = lambda table: _aggregate(  # noqa: E731
        dialect, f"SELECT count(*) FROM {table} x WHERE x.article_id = a.id", "article.paragraph_count"
    )
    issue_joins = "JOIN issue i ON i.id = a.issue_id JOIN newspaper n ON n.id = i.newspaper_id"
    return {
        "v_article": f"""
SELECT a.id AS article_id, n.{q('name')} AS newspaper, i.{q('date')} AS {q('date')}, i.weekday AS weekday,
       i.{q('number')} AS issue_number, a.title AS title, a.subtitle AS subtitle,
       {_authors(dialect, q)} AS authors,
       {count('section')} AS section_count,
       a.paragraph_count AS paragraph_count, a.char_count AS char_count,
       {count('metric')} AS metric_count
FROM article a {issue_joins}""",
        "v_metric": f"""
SELECT m.id AS metric_id, i.{q('date')} AS {q('date')}, n.{q('name')} AS newspaper, a.id AS article_id,
       a.title AS title, s.heading AS section_heading, m.paragraph_id AS paragraph_id, m.surface AS surface,
       m.subject AS subject, m.{q('value')} AS {q('value')}, m.value_high AS value_high, m.unit AS unit,
       m.qualifier AS qualifier, m.kind AS kind, m.{q('condition')} AS {q('condition')}, m.as_of AS as_of,
       m.{q('period')} AS {q('period')}, m.direction AS direction, m.basis AS basis
FROM metric m JOIN paragraph p ON p.id = m.paragraph_id JOIN section s ON s.id = p.section_id
JOIN article a ON a.id = m.article_id {issue_joins}""",
        "v_paragraph": f"""
SELECT p.id AS paragraph_id, i.{q('date')} AS {q('date')}, n.{q('name')} AS newspaper, a.id AS article_id,
       a.title AS title, s.heading AS section_heading, p.ordinal AS ordinal, p.{q('lead')} AS {q('lead')},
       p.{q('text')} AS {q('text')}, p.char_count AS char_count
FROM paragraph p JOIN section s ON s.id = p.section_id JOIN article a ON a.id = p.article_id {issue_joins}""",
    }
