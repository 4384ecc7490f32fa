"""Exports: any table, view or read-only query, streamed to CSV, JSON Lines, Parquet or XLSX.

Rows flow from a server-side cursor (or SQLite's lazy cursor) in batches to the writer, so memory does
not grow with the row count. Dates are ISO 8601 in text formats and real dates in Parquet and XLSX;
exact decimals stay exact in text formats and Parquet.

A named table or view on SQLite or PostgreSQL (a URL archive.readdb reads) is read on the DB-API driver
alone, its columns and key from the engine's catalog: importing SQLAlchemy and reflecting the relation
took longer than writing most of them. Queries, MariaDB and other URLs go through SQLAlchemy (archive.sql).
"""

from __future__ import annotations

import codecs
import importlib
import csv
import datetime as dt
import io
import operator
import re
import sqlite3
from contextlib import closing, contextmanager
from decimal import Decimal
from itertools import islice, repeat
from types import ModuleType, SimpleNamespace

from archive import readdb, sql
from archive.catalog import (  # noqa: F401  (UnknownRelation: raised through here)
    Kind,
    Relation,
    UnknownRelation,
    postgresql_relation,
    quoted,
    reflected_relation,
    sqlite_relation,
)
from archive.errors import InputError, UnavailableError
from archive.output import decimal_number

# `archive export NAME` imports neither typing nor json nor dataclasses (~15 ms of a small export's start,
# session 8): the types are mypy's alone.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO, Callable, Iterator, Sequence, TypeVar

    import psycopg
    import pyarrow
    from sqlalchemy import Connection

    # a DB-API connection the export reads a named relation on
    DriverConnection = TypeVar("DriverConnection", bound="sqlite3.Connection | psycopg.Connection[Any]")

BINARY_FORMATS = ("parquet", "xlsx")
EXTRAS = {"parquet": ("pyarrow", "parquet"), "xlsx": ("xlsxwriter", "xlsx")}
BATCH_ROWS = sql.BATCH_ROWS


class ExportUnavailable(UnavailableError):
    """The export format needs an optional library that is not installed, or options that conflict."""


class EncodingRefused(InputError):
    """The relation holds a character the chosen --encoding has no bytes for."""

    def __init__(self, exc: UnicodeEncodeError, encoding: str):
        char = exc.object[exc.start : exc.start + 1]
        super().__init__(
            f"--encoding {encoding} cannot write {char} (U+{ord(char):04X}), which the export holds: "
            "use --encoding utf-8 or gb18030, which write every character"
        )


def _relation_rows(conn: Connection, name: str) -> sql.Rows:
    """The rows of table or view `name` through SQLAlchemy (MariaDB, and URLs archive.readdb does not read)."""
    relation, statement = reflected_relation(conn, name)
    driver, quote = conn.connection.driver_connection, conn.dialect.identifier_preparer.quote
    assert driver is not None  # reading conn.connection revalidates it: a live DB-API connection
    fast = None
    if conn.dialect.name == "sqlite":
        fast = _sqlite_csv_body(driver, quote, relation)
    elif conn.dialect.name == "postgresql":
        fast = _postgresql_csv_body(driver, quote, relation)

    def rows() -> Iterator[tuple]:  # started when first read: a fast CSV export never reads it
        yield from sql.execute(conn, statement).rows

    return sql.Rows(relation.columns, rows(), relation.kinds, fast)


# --- SQLite: CSV from SQLite's own text ------------------------------------------------------------


def _csv_special(terminator: str = "\n") -> bytes:
    """The ASCII characters that make this Python's csv module quote a field (or write it otherwise), with
    lines ending in `terminator`."""
    special = []
    for c in map(chr, range(128)):
        out = io.StringIO()
        try:
            csv.writer(out, lineterminator=terminator).writerow([f"a{c}b", "x"])
        except csv.Error:
            special.append(c)
            continue
        if out.getvalue() != f"a{c}b,x{terminator}":
            special.append(c)
    return "".join(special).encode()


CSV_SPECIAL = _csv_special()  # ',', '"' and '\n' on Python 3.11 (it does not quote a lone '\r')
CSV_SPECIAL_CRLF = _csv_special("\r\n")  # for --excel: '\r' too


CSV_SPECIAL_CHARS = [bytes([c]) for c in CSV_SPECIAL]
DIGITS = "[0-9]"


def _zeros(n: str) -> str:
    # SQLite's printf repeats a %c by its precision (but writes one for a precision of 0)
    return f"substr(printf('%.*c', {n}, '0'), 1, {n})"


