"""Exports: any table, view or read-only query, streamed to CSV, JSON Lines, Parquet or XLSX.

Rows flow from a server-side cursor (or SQLite's lazy cursor) in batches to the writer, so memory does
not grow with the row count. Dates are ISO 8601 in text formats and real dates in Parquet and XLSX;
exact decimals stay exact in text formats and Parquet.
"""

from __future__ import annotations

import codecs
import importlib
import csv
import datetime as dt
import io
import json
import operator
import sqlite3
from contextlib import contextmanager
from decimal import Decimal
from itertools import islice
from typing import BinaryIO, Callable, Iterator

from sqlalchemy import Connection, MetaData, Table, inspect, select, types

from archive import sql
from archive.output import decimal_number

FORMATS = ("csv", "jsonl", "parquet", "xlsx")
BINARY_FORMATS = ("parquet", "xlsx")
EXTRAS = {"parquet": ("pyarrow", "parquet"), "xlsx": ("xlsxwriter", "xlsx")}
BATCH_ROWS = sql.BATCH_ROWS


class UnknownRelation(LookupError):
    """No table or view of that name in the archive."""


class ExportUnavailable(Exception):
    """The export format needs an optional library that is not installed, or options that conflict."""


def relation_names(conn: Connection) -> list[str]:
    insp = inspect(conn)
    return sorted(set(insp.get_table_names()) | set(insp.get_view_names()))


def _relation_rows(conn: Connection, name: str) -> sql.Rows:
    names = relation_names(conn)
    if name not in names:
        raise UnknownRelation(f"no table or view named {name!r}; there are: {', '.join(names)}")
    # the name is a real one; quoting is SQLAlchemy's. Tables its foreign keys name are not needed.
    table = Table(name, MetaData(), autoload_with=conn, resolve_fks=False)
    order = list(table.primary_key.columns) or _model_key(table) or list(table.columns)[:1]
    # Run as plain SQL, so that values arrive as the driver types them on every engine (SQLite's typed by
    # the declared column types, see archive.sql), not through SQLAlchemy's per-dialect converters.
    statement = str(select(table).order_by(*order).compile(dialect=conn.dialect))
    fast = _sqlite_csv_body(conn, table, order) or _postgresql_csv_body(conn, table, order)

    def rows() -> Iterator[tuple]:  # started when first read: a fast CSV export never reads it
        yield from sql.execute(conn, statement).rows

    return sql.Rows([c.name for c in table.columns], rows(), [c.type for c in table.columns], fast)


def _model_key(view: Table) -> list:
    """A view standing in for a model's table (a sharded coordinator's, archive/shard.py): that table's key."""
    from archive.models import Base

    model = Base.metadata.tables.get(view.name)
    return [view.c[c.name] for c in model.primary_key.columns] if model is not None else []


# --- SQLite: CSV from SQLite's own text ------------------------------------------------------------


def _csv_special() -> bytes:
    """The ASCII characters that make this Python's csv module quote a field (or write it otherwise)."""
    special = []
    for c in map(chr, range(128)):
        out = io.StringIO()
        try:
            csv.writer(out, lineterminator="\n").writerow([f"a{c}b", "x"])
        except csv.Error:
            special.append(c)
            continue
        if out.getvalue() != f"a{c}b,x\n":
            special.append(c)
    return "".join(special).encode()


CSV_SPECIAL = _csv_special()  # ',', '"' and '\n' on Python 3.11 (it does not quote a lone '\r')


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
        f"CASE WHEN typeof({v}) = 'text' AND {d} GLOB '{DIGITS * 4}-{DIGITS * 2}-{DIGITS * 2}' AND date({d}) = {d} "
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


def _renderer(decltype: str):
    """The SQL that writes a column's values as write_csv would, or None if there is none."""
    converter = sqlite3.converters.get(_converter_key(decltype)) if decltype else None
    return {
        None: _text_sql,
        sql._convert_decimal: _numeric_sql,
        sql._convert_date: _date_sql,
        sql._convert_datetime: _datetime_sql,
    }.get(converter)


