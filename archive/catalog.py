"""Tables and views as the exporters read them: their columns, what each column holds (a Kind) and the
key their rows are ordered by, from the engine's catalog on a DB-API connection (SQLite, PostgreSQL),
read as SQLAlchemy's reflection reads them, or from that reflection (MariaDB, and URLs archive.readdb
does not read). SQLAlchemy is imported only by the functions that reflect."""

from __future__ import annotations

import re
import sqlite3
from collections import namedtuple

from archive.columns import PRIMARY_KEYS, TABLES
from archive.errors import NotFound

TYPE_CHECKING = False  # named tuples, no typing nor dataclasses: ~15 ms of `archive export NAME`'s start
if TYPE_CHECKING:
    from typing import Any, NamedTuple

    import psycopg
    from sqlalchemy import Connection
    from sqlalchemy.types import TypeEngine


class UnknownRelation(NotFound):
    """No table or view of that name in the archive."""


if TYPE_CHECKING:

    class Kind(NamedTuple):
        name: str
        precision: int | None = None
        scale: int | None = None
        timezone: bool = False

    class Relation(NamedTuple):
        name: str
        columns: list[str]
        kinds: list[Kind | None]
        key: list[str]
else:
    # What a column holds, as the writers need to know it: bool, int, decimal, float, date, datetime, time,
    # text or binary (a column of another type has no Kind: None).
    Kind = namedtuple("Kind", ("name", "precision", "scale", "timezone"), defaults=(None, None, False))
    # A table or view: its columns, their Kinds, and its key (the primary key, or a view's first column:
    # what rows are ordered by).
    Relation = namedtuple("Relation", ("name", "columns", "kinds", "key"))


def _unknown(name: str, names: list[str]) -> UnknownRelation:
    return UnknownRelation(f"no table or view named {name!r}; there are: {', '.join(names)}")


def quoted(name: str) -> str:
    """`name` as a quoted SQL identifier (SQLite and PostgreSQL)."""
    return '"' + name.replace('"', '""') + '"'


# SQLite's declared type names as SQLAlchemy's reflection reads them (sqlite dialect's ischema_names and
# its affinity rules), so that a relation has the same kinds whichever way it was read.
SQLITE_KINDS = {
    "BIGINT": "int", "BLOB": "binary", "BOOL": "bool", "BOOLEAN": "bool", "CHAR": "text", "DATE": "date",
    "DATE_CHAR": "date", "DATETIME": "datetime", "DATETIME_CHAR": "datetime", "DOUBLE": "float", "DECIMAL": "decimal",
    "FLOAT": "float", "INT": "int", "INTEGER": "int", "JSON": None, "JSONB": None, "NUMERIC": "decimal", "REAL": "float",
    "SMALLINT": "int", "TEXT": "text", "TIME": "time", "TIME_CHAR": "time", "TIMESTAMP": "datetime", "VARCHAR": "text",
    "NVARCHAR": "text", "NCHAR": "text",
}
_DECLARED = re.compile(r"([\w ]+)(\(.*?\))?")


def sqlite_kind(declared: str) -> Kind | None:
    """The Kind of a SQLite column declared `declared`."""
    match = _DECLARED.match(declared.upper())
    name, args = (match.group(1), match.group(2)) if match else ("", None)
    if name in SQLITE_KINDS:
        kind = SQLITE_KINDS[name]
    elif "INT" in name:
        kind = "int"
    elif "CHAR" in name or "CLOB" in name or "TEXT" in name:
        kind = "text"
    elif "BLOB" in name or not name:
        kind = None
    elif "REAL" in name or "FLOA" in name or "DOUB" in name:
        kind = "float"
    else:
        kind = "decimal"
    numbers = [int(a) for a in re.findall(r"(\d+)", args or "")]
    if kind == "decimal" and numbers:
        return Kind(kind, numbers[0], numbers[1] if len(numbers) > 1 else None)
    if kind == "datetime" and numbers:  # DATETIME(6): SQLAlchemy takes the 6 for its timezone flag
        return Kind(kind, timezone=bool(numbers[0]))
    return Kind(kind) if kind else None


PG_KINDS = {
    "smallint": "int", "integer": "int", "bigint": "int", "numeric": "decimal", "real": "float", "double precision": "float",
    "boolean": "bool", "date": "date", "timestamp without time zone": "datetime", "timestamp with time zone": "datetime",
    "time without time zone": "time", "time with time zone": "time", "text": "text", "character varying": "text",
    "character": "text", "bytea": "binary",
}