def _decimal_sql(v: str) -> str:
    """SQLite's text for a REAL in a NUMERIC column as archive.sql's converter and decimal_text make it:
    Decimal(text).normalize() in fixed point (58.20 -> 58.2, 20000.0 -> 20000, 1.0e-10 -> 0.0000000001)."""
    t = f"CAST({v} AS TEXT)"
    e = f"instr({t}, 'e')"
    exp = f"CAST(substr({t}, {e} + 1) AS INTEGER)"
    sign = f"CASE WHEN {v} < 0 THEN '-' ELSE '' END"
    digit = f"substr(ltrim({t}, '-'), 1, 1)"
    fraction = f"rtrim(substr(ltrim({t}, '-'), 3, {e} - 3 - ({v} < 0)), '0')"
    return (
        f"CASE WHEN {e} = 0 AND instr({t}, '.') THEN rtrim(rtrim({t}, '0'), '.') "
        # %!.15g writes d.ddd e±x: one digit before the point, at most 14 after it
        f"WHEN {e} AND {exp} < 0 THEN {sign} || '0.' || {_zeros(f'-{exp} - 1')} || {digit} || {fraction} "
        f"WHEN {e} AND {exp} >= length({fraction}) THEN {sign} || {digit} || {fraction} || {_zeros(f'{exp} - length({fraction})')} END"
    )


def _date_sql(v: str) -> str:
    """A DATE as archive.sql's converter reads it (its first ten characters, a real ISO date) and
    isoformat() writes it; NULL (the csv module's way) for anything else."""
    d = f"substr({v}, 1, 10)"
    return (
        # first the usual value, a date alone, which date() gives back unchanged (half the cost of the rest)
        f"CASE WHEN date({v}) = {v} AND {v} >= '0001' THEN {v} "
        f"WHEN typeof({v}) = 'text' AND {d} GLOB '{DIGITS * 4}-{DIGITS * 2}-{DIGITS * 2}' AND date({d}) = {d} "
        f"AND {d} >= '0001' THEN {d} WHEN {v} IS NULL THEN '' END"
    )


def _datetime_sql(v: str) -> str:
    """A DATETIME as datetime.fromisoformat() reads and isoformat() writes it ('T', microseconds only
    when not zero), for SQLAlchemy's 'YYYY-MM-DD HH:MM:SS[.ffffff]'; NULL for anything else."""
    s = f"substr({v}, 1, 19)"
    return (
        f"CASE WHEN typeof({v}) = 'text' AND (length({v}) = 19 OR (length({v}) = 26 AND substr({v}, 20) GLOB '.{DIGITS * 6}')) "
        f"AND substr({v}, 11, 1) = ' ' AND datetime({s}) = {s} AND {s} >= '0001' "
        f"THEN substr({v}, 1, 10) || 'T' || substr({v}, 12, 8) || "
        f"CASE WHEN length({v}) = 26 AND substr({v}, 21) <> '000000' THEN substr({v}, 20) ELSE '' END "
        f"WHEN {v} IS NULL THEN '' END"
    )


def _text_sql(v: str) -> str:
    """A value of a column without converter, as the csv module writes the Python value: a real passes as
    a real (Python writes its repr), a blob as text_value's hex."""
    return (
        f"CASE typeof({v}) WHEN 'text' THEN {v} WHEN 'integer' THEN CAST({v} AS TEXT) WHEN 'null' THEN '' "
        f"WHEN 'real' THEN {v} ELSE lower(hex({v})) END"
    )


def _numeric_sql(v: str) -> str:
    return f"CASE typeof({v}) WHEN 'integer' THEN CAST({v} AS TEXT) WHEN 'null' THEN '' WHEN 'real' THEN {_decimal_sql(v)} END"


def _key_sql(v: str) -> str:
    return f"CASE typeof({v}) WHEN 'integer' THEN CAST({v} AS TEXT) END"


def _converter_key(decltype: str) -> str:
    # as the sqlite3 module picks a converter for PARSE_DECLTYPES: the declared type up to '(' or a blank
    return decltype.split("(")[0].split(" ")[0].upper()


def _renderer(decltype: str) -> Callable[[str], str] | None:
    """The SQL that writes a column's values as write_csv would, or None if there is none."""
    converter = sqlite3.converters.get(_converter_key(decltype)) if decltype else None
    renderers: dict[Callable[[bytes], object] | None, Callable[[str], str]] = {
        None: _text_sql,
        sql._convert_decimal: _numeric_sql,
        sql._convert_date: _date_sql,
        sql._convert_datetime: _datetime_sql,
    }
    return renderers.get(converter)