def _sqlite_csv_body(conn: Connection, table: Table, order: list) -> Callable[[BinaryIO], Iterator[int]] | None:
    """A CSV writer for a SQLite table or view ordered by integer keys, or None for another engine, a
    relation of one column, or a column type with a converter this does not know.

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
    columns = list(table.columns)
    if conn.dialect.name != "sqlite" or len(columns) < 2:  # a lone empty field is written as "" by the csv module
        return None
    driver = conn.connection.driver_connection
    q = conn.dialect.identifier_preparer.quote
    name = q(table.name)
    info = [r for r in driver.execute(f"PRAGMA table_xinfo({name})").fetchall() if r[-1] != 1]  # not hidden
    if [r[1] for r in info] != [c.name for c in columns]:
        return None
    renderers = [_renderer(r[2]) for r in info]
    names = [c.name for c in columns]
    keys = [names.index(c.name) for c in order]
    if None in renderers or any(renderers[k] not in (_text_sql, _numeric_sql) for k in keys):
        return None
    exprs = [(_key_sql if i in keys else render)(q(n)) for i, (n, render) in enumerate(zip(names, renderers))]
    key_cols = ", ".join(q(names[k]) for k in keys)
    row_key = f"({key_cols})" if len(keys) > 1 else key_cols
    marks = ", ".join("?" * len(keys))
    param = f"({marks})" if len(keys) > 1 else marks
    fast = f"SELECT {', '.join(exprs)} FROM {name} ORDER BY {key_cols}"
    plain = f"SELECT {', '.join(map(q, names))} FROM {name}"
    after, upto = f"{row_key} > {param}", f"{row_key} <= {param}"
    ncols = len(columns)

    def key_of(row) -> tuple:
        return tuple(int(row[k]) for k in keys)

    def typed_csv(where: str, params: tuple) -> Iterator[tuple[bytes, int]]:
        driver.text_factory = factory
        cur = driver.execute(f"{plain}{where} ORDER BY {key_cols}", params)
        while batch := cur.fetchmany(BATCH_ROWS):
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(_text_rows(batch))
            yield text.getvalue().encode("utf-8"), len(batch)

    factory = driver.text_factory

    def write(out: BinaryIO) -> Iterator[int]:
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
                    batch_keys = list(map(key_of, batch))
                except (TypeError, ValueError):  # a NULL or text key: not a key range
                    batch_keys = None
                if batch_keys is None or (last is not None and batch_keys[0] <= last) or not all(
                    map(operator.lt, batch_keys, batch_keys[1:])
                ):
                    where, params = (" WHERE " + after, last) if last is not None else ("", ())
                    for body, n in typed_csv(where, params):
                        out.write(body)
                        yield n
                    return
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


def _pg_field(t, v: str) -> tuple[str, str | None] | None:
    """SQL for a column's text as write_csv writes its Python value (NULL: empty), and SQL that is true
    where it cannot make it (the row is then written from its values); None for a type it does not know."""
    if isinstance(t, types.Boolean):
        return f"CASE WHEN {v} THEN 'True' WHEN NOT {v} THEN 'False' END", None
    if isinstance(t, types.Integer):
        return f"{v}::text", None
    if isinstance(t, types.Numeric) and not isinstance(t, types.Float):
        # Decimal.normalize() rounds to 28 digits: longer numbers are written from their values
        return f"trim_scale({v})::text", f"length(trim_scale(abs({v}))::text) > 29"
    dates = f"NOT ({v} >= '0001-01-01' AND {v} < '10000-01-01')"  # Python's dates end at 9999 and begin at 1
    if isinstance(t, types.DateTime) and not getattr(t, "timezone", False):
        fraction = f"CASE WHEN extract(microseconds FROM {v})::bigint % 1000000 <> 0 THEN to_char({v}, '.US') END"
        return f"to_char({v}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || coalesce({fraction}, '')", dates
    if isinstance(t, types.Date):
        return f"to_char({v}, 'YYYY-MM-DD')", dates
    if isinstance(t, types.String):
        special = " OR ".join(f"strpos({v}, chr({c})) > 0" for c in CSV_SPECIAL)
        return f"CASE WHEN {special} THEN '\"' || replace({v}, '\"', '\"\"') || '\"' ELSE {v} END", None
    return None


def _pg_value(t, s: str | None) -> str:
    """A value's text from PostgreSQL as write_csv writes the Python value psycopg makes of it."""
    if s is None:
        return ""
    if isinstance(t, types.Boolean):
        return str(s == "true")
    if isinstance(t, types.Integer):
        return s
    if isinstance(t, types.Numeric) and not isinstance(t, types.Float):
        return decimal_text(Decimal(s))
    if isinstance(t, types.DateTime):
        return dt.datetime.fromisoformat(s).isoformat()
    if isinstance(t, types.Date):
        return dt.date.fromisoformat(s).isoformat()
    return s


