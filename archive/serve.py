"""`archive serve`: Datasette over the SQLite archive, read-only, described by the data dictionary."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from archive import dictionary
from archive.db import DatabaseError, parse_url
from archive.errors import UnavailableError
from archive.searchkey import ID_MASK, NOT_PARAGRAPH
from archive.searchquery import fts5_match
from archive.searchtext import EmptyQuery, parse_query

if TYPE_CHECKING:
    from datasette.app import Datasette

try:
    from datasette import hookimpl
except ImportError:  # the serve extra is not installed: make_datasette says so when asked
    def hookimpl(f: Callable[..., Any]) -> Callable[..., Any]:
        return f

FACETS = {
    "v_metric": ["newspaper", "date", "unit", "kind"],
    "v_article": ["newspaper", "date"],
    "v_paragraph": ["newspaper", "date"],
    "metric": ["unit", "kind"],
}
LABELS = {"newspaper": "name", "article": "title", "section": "heading", "source": "path"}

CANNED_QUERIES = {
    "metrics_by_date": {
        "title": "Metrics by date",
        "description": "How many metrics each issue states, by kind and unit, with their total value.",
        "sql": (
            "SELECT date, newspaper, kind, unit, count(*) AS metrics, sum(value) AS total\n"
            "FROM v_metric GROUP BY date, newspaper, kind, unit ORDER BY date DESC, metrics DESC"
        ),
    },
    "articles_by_date": {
        "title": "Articles by date",
        "description": "Articles, paragraphs, characters and metrics per issue.",
        "sql": (
            "SELECT date, newspaper, count(*) AS articles, sum(paragraph_count) AS paragraphs,\n"
            "       sum(char_count) AS chars, sum(metric_count) AS metrics\n"
            "FROM v_article GROUP BY date, newspaper ORDER BY date DESC"
        ),
    },
    "search_paragraphs": {
        "title": "Search paragraphs",
        "description": (
            "Paragraphs containing every term of the query (exact substrings, e.g. 民警; -term excludes), "
            "newest first, through the archive's search index."
        ),
        "sql": (
            "SELECT p.id AS paragraph_id, i.date, n.name AS newspaper, a.title, s.heading AS section_heading, p.text\n"
            "FROM search_fts AS f\n"
            f"JOIN paragraph AS p ON p.id = (f.rowid & {ID_MASK}) AND (f.rowid & {NOT_PARAGRAPH}) = 0\n"
            "JOIN article AS a ON a.id = p.article_id JOIN section AS s ON s.id = p.section_id\n"
            "JOIN issue AS i ON i.id = a.issue_id JOIN newspaper AS n ON n.id = i.newspaper_id\n"
            "WHERE search_fts MATCH archive_match(:q) ORDER BY f.rowid DESC LIMIT 200"
        ),
    },
}
DATABASE_NAME = "archive"  # served at /archive/ whatever the file is called
NO_MATCH = '"zzzzzzzzzzz"'  # no index token is 11 letters long: a query with nothing to include finds nothing


def archive_match(q: str | None) -> str:
    """SQL function for Datasette: the search index's MATCH expression for a query typed by a person."""
    try:
        query = parse_query(q or "")
    except EmptyQuery:
        return NO_MATCH
    return fts5_match(query) if query.include else NO_MATCH


# One request must not take the server down: `select zeroblob(1000000000)` once asked for 23.6 GB.
# SQLite refuses to build any string or blob longer than MAX_VALUE_BYTES ("string or blob too big"), and
# Datasette returns at most MAX_ROWS rows of a query and stops it after TIME_LIMIT_MS: a response holds
# at most MAX_ROWS × MAX_VALUE_BYTES per column of values. Paragraphs and article texts are far smaller.
MAX_VALUE_BYTES = 1_000_000
MAX_ROWS = 1000
TIME_LIMIT_MS = 5000
SETTINGS = {"sql_time_limit_ms": TIME_LIMIT_MS, "max_returned_rows": MAX_ROWS, "allow_download": False}


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("archive_match", 1, archive_match, deterministic=True)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)


def _register_plugin() -> None:
    from datasette.plugins import pm

    if pm.get_plugin("archive-search") is None:
        pm.register(sys.modules[__name__], name="archive-search")


class ServeUnavailable(UnavailableError):
    """Datasette is not installed, or the archive is not a SQLite file."""


def sqlite_path(url: str) -> Path:
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise ServeUnavailable(
            "archive serve reads a SQLite archive; for PostgreSQL or MariaDB connect Metabase or Superset "
            "(see docs/sql-and-bi.md)"
        )
    path = Path(parsed.database or "")
    if not path.is_file():
        raise DatabaseError(f"no SQLite archive at {path}")
    return path


def metadata(database: str) -> dict[str, Any]:
    """Datasette metadata: titles and descriptions from the data dictionary, facets, canned queries."""
    tables: dict[str, dict[str, Any]] = {}
    for r in dictionary.relations():
        entry = {"description": r.description, "columns": {c.name: c.description for c in r.columns}}
        if r.name in FACETS:
            entry["facets"] = FACETS[r.name]
        if r.name in LABELS:
            entry["label_column"] = LABELS[r.name]
        tables[r.name] = entry
    for hidden in ("alembic_version", "search_fts"):
        tables[hidden] = {"hidden": True}
    return {
        "title": "archive",
        "description": "Chinese newspaper text: newspapers, issues, articles, sections, paragraphs and metrics.",
        "databases": {database: {"tables": tables, "queries": CANNED_QUERIES}},
    }


def make_datasette(path: Path, immutable: bool = False) -> Datasette:
    """A Datasette app over `path`: read-only (mode=ro) by default, immutable=1 when asked."""
    try:
        from datasette.app import Datasette
    except ImportError as exc:
        raise ServeUnavailable("archive serve needs Datasette: pip install 'archive[serve]'") from exc
    wal = path.with_name(path.name + "-wal")
    if immutable and wal.exists() and wal.stat().st_size > 0:
        # immutable=1 reads the main file only: rows still in the write-ahead log would be missing.
        raise ServeUnavailable(f"{wal} holds changes not yet in {path.name} (a load is running or was cut short): serve it without --immutable")
    _register_plugin()
    files = {"immutables": [str(path)]} if immutable else {"files": [str(path)]}
    ds = Datasette(**files, metadata=metadata(DATABASE_NAME), settings=SETTINGS)
    # Datasette names a database after its file; links and bookmarks should not change with the file name.
    database = ds.databases[path.stem]
    ds.remove_database(path.stem)
    ds.add_database(database, name=DATABASE_NAME)
    return ds


def prepare(url: str, immutable: bool = False) -> Any:
    """The Datasette instance for the archive at `url`, started up: a URL it cannot serve fails here,
    before anything is said to be served."""
    import asyncio

    ds = make_datasette(sqlite_path(url), immutable)
    asyncio.run(ds.invoke_startup())
    return ds


def run(ds: Any, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