def _sqlite_csv_body(
    driver: sqlite3.Connection, q: Callable[[str], str], relation: Relation
) -> sql.CsvBody | None:
    """A CSV writer for a SQLite table or view ordered by integer keys, or None for a relation of one
    column, or a column type with a converter this does not know (`q` quotes a name).

    It writes what write_csv writes, byte for byte, three times as fast: SQLite turns each value into
    the UTF-8 text the csv module would write for the Python value (dates and exact decimals as
    text_value writes them, see the *_sql functions), and each batch of rows is joined into lines
    without a Python step per value. A batch holding a field the csv module would quote is quoted
    field by field here; a batch holding a value SQLite could not render (NULL in its place: text in a
    NUMERIC column, an invalid date …) is read again, typed, and written by the csv module.

    One statement reads every row, ordered as the plain SELECT is. Reading a batch again needs its keys
    (the primary key, or a view's first column) to be integers that rise strictly: while they do, a
    key range names exactly that batch's rows; from the first batch where they do not (a duplicate, a
    NULL, a text key), the rest is read by the plain SELECT from the last key written on.
    """
    names = relation.columns
    if len(names) < 2:  # a lone empty field is written as "" by the csv module
        return None
    name = q(relation.name)
    info = [r for r in driver.execute(f"PRAGMA table_xinfo({name})").fetchall() if r[-1] != 1]  # not hidden
    if [r[1] for r in info] != names:
        return None
    known = [_renderer(r[2]) for r in info]
    renderers = [r for r in known if r is not None]
    keys = [names.index(c) for c in relation.key]
    if len(renderers) < len(known) or any(renderers[k] not in (_text_sql, _numeric_sql) for k in keys):
        return None
    exprs = [(_key_sql if i in keys else render)(q(n)) for i, (n, render) in enumerate(zip(names, renderers))]
    key_cols = ", ".join(q(names[k]) for k in keys)
    row_key = f"({key_cols})" if len(keys) > 1 else key_cols
    marks = ", ".join("?" * len(keys))
    param = f"({marks})" if len(keys) > 1 else marks
    fast = f"SELECT {', '.join(exprs)} FROM {name} ORDER BY {key_cols}"
    plain = f"SELECT {', '.join(map(q, names))} FROM {name}"
    after, upto = f"{row_key} > {param}", f"{row_key} <= {param}"
    ncols = len(names)

    def keys_of(batch: list[tuple]) -> list[tuple]:
        if len(keys) == 1:  # the usual case, without a generator a row
            return [(int(v),) for v in map(operator.itemgetter(keys[0]), batch)]
        return [tuple(int(row[k]) for k in keys) for row in batch]

    def typed_csv(where: str, params: tuple) -> Iterator[tuple[bytes, int]]:
        driver.text_factory = factory
        cur = driver.execute(f"{plain}{where} ORDER BY {key_cols}", params)
        while batch := cur.fetchmany(BATCH_ROWS):
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(_text_rows(batch))
            yield text.getvalue().encode("utf-8"), len(batch)

    factory = driver.text_factory

    def write(out: sql.ByteSink) -> Iterator[int]:
        # One snapshot for every statement, as one SELECT would have: SQLite keeps a read transaction
        # open while a statement is unfinished, and this one (two rows at least) stays unfinished.
        # (The read-only connection's authorizer allows no BEGIN.)
        snapshot = driver.execute("SELECT 1 FROM sqlite_master, (SELECT 1 UNION ALL SELECT 2)")
        snapshot.fetchone()
        driver.text_factory = bytes
        rows = driver.execute(fast)
        last: tuple | None = None  # the key of the last row written
        try:
            while batch := rows.fetchmany(BATCH_ROWS):
                try:
                    batch_keys = keys_of(batch)
                except (TypeError, ValueError):  # a NULL or text key: not a key range
                    batch_keys = None
                if batch_keys is None or (last is not None and batch_keys[0] <= last) or not all(
                    map(operator.lt, batch_keys, batch_keys[1:])
                ):
                    where, params = (" WHERE " + after, last) if last is not None else ("", ())
                    for chunk, n in typed_csv(where, params):
                        out.write(chunk)
                        yield n
                    return
                body: bytes | None
                try:
                    body = b"\n".join(map(b",".join, batch))
                except TypeError:  # a real (Python writes its repr) or a value SQLite did not render
                    body = None
                if body is not None and (
                    body.count(b"\n") != len(batch) - 1
                    or body.count(b",") != (ncols - 1) * len(batch)
                    or any(c in body for c in CSV_SPECIAL_CHARS if c not in b",\n")
                ):
                    body = None
                if body is None:
                    if any(v is None for r in batch for v in r):
                        where = f" WHERE {upto}" if last is None else f" WHERE {after} AND {upto}"
                        params = batch_keys[-1] if last is None else last + batch_keys[-1]
                        body = b"".join(b for b, _ in typed_csv(where, params))[:-1]
                        driver.text_factory = bytes
                    else:
                        body = b"\n".join(b",".join(map(_csv_field, r)) for r in batch)
                out.write(body + b"\n")
                yield len(batch)
                last = batch_keys[-1]
        finally:
            driver.text_factory = factory
            rows.close()
            snapshot.close()

    return write