def _postgresql_csv_body(conn: Connection, table: Table, order: list) -> Callable[[BinaryIO], Iterator[int]] | None:
    """A CSV writer for a PostgreSQL table or view whose columns are integers, exact decimals, text,
    dates, timestamps or booleans, or None otherwise (and before PostgreSQL 13, which lacks trim_scale).

    The server writes each row as the CSV line write_csv would write (see _pg_field), in one COPY
    statement (binary: the lines come unescaped); Python joins the lines of a batch. (COPY's own CSV
    differs from the csv module's: it quotes empty strings and carriage returns.) A row the server cannot write so
    comes with its values as JSON text and is written from them, as write_csv would.
    """
    columns = list(table.columns)
    if conn.dialect.name != "postgresql" or len(columns) < 2 or conn.connection.driver_connection.info.server_version < 130000:
        return None
    q = conn.dialect.identifier_preparer.quote
    fields = [_pg_field(c.type, q(c.name)) for c in columns]
    if None in fields:
        return None
    # concat() writes NULL as nothing, in one call for the row
    line = "concat(" + ", ',', ".join(f for f, _ in fields) + ")"
    flags = [flag for _, flag in fields if flag]
    if flags:
        line = f"CASE WHEN {' OR '.join(flags)} THEN NULL ELSE {line} END"
    values = ", ".join(f"{q(c.name)}::text" for c in columns)
    statement = (
        f"SELECT archive_csv_line, CASE WHEN archive_csv_line IS NULL THEN json_build_array({values})::text END "
        f"FROM (SELECT {line} AS archive_csv_line, * FROM {q(table.name)}) AS s ORDER BY {', '.join(q(c.name) for c in order)}"
    )
    kinds = [c.type for c in columns]

    def write(out: BinaryIO) -> Iterator[int]:
        # COPY streams the rows without a round trip per batch, and the server plans the statement for
        # all its rows (a cursor plans for the first tenth: nested loops where COPY hashes and sorts).
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(
            f"COPY ({statement}) TO STDOUT (FORMAT binary)"
        ) as copy:
            copy.set_types(["text", "text"])
            rows = copy.rows()
            while batch := list(islice(rows, BATCH_ROWS)):
                try:
                    body = "\n".join(map(_first, batch))
                except TypeError:  # a row written from its values
                    text = io.StringIO()
                    writer = csv.writer(text, lineterminator="\n")
                    for line_, row in batch:
                        if line_ is None:
                            writer.writerow([_pg_value(t, s) for t, s in zip(kinds, json.loads(row))])
                        else:
                            text.write(line_ + "\n")
                    body = text.getvalue()[:-1]
                out.write((body + "\n").encode("utf-8"))
                yield len(batch)

    return write


def _first(row):
    return row[0]



@contextmanager
def open_rows(
    url: str, name: str | None = None, query: str | None = None, timeout: float | None = sql.DEFAULT_TIMEOUT
) -> Iterator[sql.Rows]:
    """Rows of the table or view `name` (never cut off), or of the read-only `query` (stopped after
    `timeout` seconds), on the archive at `url`."""
    if (name is None) == (query is None):
        raise ExportUnavailable("give a table or view name, or --query, not both")
    if query is not None:
        with sql.query(url, query, timeout) as rows:
            yield rows
        return
    with sql.readonly_connection(url) as conn:
        yield _relation_rows(conn, name)


