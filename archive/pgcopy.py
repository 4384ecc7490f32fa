"""The loader's rows on PostgreSQL through COPY FROM STDIN (psycopg 3), with their ids taken from the
tables' sequences beforehand.

A row written by executemany INSERT costs the writer more in Python (SQLAlchemy's parameter handling
and psycopg's per-statement work) than the server takes to store it; COPY sends rows as one stream,
each turned to COPY's text format by psycopg's own dumpers (`Copy.write_row`: tabs, newlines and
backslashes escaped, None as NULL; a NUL in a text is refused, as INSERT refuses it) and read by the
server with each column's own input function, as a literal cast would be. Ids: COPY returns nothing,
so a table whose ids the caller needs takes them first, `nextval` once per row in one statement, in
the order of the rows, which is the order INSERT ... RETURNING (SQLAlchemy's sort_by_parameter_order)
gave them. Everything runs on the SQLAlchemy connection's own driver connection, inside its
transaction and savepoints; driver errors come back as SQLAlchemy's exceptions, as archive.bulk's do.

Not on a sharded coordinator (archive.shard): its content tables are views, which COPY cannot fill.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Iterator, Sequence

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from archive import shard


def usable(conn: Connection) -> bool:
    """Whether rows go through COPY here: PostgreSQL through psycopg 3, not a sharded coordinator."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg" and not shard.is_sharded(conn)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@lru_cache(maxsize=None)
def _copy_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"COPY {_quote(table)} ({', '.join(map(_quote, columns))}) FROM STDIN"


@lru_cache(maxsize=None)
def _ids_sql(tables: tuple[str, ...]) -> str:
    # for each table, an array of new ids from the sequence its id column's default draws from
    return "SELECT " + ", ".join(
        f"ARRAY(SELECT nextval(pg_get_serial_sequence('{_quote(t)}', 'id')) FROM generate_series(1, %s))" for t in tables
    )


class _Errors:
    """Driver errors raised inside the block come out as SQLAlchemy's (IntegrityError, DataError …)."""

    def __init__(self, conn: Connection, sql: str):
        self.conn, self.sql = conn, sql

    def __enter__(self) -> None:
        pass

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: object) -> None:
        base = self.conn.dialect.loaded_dbapi.Error
        if exc is not None and isinstance(exc, base) and isinstance(exc, Exception):
            raise DBAPIError.instance(self.sql, None, exc, base, dialect=self.conn.dialect) from exc


def _driver(conn: Connection) -> Any:
    driver = conn.connection.driver_connection
    assert driver is not None
    return driver


def take_ids(conn: Connection, counts: dict[str, int]) -> dict[str, list[int]]:
    """New ids from the sequences of several tables in one round trip: `counts` says how many for each
    table (by name); each table's come in the order its rows will have them."""
    wanted = tuple(t for t, n in counts.items() if n > 0)
    taken: dict[str, list[int]] = {t: [] for t in counts}
    if wanted:
        sql = _ids_sql(wanted)
        with _Errors(conn, sql), _driver(conn).cursor() as cursor:
            taken.update(zip(wanted, cursor.execute(sql, [counts[t] for t in wanted]).fetchone()))
    return taken


def fill(preset: list[int | None] | None, count: int, fresh: list[int]) -> list[int | None]:
    """Every row's id: the preset one where a row has one (reparse keeps ids), else the next of `fresh`
    (as many as the rows without one)."""
    if preset is None:
        return list(fresh[:count])
    new = iter(fresh)
    return [i if i is not None else next(new) for i in preset]


def missing(preset: list[int | None] | None, count: int) -> int:
    """How many of `count` rows need a new id."""
    return count if preset is None else sum(i is None for i in preset)


def copy_rows(
    conn: Connection, table: str, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]] | Iterator[tuple[Any, ...]],
    processors: tuple[tuple[int, Callable[[Any], Any]], ...] = (),
) -> None:
    """Write rows (tuples of `columns`) into the table named `table` with one COPY; `processors`: (position, bind
    processor) of the values the columns' types convert for the driver (archive.bulk)."""
    sql = _copy_sql(table, columns)
    with _Errors(conn, sql), _driver(conn).cursor() as cursor, cursor.copy(sql) as copy:
        write = copy.write_row
        if processors:
            for row in rows:
                values = list(row)
                for i, f in processors:
                    values[i] = f(values[i])
                write(values)
        else:
            for row in rows:
                write(row)