def _csv_field(v: bytes | float) -> bytes:
    """One field of SQLite's text as the csv module writes it (QUOTE_MINIMAL); a real as its repr."""
    if isinstance(v, float):
        return repr(v).encode()
    if any(c in v for c in CSV_SPECIAL_CHARS):
        return b'"' + v.replace(b'"', b'""') + b'"'
    return v



# --- PostgreSQL: CSV lines made by the server -------------------------------------------------------


def _pg_field(t: Kind | None, v: str, special: bytes = CSV_SPECIAL) -> tuple[str, str | None] | None:
    """SQL for a column's text as write_csv writes its Python value (NULL: empty), and SQL that is true
    where it cannot make it (the row is then written from its values); None for a type it does not know."""
    kind = t.name if t else None
    if kind == "bool":
        return f"CASE WHEN {v} THEN 'True' WHEN NOT {v} THEN 'False' END", None
    if kind == "int":
        return f"{v}::text", None
    if kind == "decimal":
        # Decimal.normalize() rounds to 28 digits: longer numbers are written from their values
        return f"trim_scale({v})::text", f"length(trim_scale(abs({v}))::text) > 29"
    dates = f"NOT ({v} >= '0001-01-01' AND {v} < '10000-01-01')"  # Python's dates end at 9999 and begin at 1
    if kind == "datetime" and t is not None and not t.timezone:
        fraction = f"CASE WHEN extract(microseconds FROM {v})::bigint % 1000000 <> 0 THEN to_char({v}, '.US') END"
        return f"to_char({v}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || coalesce({fraction}, '')", dates
    if kind == "date":
        return f"to_char({v}, 'YYYY-MM-DD')", dates
    if kind == "text":
        quote = " OR ".join(f"strpos({v}, chr({c})) > 0" for c in special)
        return f"CASE WHEN {quote} THEN '\"' || replace({v}, '\"', '\"\"') || '\"' ELSE {v} END", None
    return None


def _pg_value(t: Kind | None, s: str | None) -> str:
    """A value's text from PostgreSQL as write_csv writes the Python value psycopg makes of it."""
    kind = t.name if t else None
    if s is None:
        return ""
    if kind == "bool":
        return str(s == "true")
    if kind == "decimal":
        return decimal_text(Decimal(s))
    if kind == "datetime":
        return dt.datetime.fromisoformat(s).isoformat()
    if kind == "date":
        return dt.date.fromisoformat(s).isoformat()
    return s


