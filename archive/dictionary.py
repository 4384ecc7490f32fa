"""The data dictionary: every table, view and column with its type and description.

One source for the database comments (PostgreSQL; MariaDB gets the table ones from the migrations and
cannot comment views), `archive schema`, docs/schema.md and the Datasette metadata. Table entries come
from the models' `comment=`s; a view column that copies a table column inherits that column's comment.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sqlalchemy import Connection, Integer, Table, Text, inspect
from sqlalchemy.types import TypeEngine

from archive.models import Base
from archive.sql import driver_sql


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    nullable: bool | None = None  # None: a view column, whose nullability the database does not declare
    source: str | None = None  # "table.column" a view column copies


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str  # "table" or "view"
    description: str
    columns: tuple[Column, ...]


# (name, copied "table.column" or the type of a computed column, description or None to inherit)
_ViewColumn = tuple[str, "str | TypeEngine", "str | None"]

_SERIES_COLUMNS: list[_ViewColumn] = [
    ("metric_id", "metric.id", "The metric (metric.id)."),
    ("measure", "metric.measure", None),
    ("place", "metric.place", None),
    ("place_level", "metric.place_level", None),
    ("ref_start", "metric.ref_start", None),
    ("ref_end", "metric.ref_end", None),
    ("ref_precision", "metric.ref_precision", None),
    ("value_base", "metric.value_base", None),
    ("unit_base", "metric.unit_base", None),
    ("value", "metric.value", None),
    ("unit", "metric.unit", None),
    ("qualifier", "metric.qualifier", None),
    ("date", "issue.date", "Issue date."),
    ("newspaper", "newspaper.name", "Newspaper name."),
    ("article_id", "article.id", "The article (article.id)."),
    ("title", "article.title", "Title of the article."),
    ("paragraph_id", "paragraph.id", "The paragraph (paragraph.id)."),
    ("surface", "metric.surface", None),
    ("fact_key", "metric.fact_key", None),
]

VIEWS: dict[str, tuple[str, list[_ViewColumn]]] = {
    "v_article": (
        "One row per article, with its newspaper and issue and counts of what it holds.",
        [
            ("article_id", "article.id", "The article (article.id)."),
            ("newspaper", "newspaper.name", "Newspaper name."),
            ("date", "issue.date", "Issue date."),
            ("weekday", "issue.weekday", None),
            ("issue_number", "issue.number", None),
            ("page", "article.page", None),
            ("page_name", "article.page_name", None),
            ("title", "article.title", None),
            ("subtitle", "article.subtitle", None),
            ("authors", Text(), "Contributors' names in byline order, joined by 、; null when there is no byline."),
            ("section_count", Integer(), "Sections of the article, the untitled opening (ordinal 0) included."),
            ("paragraph_count", "article.paragraph_count", None),
            ("char_count", "article.char_count", None),
            ("metric_count", Integer(), "Metrics (quantitative facts) found in the article."),
        ],
    ),
    "v_metric": (
        "One row per metric, with where it was printed: date, newspaper, article, section and paragraph.",
        [
            ("metric_id", "metric.id", "The metric (metric.id)."),
            ("date", "issue.date", "Issue date."),
            ("newspaper", "newspaper.name", "Newspaper name."),
            ("article_id", "article.id", "The article (article.id)."),
            ("title", "article.title", "Title of the article."),
            ("section_heading", "section.heading", "Heading of the section; null in the untitled opening."),
            ("paragraph_id", "paragraph.id", "The paragraph (paragraph.id)."),
            ("surface", "metric.surface", None),
            ("subject", "metric.subject", None),
            ("subject_key", "metric.subject_key", None),
            ("value", "metric.value", None),
            ("value_high", "metric.value_high", None),
            ("unit", "metric.unit", None),
            ("qualifier", "metric.qualifier", None),
            ("kind", "metric.kind", None),
            ("condition", "metric.condition", None),
            ("as_of", "metric.as_of", None),
            ("period", "metric.period", None),
            ("direction", "metric.direction", None),
            ("basis", "metric.basis", None),
            ("role", "metric.role", None),
        ],
    ),
    "v_series": (
        "One row per metric that belongs to a series (measure not null): what, where, when, in base units, "
        "and where it was printed. Several rows may be one fact restated; v_fact keeps one.",
        _SERIES_COLUMNS,
    ),
    "v_fact": (
        "v_series with each fact (fact_key) once: its first printing (earliest issue, then lowest article "
        "and metric id), and how often it was printed.",
        _SERIES_COLUMNS + [("restated", Integer(), "How many metrics state this fact (1 = printed once).")],
    ),
    "v_paragraph": (
        "One row per paragraph, with its date, newspaper, article title and section heading.",
        [
            ("paragraph_id", "paragraph.id", "The paragraph (paragraph.id)."),
            ("date", "issue.date", "Issue date."),
            ("newspaper", "newspaper.name", "Newspaper name."),
            ("article_id", "article.id", "The article (article.id)."),
            ("title", "article.title", "Title of the article."),
            ("section_heading", "section.heading", "Heading of the section; null in the untitled opening."),
            ("ordinal", "paragraph.ordinal", None),
            ("lead", "paragraph.lead", None),
            ("text", "paragraph.text", None),
            ("char_count", "paragraph.char_count", None),
        ],
    ),
}


def _table(table: Table) -> Relation:
    return Relation(
        table.name,
        "table",
        table.comment or "",
        tuple(Column(c.name, str(c.type), c.comment or "", c.nullable) for c in table.columns),
    )


def _view(name: str, description: str, columns: list[_ViewColumn]) -> Relation:
    out = []
    for col, source, text in columns:
        if isinstance(source, str):
            table, column = source.split(".")
            copied = Base.metadata.tables[table].columns[column]
            out.append(Column(col, str(copied.type), text or copied.comment or "", None, source))
        else:
            out.append(Column(col, str(source), text or ""))
    return Relation(name, "view", description, tuple(out))


def relations() -> list[Relation]:
    """Every table (in the models' order) and then every view."""
    return [_table(t) for t in Base.metadata.sorted_tables] + [_view(n, d, c) for n, (d, c) in VIEWS.items()]


def to_json() -> str:
    return json.dumps([asdict(r) for r in relations()], ensure_ascii=False, indent=2) + "\n"


def _md(text: str | None) -> str:
    return "" if text is None else text.replace("|", "\\|").replace("\n", " ")


def to_markdown() -> str:
    lines = [
        "# Schema",
        "",
        "Generated from the data dictionary (`archive schema --format markdown`); do not edit by hand.",
        "Tables hold the data; views (`v_*`) join it into one row per article, metric or paragraph for",
        "SQL users and BI tools. On PostgreSQL every table, view and column carries this description as",
        "its comment; MariaDB carries the table and column ones (it cannot comment views).",
    ]
    for r in relations():
        lines += ["", f"## {r.name} ({r.kind})", "", _md(r.description), ""]
        if r.kind == "table":
            lines += ["| column | type | null | description |", "|---|---|---|---|"]
            lines += [f"| {c.name} | {c.type} | {'yes' if c.nullable else 'no'} | {_md(c.description)} |" for c in r.columns]
        else:
            lines += ["| column | type | from | description |", "|---|---|---|---|"]
            lines += [f"| {c.name} | {c.type} | {c.source or 'computed'} | {_md(c.description)} |" for c in r.columns]
    return "\n".join(lines) + "\n"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_statements(
    dialect: str, existing: set[str], views_only: bool = False, columns: dict[str, set[str]] | None = None
) -> list[str]:
    """COMMENT ON statements for the relations in `existing`, on PostgreSQL; none elsewhere. With
    `columns` (relation -> its columns), only the columns there: an older migration's view has fewer.

    MariaDB cannot comment views, and its table and column comments are written by the migrations
    from the same models' comments (a column comment there needs the whole column definition).
    """
    if dialect != "postgresql":
        return []
    out = []
    for r in relations():
        if r.name not in existing or (views_only and r.kind != "view"):
            continue
        out.append(f"COMMENT ON {r.kind.upper()} {r.name} IS {_sql_string(r.description)}")
        out += [
            f'COMMENT ON COLUMN {r.name}."{c.name}" IS {_sql_string(c.description)}'
            for c in r.columns
            if columns is None or c.name in columns.get(r.name, ())
        ]
    return out


def apply_comments(connection: Connection, views_only: bool = True) -> int:
    """Write the dictionary's comments on the relations that exist; return how many statements ran."""
    insp = inspect(connection)
    existing = set(insp.get_table_names()) | set(insp.get_view_names())
    columns = None
    if connection.dialect.name == "postgresql":
        columns = {r.name: {c["name"] for c in insp.get_columns(r.name)} for r in relations() if r.name in existing}
    statements = comment_statements(connection.dialect.name, existing, views_only, columns)
    for s in statements:
        connection.exec_driver_sql(driver_sql(connection, s))
    return len(statements)
