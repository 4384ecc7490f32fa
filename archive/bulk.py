"""Batched inserts and lookups for the loader, fast on SQLite, plain Core everywhere else.

Statements are SQLAlchemy Core, built once. On SQLite they are compiled once per dialect and run on
the driver connection inside the caller's transaction, values converted by the columns' own bind
processors: measured on this project's pages, SQLAlchemy's per-statement execution costs more than
SQLite takes to store a whole page (docs/benchmarks.md). Driver errors come back as SQLAlchemy's own
exceptions, so callers see IntegrityError and OperationalError whichever way a statement ran.
Statements run this way do not pass through SQLAlchemy's execution events or its echo log.
On PostgreSQL (psycopg 3, not a sharded coordinator): COPY, ids taken from the sequences first
(archive.pgcopy). On other engines: Core executemany, and batched INSERT ... RETURNING for ids.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Sequence, cast

from sqlalchemy import ColumnClause, CompoundSelect, Connection, Dialect, Engine, Insert, Label, Select, Table, func, literal_column, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

from archive import pgcopy

if TYPE_CHECKING:
    from archive.models import Base


def direct(conn: Connection | Engine) -> bool:
    # pysqlite: qmark parameters, and one process-local connection that is cheap to call directly
    return conn.dialect.name == "sqlite" and conn.dialect.paramstyle == "qmark"


def _processors(dialect: Dialect, types: Sequence[TypeEngine[Any]]) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """(position, bind processor) for each value that needs converting for the driver."""
    pairs = ((i, t.dialect_impl(dialect).bind_processor(dialect)) for i, t in enumerate(types))
    return tuple((i, f) for i, f in pairs if f is not None)


def _converted(values: tuple[Any, ...], processors: tuple[tuple[int, Callable[[Any], Any]], ...]) -> tuple[Any, ...]:
    if not processors:
        return values
    out = list(values)
    for i, f in processors:
        out[i] = f(out[i])
    return tuple(out)


def driver(conn: Connection, sql: str, params: Any, many: bool = False) -> list[tuple]:
    driver_connection = conn.connection.driver_connection
    assert driver_connection is not None
    cursor = driver_connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
            return []
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description is not None else []  # psycopg: a command has no rows to fetch
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect) from exc
    finally:
        cursor.close()


@lru_cache(maxsize=None)
def _compiled(statement: ClauseElement, dialect: Dialect) -> tuple[str, tuple[str, ...], tuple[tuple[int, Callable[[Any], Any]], ...]]:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    names = tuple(compiled.positiontup or ())
    return compiled.string, names, _processors(dialect, [compiled.binds[n].type for n in names])


def rows(conn: Connection, statement: Select[Any] | CompoundSelect, params: dict | None = None) -> list[tuple]:
    """The rows of a prebuilt query, as plain tuples (values as the driver returns them)."""
    if not direct(conn):
        if pgcopy.usable(conn):  # psycopg's named parameters: the values by name, converted as their binds say
            sql, names, processors = _compiled_named(statement, conn.dialect)
            values = _converted(tuple((params or {})[n] for n in names), processors)
            return driver(conn, sql, dict(zip(names, values)))
        return [tuple(r) for r in conn.execute(statement, params or {})]
    sql, names, processors = _compiled(statement, conn.dialect)
    return driver(conn, sql, _converted(tuple((params or {})[n] for n in names), processors))


@lru_cache(maxsize=None)
def _compiled_named(statement: ClauseElement, dialect: Dialect) -> tuple[str, tuple[str, ...], tuple[tuple[int, Callable[[Any], Any]], ...]]:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    names = tuple(compiled.binds)
    return compiled.string, names, _processors(dialect, [compiled.binds[n].type for n in names])


@lru_cache(maxsize=None)
def _insert(table: Table) -> Insert:
    return table.insert()


@lru_cache(maxsize=None)
def _driver_insert(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[str, tuple[tuple[int, Callable[[Any], Any]], ...]]:
    quote = dialect.identifier_preparer.quote
    sql = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) VALUES ({', '.join('?' * len(columns))})"
    return sql, _processors(dialect, [table.c[c].type for c in columns])


def insert_tuples(
    conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple], later: pgcopy.PendingRows | None = None
) -> None:
    """Insert rows given as tuples of `columns`, in one executemany: the loader's rows come as tuples
    (archive.prepare.Rows), and a dict a row costs more than SQLite takes to insert it. On PostgreSQL's
    COPY path, with `later`, the rows wait there for their batch's COPY (pgcopy.PendingRows)."""
    if not rows:
        return
    if not direct(conn):
        if pgcopy.usable(conn):
            processors = _column_processors(table, columns, conn.dialect)
            if later is not None:
                later.add(table.name, columns, rows, processors)
            else:
                pgcopy.copy_rows(conn, table.name, columns, rows, processors)
            return
        conn.execute(_insert(table), [dict(zip(columns, r)) for r in rows])
        return
    _direct_many(conn, table, columns, rows)