def _postgresql_csv_body(
    driver: psycopg.Connection[Any], q: Callable[[str], str], relation: Relation, crlf: bool = False
) -> sql.CsvBody | None:
    """A CSV writer for a PostgreSQL table or view whose columns are integers, exact decimals, text,
    dates, timestamps or booleans, or None otherwise (and before PostgreSQL 13, which lacks trim_scale,
    or when the connection's client encoding is not UTF-8: the lines are passed on as they come). `crlf`: lines end in CRLF and fields holding a carriage return are quoted, as `--excel` writes them.

    The server writes each row as the CSV line write_csv would write (see _pg_field), its line end
    included, and streams the lines with `COPY (SELECT line …) TO STDOUT (FORMAT binary)`: a line
    arrives as it is (COPY's text format would escape every line break inside a quoted field), in a
    message of its own after a field count and a length, which a slice strips; a batch of lines is
    joined in one call, without a Python string a line. (COPY's own CSV differs from the csv
    module's: it quotes empty strings and carriage returns.) A row the server cannot write (see
    _pg_field) comes as a NULL line with its values as JSON text in a second column, and is written from
    them by the csv module; where no column can need that, the statement has the line alone.
    """
    columns = relation.columns
    psycopg2 = _is_psycopg2(driver)
    version, encoding = _pg_server(driver) if psycopg2 else (driver.info.server_version, driver.info.encoding)
    if len(columns) < 2 or version < 130000 or encoding not in ("utf-8", "UTF8"):
        return None
    found = [_pg_field(t, q(c), CSV_SPECIAL_CRLF if crlf else CSV_SPECIAL) for c, t in zip(columns, relation.kinds)]
    fields = [f for f in found if f is not None]
    if len(fields) < len(found):
        return None
    terminator = "\r\n" if crlf else "\n"
    # concat() writes NULL as nothing, in one call for the row
    line = "concat(" + ", ',', ".join(f for f, _ in fields) + f", {_pg_text(terminator)})"
    flags = [flag for _, flag in fields if flag]
    values = ""
    if flags:
        line = f"CASE WHEN {' OR '.join(flags)} THEN NULL ELSE {line} END"
        each = ", ".join(f"{q(c)}::text" for c in columns)
        values = f", CASE WHEN archive_csv_line IS NULL THEN json_build_array({each})::text END"

    def statement() -> str:
        """The SELECT of the lines; asked only by the body that is written (the CSV's or the --excel one's)."""
        source = q(relation.name)
        with driver.cursor() as cursor:
            cursor.execute("SELECT relkind = 'v' FROM pg_class WHERE oid = to_regclass(%s)", (source,))
            view = cursor.fetchone()
            if view is not None and view[0]:  # (no row: dropped meanwhile, and the COPY below says so)
                # A view is computed once, then written: inlined, each of its columns would be computed again
                # for every place the line names it (v_fact's `restated`, a subquery: 4 s instead of 1.7 s).
                source = f"(SELECT * FROM {source} OFFSET 0) AS archive_view"
        return (
            f"SELECT archive_csv_line{values} "
            f"FROM (SELECT {line} AS archive_csv_line, * FROM {source}) AS s ORDER BY {', '.join(map(q, relation.key))}"
        )

    kinds = relation.kinds
    # A row's message: the field count (2 bytes), then each field's length (4 bytes; -1 for NULL) and bytes.
    # With the JSON column, a row written by the server ends in that column's NULL.
    line_of = operator.itemgetter(slice(6, -4 if flags else None))

    def from_values(batch: list[Any]) -> bytes:  # (memoryviews from psycopg, bytes from psycopg2)
        import json

        text = io.StringIO()
        writer = csv.writer(text, lineterminator=terminator)
        for row in batch:
            if row[2:6] == _PG_NULL:
                writer.writerow([_pg_value(t, s) for t, s in zip(kinds, json.loads(bytes(row[10:])))])
            else:
                text.write(bytes(line_of(row)).decode("utf-8"))
        return text.getvalue().encode("utf-8")

    def lines(batch: list[Any], first: bool) -> bytes:
        """A batch of COPY's row messages as CSV lines (the first batch begins with the file header, the
        last may end with the trailer)."""
        if first:  # the file header comes before the first row: signature, flags, extension's length
            head = batch[0]
            batch[0] = head[_PG_HEADER + int.from_bytes(head[_PG_HEADER - 4:_PG_HEADER], "big"):]
        if batch[-1] == _PG_TRAILER:  # the end: a field count of -1
            batch.pop()
        if flags and any(map(operator.eq, repeat(_PG_NULL), map(_NULL_LINE, batch))):
            return from_values(batch)
        return b"".join(map(line_of, batch))

    def write(out: sql.ByteSink) -> Iterator[int]:
        # COPY streams the rows without a round trip per batch, and the server plans the statement for
        # all its rows (a cursor plans for the first tenth: nested loops where COPY hashes and sorts).
        copy = f"COPY ({statement()}) TO STDOUT (FORMAT binary)"
        if psycopg2:
            yield from _psycopg2_copy(driver, copy, lines, out)
            return
        with driver.cursor() as cursor, cursor.copy(copy) as copied:
            rows: Iterator[memoryview] = iter(copied)  # type: ignore[arg-type]  # (psycopg's Buffer: memoryviews here)
            first = True
            while batch := list(islice(rows, BATCH_ROWS)):
                body = lines(batch, first)
                first = False
                out.write(body)
                yield len(batch)

    return write


def _is_psycopg2(driver: object) -> bool:
    return type(driver).__module__.startswith("psycopg2")


def _pg_server(driver: Any) -> tuple[int, str]:
    """A psycopg2 connection's server version and client encoding ('UTF8'), as psycopg's info gives them."""
    return driver.server_version, driver.encoding


def _psycopg2_copy(driver: Any, copy: str, lines: Callable[[list[bytes], bool], bytes], out: sql.ByteSink) -> Iterator[int]:
    """COPY's row messages through psycopg2's copy_expert, which reads them in C and hands each to a
    `write` (here: a batch's list, written out as lines when full); the batches' sizes once it is done
    (copy_expert cannot stop part way to yield them)."""
    batch: list[bytes] = []
    written: list[int] = []

    def flush() -> None:
        out.write(lines(batch, not written))
        written.append(len(batch))  # (lines() took the header and the trailer off)
        batch.clear()

    def write(message: bytes) -> None:
        batch.append(message)
        if len(batch) == BATCH_ROWS:
            flush()

    with driver.cursor() as cursor:
        cursor.copy_expert(copy, SimpleNamespace(write=write))
    if batch:
        flush()
    yield from written


_PG_HEADER = 19  # PGCOPY\n\377\r\n\0, flags (4 bytes), the header extension's length (4 bytes)
_PG_TRAILER = b"\xff\xff"
_PG_NULL = b"\xff\xff\xff\xff"
_NULL_LINE = operator.itemgetter(slice(2, 6))  # the first field's length


def _pg_text(s: str) -> str:
    """A PostgreSQL string literal of `s` (line ends)."""
    return "E'" + s.encode("unicode_escape").decode("ascii") + "'"


def _postgresql_excel_body(driver: psycopg.Connection[Any], q: Callable[[str], str], relation: Relation) -> sql.CsvBody | None:
    return _postgresql_csv_body(driver, q, relation, crlf=True)