# --- values ---------------------------------------------------------------------------------------


def decimal_text(v: Decimal) -> str:
    """An exact decimal without exponent or trailing zeros: 20000.0000000000 -> 20000, 58.20 -> 58.2."""
    return format(v.normalize(), "f")


def _portable(v, decimal: Callable[[Decimal], object]):
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return decimal(v)
    if isinstance(v, bytes):
        return v.hex()
    return v


def text_value(v):
    """A value for CSV and the terminal: ISO 8601 dates, exact decimals, empty for null."""
    return "" if v is None else _portable(v, decimal_text)


def json_value(v):
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
    columns = list(zip(*batch))
    for i, values in enumerate(columns):
        if not _PLAIN.issuperset(map(type, values)):
            columns[i] = list(map(text_value, values))
    return zip(*columns)


class _Transcoded:
    """A binary file that takes UTF-8 and writes `encoding` (the fast routes write whole lines)."""

    def __init__(self, out: BinaryIO, encoding: str):
        self.out, self.encoding = out, encoding

    def write(self, data: bytes) -> int:
        return self.out.write(data.decode("utf-8").encode(self.encoding))


def write_csv(rows: sql.Rows, out: BinaryIO, encoding: str = "utf-8", bom: bool = False) -> Iterator[int]:
    if rows.csv_body is not None and not bom:
        if codecs.lookup(encoding).name != "utf-8":
            out = _Transcoded(out, encoding)
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(rows.columns)
        out.write(header.getvalue().encode("utf-8"))
        yield from rows.csv_body(out)
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
    for batch in _batches(rows.rows):
        lines = (
            json.dumps({c: json_value(v) for c, v in zip(rows.columns, r)}, ensure_ascii=False) + "\n" for r in batch
        )
        out.write("".join(lines).encode("utf-8"))
        yield len(batch)


def _require(fmt: str):
    module, extra = EXTRAS[fmt]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ExportUnavailable(f"{fmt} export needs {module}: pip install 'archive[{extra}]'") from exc


EXACT_DECIMAL = (38, 10)


def _arrow_type(pa, sa_type):
    """The Arrow type for a column's SQLAlchemy type (None: infer from the values)."""
    if sa_type is None or isinstance(sa_type, types.NullType):
        return None
    if isinstance(sa_type, types.Numeric) and not isinstance(sa_type, types.Float):
        if isinstance(sa_type, types.Integer):
            return pa.int64()
        return pa.decimal128(sa_type.precision or EXACT_DECIMAL[0], sa_type.scale if sa_type.scale is not None else EXACT_DECIMAL[1])
    for sa_cls, arrow in (
        (types.Boolean, pa.bool_()),
        (types.Integer, pa.int64()),
        (types.Float, pa.float64()),
        (types.DateTime, pa.timestamp("us")),
        (types.Date, pa.date32()),
        (types.Time, pa.time64("us")),
        (types.String, pa.string()),
        (types.LargeBinary, pa.binary()),
    ):
        if isinstance(sa_type, sa_cls):
            return arrow
    return None


def _inferred_type(pa, values: list):
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


def _arrow_column(pa, values: list, arrow_type):
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
    if fmt == "csv":
        if excel and codecs.lookup(encoding).name != "utf-8":
            raise ExportUnavailable("--excel writes UTF-8 with a BOM; it cannot be combined with --encoding " + encoding)
        return write_csv(rows, out, encoding=encoding, bom=excel)
    if codecs.lookup(encoding).name != "utf-8" or excel:
        raise ExportUnavailable("--encoding and --excel apply to csv only")
    if fmt == "jsonl":
        return write_jsonl(rows, out)
    if fmt == "parquet":
        return write_parquet(rows, out)
    if fmt == "xlsx":
        return write_xlsx(rows, out, warn)
    raise ExportUnavailable(f"unknown format {fmt}")


@contextmanager
def destination(path: str | None) -> Iterator[BinaryIO]:
    """stdout, or a file that appears only when the export finished (a failed one leaves nothing)."""
    import os
    import sys
    import tempfile

    if not path:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
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