@lru_cache(maxsize=None)
def _column_processors(table: Table, columns: tuple[str, ...], dialect: Dialect) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    return _processors(dialect, [table.c[c].type for c in columns])


def converted(conn: Connection, table: Table, columns: tuple[str, ...], values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row's values (tuple of `columns`) as the driver takes them: converted by the columns' bind processors."""
    return _converted(values, _column_processors(table, columns, conn.dialect))


def _direct_many(conn: Connection, table: Table, columns: tuple[str, ...], tuples: list[tuple]) -> None:
    sql, processors = _driver_insert(table, columns, conn.dialect)
    if processors:
        tuples = [_converted(t, processors) for t in tuples]
    driver(conn, sql, tuples, many=True)


def table_of(model: type[Base]) -> Table:
    """A model's table (typed: SQLAlchemy declares __table__ as a FromClause)."""
    return cast(Table, model.__table__)


def _watermark() -> Table:
    from archive.models import IdWatermark

    return table_of(IdWatermark)


@lru_cache(maxsize=None)
def _max_ids(*tables: Table) -> Select:
    mark = _watermark()

    def highest(t: Table) -> Label[Any]:
        in_table = select(func.max(t.c.id)).scalar_subquery()
        recorded = select(mark.c.last_id).where(mark.c.table_name == literal_column(f"'{t.name}'")).scalar_subquery()
        # SQLite's two-argument max() is the larger of the two
        zero: ColumnClause[Any] = literal_column("0")  # not a bound parameter: rows() binds only what its caller names
        return func.max(func.coalesce(in_table, zero), func.coalesce(recorded, zero)).label(t.name)

    return select(*(highest(t) for t in tables))


def next_ids(conn: Connection, *models: type[Base]) -> dict[str, int]:
    """On SQLite, the next id of each model's table, in one query: above every id it holds and every id
    it ever held (id_watermark); elsewhere {} (the engine's sequences hand ids out)."""
    if conn.dialect.name != "sqlite":
        return {}
    tables = tuple(table_of(m) for m in models)
    (found,) = rows(conn, _max_ids(*tables))
    return {t.name: (value or 0) + 1 for t, value in zip(tables, found)}


def raise_watermarks(conn: Connection, *models: type[Base]) -> None:
    """On SQLite, before rows are deleted: record each table's highest id, so that it is not handed out
    again once those rows are gone."""
    if conn.dialect.name != "sqlite":
        return
    for model in models:
        name = table_of(model).name  # a model's table name, not user input
        conn.exec_driver_sql(
            f"INSERT INTO id_watermark (table_name, last_id) SELECT '{name}', m FROM (SELECT max(id) AS m FROM {name}) "
            "WHERE m IS NOT NULL ON CONFLICT (table_name) DO UPDATE SET last_id = max(last_id, excluded.last_id)"
        )


@lru_cache(maxsize=None)
def _insert_returning_ids(table: Table) -> Insert:
    return table.insert().returning(table.c.id, sort_by_parameter_order=True)


def insert_many(
    conn: Connection,
    model: type[Base],
    values: list[dict[str, Any]],
    ids: dict[str, int],
    preset: list[int | None] | None = None,
    returning: bool = True,
) -> list[int]:
    """insert_rows for rows given as dicts that all have the same keys."""
    if not values:
        return []
    return insert_rows(conn, model, tuple(values[0]), [tuple(v.values()) for v in values], ids, preset, returning)


def insert_rows(
    conn: Connection,
    model: type[Base],
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    ids: dict[str, int],
    preset: list[int | None] | None = None,
    returning: bool = True,
    later: pgcopy.PendingRows | None = None,
) -> list[int]:
    """Insert rows (tuples of `columns`) in one batch and return their ids in the order given.

    `preset` gives some rows the id they must have (reparse keeps the ids of what it parses again); a
    row whose entry is None gets a new id, above every preset one.

    On SQLite the ids are handed out here from `ids` (what next_ids read at the start of the
    transaction, advanced as they are used; a table missing from it is looked up), because SQLAlchemy
    gets ordered RETURNING from SQLite only one row per statement. That is safe: the archive's SQLite
    engines BEGIN IMMEDIATE, so no other writer runs until commit (and were one to take an id first,
    the primary key fails and the loader retries the file). Elsewhere, batched INSERT ... RETURNING.
    """
    if not rows:
        return []
    table = table_of(model)
    if preset is not None and any(i is not None for i in preset):
        return _insert_some_preset(conn, model, columns, rows, ids, preset, later)
    if conn.dialect.name != "sqlite":
        if pgcopy.usable(conn):
            if not returning:  # the ids are the column's default, drawn row by row as COPY reads them
                insert_tuples(conn, table, columns, rows, later)
                return []
            if len(rows) == 1 and later is None:  # a new newspaper or issue: INSERT ... RETURNING, one round trip
                return [pgcopy.insert_returning_id(conn, table.name, columns, converted(conn, table, columns, rows[0]))]
            taken = pgcopy.take_ids(conn, {table.name: len(rows)})[table.name]
            insert_tuples(conn, table, ("id", *columns), [(i, *r) for i, r in zip(taken, rows)], later)
            return taken
        if not returning:  # the caller needs no ids: the plain executemany is cheaper
            insert_tuples(conn, table, columns, rows)
            return []
        values = [dict(zip(columns, r)) for r in rows]
        return list(conn.execute(_insert_returning_ids(table), values).scalars())
    start = _next_id(conn, model, ids)
    ids[table.name] = start + len(rows)
    insert_tuples(conn, table, ("id", *columns), [(i, *r) for i, r in enumerate(rows, start)])
    return list(range(start, start + len(rows)))


def insert_driver_values(conn: Connection, model: type[Base], columns: tuple[str, ...], rows: list[tuple[Any, ...]], ids: dict[str, int]) -> None:
    """SQLite (direct): insert_rows for rows whose values are already what the driver takes (the
    metric rows a parser worker made for SQLite, archive.prepare.sqlite_values): no bind processor
    runs on them. Their ids are handed out from `ids` as insert_rows hands them out."""
    if not rows:
        return
    table = table_of(model)
    start = _next_id(conn, model, ids)
    ids[table.name] = start + len(rows)
    sql, _ = _driver_insert(table, ("id", *columns), conn.dialect)
    driver(conn, sql, [(i, *r) for i, r in enumerate(rows, start)], many=True)


def _next_id(conn: Connection, model: type[Base], ids: dict[str, int]) -> int:
    """SQLite: the next id of model's table from `ids`, or looked up when `ids` does not have it."""
    return ids.get(table_of(model).name) or next_ids(conn, model)[table_of(model).name]


def _insert_some_preset(
    conn: Connection, model: type[Base], columns: tuple[str, ...], rows: list[tuple[Any, ...]], ids: dict[str, int], preset: list[int | None],
    later: pgcopy.PendingRows | None = None,
) -> list[int]:
    table = table_of(model)
    if conn.dialect.name == "sqlite":
        # new ids go above the preset ones: those rows were deleted just before, so max(id) may be below them
        floor = max(i for i in preset if i is not None) + 1
        ids[table.name] = max(_next_id(conn, model, ids), floor)
    fresh = iter(insert_rows(conn, model, columns, [r for r, i in zip(rows, preset) if i is None], ids, later=later))
    insert_tuples(conn, table, ("id", *columns), [(i, *r) for r, i in zip(rows, preset) if i is not None], later)
    return [i if i is not None else next(fresh) for i in preset]