@contextmanager
def open_rows(
    url: str, name: str | None = None, query: str | None = None, timeout: float | None = sql.DEFAULT_TIMEOUT,
    csv: bool = False,
) -> Iterator[sql.Rows]:
    """Rows of the table or view `name` (never cut off), or of the read-only `query` (stopped after
    `timeout` seconds), on the archive at `url`. `csv`: the caller writes CSV (write_csv), so on PostgreSQL
    a relation whose lines the server writes is read through psycopg2 when it is installed (its import is
    a fifth of psycopg's, and its COPY reads in C); its Rows are then to be written by their csv_body or
    excel_body alone."""
    if (name is None) == (query is None):
        raise ExportUnavailable("give a table or view name, or --query, not both")
    if query is not None:
        with sql.query(url, query, timeout) as rows:
            yield rows
        return
    assert name is not None  # given exactly one of name and query, and not the query
    parts = readdb.url_parts(url)
    scheme = parts[0] if parts else ""
    if parts is not None and scheme == "sqlite":
        lite = sql.sqlite_readonly_connect(parts[-1])
        with _driver_rows(lite, name, sqlite3.Error, sqlite_relation, _sqlite_csv_body, lite.cursor) as rows:
            yield rows
    elif scheme == "postgresql+psycopg":
        pg2 = readdb.psycopg2_connect(*parts[1:]) if csv and parts is not None else None
        if pg2 is not None and not isinstance(pg2, Exception):  # (refused: psycopg says why, below)
            import psycopg2

            with _driver_rows(pg2, name, psycopg2.Error, postgresql_relation, _postgresql_csv_body,
                              lambda: pg2.cursor(name="archive_export"), _postgresql_excel_body) as rows:
                lines = rows.csv_body is not None
                if lines:
                    yield rows
            if lines:
                return
            # a column the server cannot write as CSV text: the rows are read through psycopg, as before
        import psycopg

        pg = readdb.psycopg_connect(url)
        pg.read_only = True
        # a server-side cursor streams the rows. (The statement is the archive's own, on a name found in the
        # catalog: it needs none of the temporary login that guards `archive sql`.)
        server_side = lambda: pg.cursor(name="archive_export")  # noqa: E731
        with _driver_rows(
            pg, name, psycopg.Error, postgresql_relation, _postgresql_csv_body, server_side, _postgresql_excel_body
        ) as rows:
            yield rows
    else:
        with sql.readonly_connection(url) as conn:
            yield _relation_rows(conn, name)


@contextmanager
def _driver_rows(
    conn: DriverConnection,
    name: str,
    errors: type[Exception],
    read_relation: Callable[[DriverConnection, str], Relation],
    csv_body: Callable[[DriverConnection, Callable[[str], str], Relation], sql.CsvBody | None],
    cursor: Callable[[], sqlite3.Cursor | psycopg.ServerCursor[Any]],
    excel_body: Callable[[DriverConnection, Callable[[str], str], Relation], sql.CsvBody | None] | None = None,
) -> Iterator[sql.Rows]:
    """The rows of table or view `name` on a read-only DB-API connection (closed when done), its columns
    from the catalog (`read_relation`), typed as the driver types them (SQLite's by archive.sql's
    converters); the driver's `errors` become QueryFailed, as on the SQLAlchemy path."""
    try:
        relation = read_relation(conn, name)
        columns, key = ", ".join(map(quoted, relation.columns)), ", ".join(map(quoted, relation.key))

        def rows() -> Iterator[tuple]:  # started when first read: a fast CSV export never reads it
            with closing(cursor()) as cur:
                cur.execute(f"SELECT {columns} FROM {quoted(name)} ORDER BY {key}")
                while batch := cur.fetchmany(BATCH_ROWS):
                    yield from batch

        excel = excel_body(conn, quoted, relation) if excel_body else None
        yield sql.Rows(relation.columns, rows(), relation.kinds, csv_body(conn, quoted, relation), excel)
    except errors as exc:
        raise sql.driver_failure(exc) from exc
    finally:
        conn.close()  # a transaction (PostgreSQL's read-only one) ends with it


# --- values ---------------------------------------------------------------------------------------


def decimal_text(v: Decimal) -> str:
    """An exact decimal without exponent or trailing zeros: 20000.0000000000 -> 20000, 58.20 -> 58.2."""
    return format(v.normalize(), "f")


def _portable(v: object, decimal: Callable[[Decimal], object]) -> object:
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return decimal(v)
    if isinstance(v, bytes):
        return v.hex()
    return v


def text_value(v: object) -> object:
    """A value for CSV and the terminal: ISO 8601 dates, exact decimals, empty for null."""
    return "" if v is None else _portable(v, decimal_text)


def json_value(v: object) -> object:
    """A value for JSON: ISO 8601 dates, decimals as numbers (as strings beyond 15 digits)."""
    return _portable(v, decimal_number)


