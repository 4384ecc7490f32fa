"""The flow the architecture promises, checked on the source: the parse half (bytes → decoded text →
parsed document and metrics) is pure Python that never touches a database, so it runs in worker
processes and in tests without one; the readers never reach the loader (the only writer) nor the search
index's writes: they read the index through searchkey (the key codec) and searchquery (the query side)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "archive"

# Every module of the parse half, and what none of them may import (at module level or inside a function).
PARSE_HALF = [
    "columns", "decode", "document", "errors", "numerals", "metrics", "timeref", "places", "facts", "limits", "searchtext",
    "searchkey", "inputs", "prepare", "formats/__init__", "formats/article", "formats/credits", "formats/frontmatter",
    "formats/markdown", "formats/metadata", "formats/page", "formats/blocks",
]
DATABASE = ("sqlalchemy", "alembic", "psycopg", "pymysql", "sqlite3", "archive.models", "archive.db", "archive.loader",
            "archive.bulk", "archive.searchindex", "archive.searchquery", "archive.queries", "archive.writer")
READERS = ["queries", "search", "searchquery", "readdb", "readcommands", "catalog", "export", "sql", "serve", "series", "output"]
WRITER = ("archive.loader", "archive.writer", "archive.bulk", "archive.prepare", "archive.searchindex")


def imported(module: str) -> set[str]:
    """Every module `archive/<module>.py` imports anywhere in its text, as dotted names."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def _reaches(names: set[str], forbidden: tuple[str, ...]) -> set[str]:
    return {n for n in names for f in forbidden if n == f or n.startswith(f + ".")}


@pytest.mark.parametrize("module", PARSE_HALF)
def test_the_parse_half_never_touches_a_database(module):
    assert not _reaches(imported(module), DATABASE), module


@pytest.mark.parametrize("module", READERS)
def test_readers_never_reach_the_writer(module):
    assert not _reaches(imported(module), WRITER), module


def test_every_module_is_placed():
    """A new module must be placed on one side of these rules (or knowingly left out here)."""
    others = {"__init__", "__main__", "_forkserver", "backup", "bulk", "cli", "launch", "config", "dataloss", "db", "shard",
              "dictionary", "grants", "loader", "models", "pgcopy", "progress", "searchindex", "views", "workers", "writer"}
    found = {str(p.relative_to(PACKAGE).with_suffix("")) for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    assert found == set(PARSE_HALF) | set(READERS) | others


def test_the_column_bounds_the_parse_half_reads_are_the_models():
    from sqlalchemy import Numeric, String

    from archive import columns, models

    tables = {m.__tablename__: m for m in models.Base.__subclasses__()}
    lengths = {
        name: tuple((c.name, c.type.length) for c in tables[name].__table__.columns if isinstance(c.type, String) and c.type.length)
        for name in columns.STRING_LENGTHS
    }
    assert lengths == columns.STRING_LENGTHS
    assert tuple(
        (c.name, c.type.precision, c.type.scale or 0)
        for c in models.Metric.__table__.columns
        if isinstance(c.type, Numeric) and c.type.precision
    ) == columns.METRIC_NUMERIC
    # the extractor's Metric has the fields METRIC_FIELDS names, in its order, and the table has their columns
    from archive.metrics import Metric

    assert tuple(f.name for f in dataclasses.fields(Metric)) == columns.METRIC_FIELDS
    assert set(columns.METRIC_FIELDS) <= set(models.Metric.__table__.columns.keys())
    # the tables and their keys, which a sharded coordinator's views are ordered by
    assert columns.TABLES == tuple(t.name for t in models.Base.metadata.sorted_tables)
    assert {t.name: tuple(c.name for c in t.primary_key.columns) for t in models.Base.metadata.sorted_tables} == {
        t: columns.PRIMARY_KEYS.get(t, ("id",)) for t in columns.TABLES
    }
    # every table with a bounded string column that the parsed document fills is covered
    assert {"article", "article_author", "issue", "metric", "newspaper", "paragraph", "section"} <= set(lengths)