def postgresql_kind(formatted: str) -> Kind | None:
    """The Kind of a PostgreSQL column whose format_type() is `formatted`."""
    base = re.sub(r"\(.*?\)", "", formatted)
    kind = PG_KINDS.get(base)
    if kind == "decimal":
        numbers = [int(a) for a in re.findall(r"\d+", formatted)]
        return Kind(kind, numbers[0], numbers[1] if len(numbers) > 1 else None) if numbers else Kind(kind)
    if kind == "datetime":
        return Kind(kind, timezone=base.endswith("with time zone"))
    return Kind(kind) if kind else None


def sqlalchemy_kind(t: TypeEngine[Any]) -> Kind | None:
    """The Kind of a column SQLAlchemy reflected as type `t`."""
    from sqlalchemy import types

    first: tuple[tuple[type[TypeEngine[Any]], str | None], ...] = (
        (types.NullType, None), (types.Boolean, "bool"), (types.Integer, "int"), (types.Float, "float")
    )
    for cls, kind in first:
        if isinstance(t, cls):
            return Kind(kind) if kind else None
    if isinstance(t, types.Numeric):
        return Kind("decimal", t.precision, t.scale)
    if isinstance(t, types.DateTime):
        return Kind("datetime", timezone=bool(t.timezone))
    last: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
        (types.Date, "date"), (types.Time, "time"), (types.String, "text"), (types.LargeBinary, "binary")
    )
    for cls, name in last:
        if isinstance(t, cls):
            return Kind(name)
    return None


def sqlite_relation_names(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite~_%' ESCAPE '~' ORDER BY name"
    )]


def sqlite_relation(conn: sqlite3.Connection, name: str) -> Relation:
    """Table or view `name` from SQLite's catalog."""
    names = sqlite_relation_names(conn)
    if name not in names:
        raise _unknown(name, names)
    info = [r for r in conn.execute(f"PRAGMA table_xinfo({quoted(name)})").fetchall() if r[-1] != 1]  # not hidden
    columns = [r[1] for r in info]
    key = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])] or model_key(name) or columns[:1]
    return Relation(name, columns, [sqlite_kind(r[2]) for r in info], key)


PG_RELATIONS = (
    "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
    "AND c.relkind IN ('r', 'p', 'v') ORDER BY c.relname"
)


def postgresql_relation_names(conn: psycopg.Connection[Any]) -> list[str]:
    with conn.cursor() as cur:  # (psycopg2's or psycopg's: execute returns the cursor in psycopg alone)
        cur.execute(PG_RELATIONS)
        return [r[0] for r in cur.fetchall()]


def postgresql_relation(conn: psycopg.Connection[Any], name: str) -> Relation:
    """Table or view `name` (in the current schema) from PostgreSQL's catalog, on a psycopg or psycopg2 connection."""
    names = postgresql_relation_names(conn)
    if name not in names:
        raise _unknown(name, names)
    with conn.cursor() as cur:
        cur.execute("SELECT c.oid FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = %s", (name,))
        found = cur.fetchone()
        if found is None:  # dropped since its name was read
            raise _unknown(name, [n for n in names if n != name])
        oid = found[0]
        cur.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (oid,)
        )
        info = cur.fetchall()
        cur.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)", (oid,)
        )
        key = [r[0] for r in cur.fetchall()]
    columns = [r[0] for r in info]
    return Relation(name, columns, [postgresql_kind(r[1]) for r in info], key or model_key(name) or columns[:1])


def relation_names(conn: Connection) -> list[str]:
    """Every table and view of the archive on a SQLAlchemy connection."""
    from sqlalchemy import inspect

    insp = inspect(conn)
    return sorted(set(insp.get_table_names()) | set(insp.get_view_names()))


def model_key(name: str) -> list[str]:
    """The key of the archive's table `name` (none for another name): what a view standing in for that
    table on a sharded coordinator (archive/shard.py) is ordered by, as the table itself would be."""
    if name not in TABLES:
        return []
    return list(PRIMARY_KEYS.get(name, ("id",)))


def reflected_relation(conn: Connection, name: str) -> tuple[Relation, str]:
    """Table or view `name` as SQLAlchemy reflects it, and the SELECT of its rows in key order."""
    from sqlalchemy import MetaData, Table, select

    names = relation_names(conn)
    if name not in names:
        raise _unknown(name, names)
    # the name is a real one; quoting is SQLAlchemy's. Tables its foreign keys name are not needed.
    table = Table(name, MetaData(), autoload_with=conn, resolve_fks=False)
    order = list(table.primary_key.columns) or [table.c[c] for c in model_key(name)] or list(table.columns)[:1]
    relation = Relation(name, [c.name for c in table.columns], [sqlalchemy_kind(c.type) for c in table.columns], [c.name for c in order])
    # Run as plain SQL, so that values arrive as the driver types them on every engine (SQLite's typed by
    # the declared column types, see archive.sql), not through SQLAlchemy's per-dialect converters.
    return relation, str(select(table).order_by(*order).compile(dialect=conn.dialect))