# --- writers --------------------------------------------------------------------------------------


def _batches(rows: Iterator[tuple]) -> Iterator[list[tuple]]:
    it = iter(rows)
    while batch := list(islice(it, BATCH_ROWS)):
        yield batch


# Values the csv module writes as text_value would (None as empty): columns holding only these pass as they are.
_PLAIN = frozenset({int, float, str, bool, type(None)})


def _text_rows(batch: list[tuple]) -> Iterator[tuple]:
    """A batch with text_value applied, column by column, to the columns that hold anything else.

    Converting value by value was two thirds of a CSV export; most columns of the archive are
    numbers and text, which the csv module writes the same way itself."""
    columns: list[Sequence[object]] = list(zip(*batch))
    for i, values in enumerate(columns):
        if not _PLAIN.issuperset(map(type, values)):
            columns[i] = list(map(text_value, values))
    return zip(*columns)


class _Transcoded:
    """A binary file that takes UTF-8 and writes `encoding` (the fast routes write whole lines)."""

    def __init__(self, out: sql.ByteSink, encoding: str):
        self.out, self.encoding = out, encoding

    def write(self, data: bytes) -> int:
        return self.out.write(data.decode("utf-8").encode(self.encoding))


def write_csv(rows: sql.Rows, out: BinaryIO, encoding: str = "utf-8", bom: bool = False) -> Iterator[int]:
    """The rows as CSV in `encoding`; a character the encoding cannot write is one clear error."""
    try:
        yield from _write_csv(rows, out, encoding, bom)
    except UnicodeEncodeError as exc:
        raise EncodingRefused(exc, encoding) from None


def _write_csv(rows: sql.Rows, out: BinaryIO, encoding: str, bom: bool) -> Iterator[int]:
    fast = rows.excel_body if bom else rows.csv_body
    if fast is not None:
        sink: sql.ByteSink = out if codecs.lookup(encoding).name == "utf-8" else _Transcoded(out, encoding)
        header = io.StringIO()
        csv.writer(header, lineterminator="\r\n" if bom else "\n").writerow(rows.columns)
        sink.write(("\ufeff" if bom else "").encode("utf-8") + header.getvalue().encode("utf-8"))
        yield from fast(sink)
        return
    text = io.TextIOWrapper(out, encoding=encoding, newline="", write_through=True)
    if bom:
        text.write("\ufeff")
    w = csv.writer(text, lineterminator="\r\n" if bom else "\n")
    w.writerow(rows.columns)
    for batch in _batches(rows.rows):
        w.writerows(_text_rows(batch))
        yield len(batch)
    text.flush()
    text.detach()


def write_jsonl(rows: sql.Rows, out: BinaryIO) -> Iterator[int]:
    import json

    for batch in _batches(rows.rows):
        lines = (
            json.dumps({c: json_value(v) for c, v in zip(rows.columns, r)}, ensure_ascii=False) + "\n" for r in batch
        )
        out.write("".join(lines).encode("utf-8"))
        yield len(batch)


def _require(fmt: str) -> ModuleType:
    module, extra = EXTRAS[fmt]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ExportUnavailable(f"{fmt} export needs {module}: pip install 'archive[{extra}]'") from exc


EXACT_DECIMAL = (38, 10)


def _arrow_type(pa: ModuleType, kind: Kind | None) -> pyarrow.DataType | None:
    """The Arrow type for a column's Kind (None: infer from the values)."""
    if kind is None:
        return None
    if kind.name == "decimal":
        return pa.decimal128(kind.precision or EXACT_DECIMAL[0], kind.scale if kind.scale is not None else EXACT_DECIMAL[1])
    return {
        "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "datetime": pa.timestamp("us"), "date": pa.date32(),
        "time": pa.time64("us"), "text": pa.string(), "binary": pa.binary(),
    }[kind.name]


def _inferred_type(pa: ModuleType, values: list[object]) -> pyarrow.DataType:
    sample = next((v for v in values if v is not None), None)
    for py, arrow in (
        (bool, pa.bool_()),
        (int, pa.int64()),
        (float, pa.float64()),
        (Decimal, pa.decimal128(*EXACT_DECIMAL)),
        (dt.datetime, pa.timestamp("us")),
        (dt.date, pa.date32()),
        (bytes, pa.binary()),
    ):
        if isinstance(sample, py):
            return arrow
    return pa.string()


def _arrow_column(pa: ModuleType, values: list[Any], arrow_type: pyarrow.DataType) -> pyarrow.Array:
    if pa.types.is_string(arrow_type):
        values = [None if v is None else str(v) for v in values]
    elif pa.types.is_decimal(arrow_type):
        quantum = Decimal(1).scaleb(-arrow_type.scale)
        values = [None if v is None else Decimal(v).quantize(quantum) for v in values]
    return pa.array(values, type=arrow_type)