def insert_returning_id(conn: Connection, table: str, columns: tuple[str, ...], row: tuple[Any, ...]) -> int:
    """Insert one row (values already converted for the driver) and return its id, drawn from the id
    column's default as COPY would draw it: one round trip where taking the id first and copying the
    row took three (a new newspaper or issue)."""
    sql = _insert_sql(table, columns)
    with _Errors(conn, sql), _driver(conn).cursor() as cursor:
        return cursor.execute(sql, row).fetchone()[0]


@lru_cache(maxsize=None)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {_quote(table)} ({', '.join(map(_quote, columns))}) VALUES ({', '.join(['%s'] * len(columns))}) RETURNING id"


@lru_cache(maxsize=None)
def _source_sql(source_columns: tuple[str, ...], path_columns: tuple[str, ...], tables: tuple[str, ...]) -> str:
    # the source, its path (naming the source's new id) and the ids of its rows: one statement
    marks = ", ".join(["%s"] * len(source_columns))
    ids = "".join(
        f", ARRAY(SELECT nextval(pg_get_serial_sequence('{_quote(t)}', 'id')) FROM generate_series(1, %s))" for t in tables
    )
    return (
        f"WITH s AS (INSERT INTO source ({', '.join(map(_quote, source_columns))}) VALUES ({marks}) RETURNING id), "
        f"p AS (INSERT INTO source_path (source_id, {', '.join(map(_quote, path_columns))}) "
        f"VALUES ((SELECT id FROM s), {', '.join(['%s'] * len(path_columns))})) "
        f"SELECT id{ids} FROM s"
    )


def insert_source(
    conn: Connection, source: tuple[tuple[str, ...], tuple[Any, ...]], path: tuple[tuple[str, ...], tuple[Any, ...]],
    counts: dict[str, int],
) -> tuple[int, dict[str, list[int]]]:
    """A file's source row and its path row, and new ids for its rows (`counts`: how many of each table's,
    as take_ids), in one round trip: (columns, values converted for the driver) of each row. Returns the
    source's id, drawn from its column's default, and the ids taken, as take_ids gives them."""
    tables = tuple(counts)
    sql = _source_sql(source[0], path[0], tables)
    with _Errors(conn, sql), _driver(conn).cursor() as cursor:
        source_id, *taken = cursor.execute(sql, (*source[1], *path[1], *(counts[t] for t in tables))).fetchone()
    return source_id, dict(zip(tables, taken))


# Tables whose rows PendingRows holds, in the order their foreign keys need them written.
LATER_ORDER = ("article", "article_author", "section", "paragraph", "metric")


class PendingRows:
    """The content rows (articles, authors, sections, paragraphs, metrics) of the files a transaction
    holds, written by one COPY per table just before it commits, instead of five COPYs a file (each of
    two round trips the writer waits for the server through). archive.loader's GroupWriter holds one.

    - A file whose savepoint is rolled back takes its rows back out (`mark`, `rollback_to`).
    - A row the database refuses now fails the whole COPY, so its batch: GroupWriter then stores each
      file again in a transaction of its own, where only the file that holds it fails.
    - Rows are written in the order they came, each table's after the tables it refers to, so ids
      drawn from a column's default (metric) are those one COPY a file drew.
    - `flush` writes them before the batch commits, and before anything that reads or deletes rows
      they may refer to (writer.drop_empty_issues: an issue only these rows still belong to). A flush
      inside a file's savepoint puts earlier files' rows inside it: `rollback_to` then says so, and
      the batch has to be stored again."""

    def __init__(self) -> None:
        self.tables: dict[tuple[str, tuple[str, ...]], tuple[tuple[tuple[int, Callable[[Any], Any]], ...], list]] = {}
        self.flushes = 0

    def add(
        self, table: str, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]], processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    ) -> None:
        entry = self.tables.get((table, columns))
        if entry is None:
            entry = self.tables[(table, columns)] = (processors, [])
        entry[1].extend(rows)

    def mark(self) -> tuple[int, dict[tuple[str, tuple[str, ...]], int]]:
        return self.flushes, {key: len(rows) for key, (_, rows) in self.tables.items()}

    def rollback_to(self, mark: tuple[int, dict[tuple[str, tuple[str, ...]], int]]) -> bool:
        """Drop the rows added since `mark`; False when rows were written since (a flush)."""
        flushes, lengths = mark
        for key, (_, rows) in self.tables.items():
            del rows[lengths.get(key, 0) :]
        return flushes == self.flushes

    def flush(self, conn: Connection) -> None:
        tables, self.tables = self.tables, {}
        if not tables:
            return
        self.flushes += 1
        rank = {t: i for i, t in enumerate(LATER_ORDER)}
        for (table, columns), (processors, rows) in sorted(tables.items(), key=lambda kv: rank.get(kv[0][0], len(rank))):
            if rows:
                copy_rows(conn, table, columns, rows, processors)