def write_parquet(rows: sql.Rows, out: BinaryIO) -> Iterator[int]:
    pa = _require("parquet")
    import pyarrow.parquet as pq

    known = [_arrow_type(pa, t) for t in rows.types] if rows.types else [None] * len(rows.columns)
    writer = None
    for batch in _batches(rows.rows):
        columns = list(zip(*batch))
        if writer is None:
            # Types a query does not declare are inferred from the first batch; all-null ones become text.
            schema = pa.schema(
                [pa.field(c, t or _inferred_type(pa, list(v))) for c, t, v in zip(rows.columns, known, columns)]
            )
            writer = pq.ParquetWriter(out, schema)
        arrays = [_arrow_column(pa, list(v), f.type) for v, f in zip(columns, schema)]
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        yield len(batch)
    if writer is None:
        schema = pa.schema([pa.field(c, t or pa.string()) for c, t in zip(rows.columns, known)])
        writer = pq.ParquetWriter(out, schema)
    writer.close()


XLSX_MAX_CHARS = 32767  # Excel's limit for one cell
XLSX_MAX_ROWS = 1_048_575  # data rows per sheet under Excel's 1,048,576 (one is the header)


def write_xlsx(rows: sql.Rows, out: BinaryIO, warn: Callable[[str], None] = lambda _m: None) -> Iterator[int]:
    xlsxwriter = _require("xlsx")
    # constant_memory writes each row out as it goes: memory stays flat, rows must come in order.
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False, "strings_to_urls": False})
    header = book.add_format({"bold": True})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    datetime_fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheets, n, truncated = 0, XLSX_MAX_ROWS, 0
    for batch in _batches(rows.rows):
        for r in batch:
            if n == XLSX_MAX_ROWS:  # a sheet is full (or none yet): rows go on in the next one
                sheets += 1
                sheet = book.add_worksheet("data" if sheets == 1 else f"data{sheets}")
                sheet.write_row(0, 0, rows.columns, header)
                n = 0
            n += 1
            for c, v in enumerate(r):
                if v is None:
                    continue
                if isinstance(v, dt.datetime):
                    sheet.write_datetime(n, c, v, datetime_fmt)
                elif isinstance(v, dt.date):
                    sheet.write_datetime(n, c, v, date_fmt)
                elif isinstance(v, Decimal):
                    sheet.write_number(n, c, float(v))
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    sheet.write_number(n, c, v)
                else:
                    s = str(v)
                    if len(s) > XLSX_MAX_CHARS:
                        truncated += 1
                        s = s[:XLSX_MAX_CHARS]
                    sheet.write_string(n, c, s)
        yield len(batch)
    if sheets == 0:
        book.add_worksheet("data").write_row(0, 0, rows.columns, header)
    book.close()
    if truncated:
        warn(f"{truncated} cells longer than Excel's {XLSX_MAX_CHARS} characters were cut; use csv or parquet for them")
    if sheets > 1:
        warn(f"more rows than one Excel sheet holds: written to {sheets} sheets (data, data2, …)")


# A format's name → its writer, called as writer(rows, out, encoding, excel, warn); each takes what it uses.
WRITERS: dict[str, Callable[[sql.Rows, BinaryIO, str, bool, Callable[[str], None]], Iterator[int]]] = {
    "csv": lambda rows, out, encoding, excel, _warn: write_csv(rows, out, encoding=encoding, bom=excel),
    "jsonl": lambda rows, out, _encoding, _excel, _warn: write_jsonl(rows, out),
    "parquet": lambda rows, out, _encoding, _excel, _warn: write_parquet(rows, out),
    "xlsx": lambda rows, out, _encoding, _excel, warn: write_xlsx(rows, out, warn),
}
FORMATS = tuple(WRITERS)


def export(
    rows: sql.Rows,
    fmt: str,
    out: BinaryIO,
    *,
    encoding: str = "utf-8",
    excel: bool = False,
    warn: Callable[[str], None] = lambda _m: None,
) -> Iterator[int]:
    """Write `rows` to `out` in `fmt`, yielding the number of rows written after each batch."""
    utf8 = codecs.lookup(encoding).name == "utf-8"
    if fmt == "csv":
        if excel and not utf8:
            raise ExportUnavailable("--excel writes UTF-8 with a BOM; it cannot be combined with --encoding " + encoding)
    elif not utf8 or excel:
        raise ExportUnavailable("--encoding and --excel apply to csv only")
    if fmt not in WRITERS:
        raise ExportUnavailable(f"unknown format {fmt}")
    return WRITERS[fmt](rows, out, encoding, excel, warn)


@contextmanager
def destination(path: str | None) -> Iterator[BinaryIO]:
    """stdout, or a file that appears only when the export finished (a failed one leaves nothing)."""
    import os
    import sys

    if not path:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    import tempfile  # (and random: not needed for stdout)

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".export-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; an export is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
