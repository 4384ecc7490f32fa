"""Read-only SQL on every engine: one statement, checked, run on a connection that cannot write.

Two guards, so that neither alone has to be perfect: the statement is parsed and must be a single
read (SELECT, WITH … SELECT, VALUES, EXPLAIN, SHOW, a read-only PRAGMA); and the connection itself
refuses writes — SQLite opened `mode=ro` with `query_only` and an authorizer (mode=ro alone still lets
ATTACH, VACUUM INTO and PRAGMA writable_schema through), PostgreSQL and MariaDB in a read-only
transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from contextlib import contextmanager
from decimal import Decimal
from typing import Iterator

import sqlparse
from sqlalchemy import Connection, create_engine, pool
from sqlalchemy.exc import DBAPIError

from archive.db import DatabaseError, make_engine, parse_url, sqlite_connect_readonly


class QueryRejected(Exception):
    """A statement the read-only SQL surface refuses to run."""


class QueryFailed(Exception):
    """The database could not run a read-only statement (syntax, missing table, a write it refused)."""


READ_KEYWORDS = ("SELECT", "WITH", "VALUES", "TABLE", "EXPLAIN", "SHOW", "DESCRIBE", "DESC", "PRAGMA")
# Statements the database can start a server-side cursor for (PostgreSQL's DECLARE takes only these).
STREAMABLE = ("SELECT", "WITH", "VALUES", "TABLE")
BATCH_ROWS = 1000

# PRAGMAs that only read: these take a table or index name (or a count) as their argument...
NAME_PRAGMAS = frozenset(
    "table_info table_xinfo table_list index_list index_info index_xinfo foreign_key_list foreign_key_check "
    "integrity_check quick_check".split()
)
# ...and these only read when given no value (`PRAGMA journal_mode = delete` would write).
BARE_PRAGMAS = frozenset(
    "database_list collation_list function_list module_list pragma_list compile_options encoding user_version "
    "application_id schema_version data_version page_count page_size freelist_count journal_mode query_only "
    "writable_schema foreign_keys read_uncommitted".split()
)


def first_keyword(statement: str) -> str:
    parsed = sqlparse.parse(statement)[0]
    kind = parsed.get_type()
    if kind != "UNKNOWN":
        return kind  # sees through WITH: `WITH x AS (…) DELETE …` is a DELETE
    token = parsed.token_first(skip_cm=True, skip_ws=True)
    return token.normalized.upper() if token is not None else ""


# A read-only transaction does not stop a superuser's file and network functions: these read the database
# server's files, copy them into large objects or reach other servers. The sturdier guard is to connect
# as the role `archive db grant-readonly` creates, which may call none of them.
OUTSIDE_FUNCTIONS = frozenset(
    "pg_read_file pg_read_binary_file pg_ls_dir pg_stat_file pg_ls_logdir pg_ls_waldir pg_ls_tmpdir "
    "pg_ls_archive_statusdir lo_import lo_export lo_from_bytea lo_put dblink dblink_exec dblink_connect "
    "pg_file_write pg_file_rename pg_file_unlink load_file sys_exec sys_eval load_extension".split()
)

# MySQL/MariaDB run the text of /*! … */ and /*M! … */ comments as SQL; a parser sees only a comment.
EXECUTABLE_COMMENT = re.compile(r"/\*M?!")


def check_statement(sql: str) -> str:
    """The one statement in `sql` (trailing `;` dropped), or QueryRejected saying why not."""
    if EXECUTABLE_COMMENT.search(sql):
        raise QueryRejected("executable comments (/*! … */) are not allowed: MariaDB and MySQL would run them as SQL")
    statements = [s.strip().rstrip(";").strip() for s in sqlparse.split(sql)]
    statements = [s for s in statements if s and sqlparse.format(s, strip_comments=True).strip()]
    if not statements:
        raise QueryRejected("no SQL statement given")
    if len(statements) > 1:
        raise QueryRejected(f"one statement at a time: found {len(statements)} (remove everything after the first ';')")
    keyword = first_keyword(statements[0])
    if keyword not in READ_KEYWORDS:
        raise QueryRejected(
            f"{keyword or 'this statement'} is not allowed: archive sql only reads ({', '.join(READ_KEYWORDS[:6])}, PRAGMA)"
        )
    tokens = list(sqlparse.parse(statements[0])[0].flatten())
    if any(t.ttype in sqlparse.tokens.Keyword and t.normalized == "INTO" for t in tokens):
        raise QueryRejected("SELECT … INTO is not allowed: it writes a table (PostgreSQL) or a file (MariaDB)")
    for t in tokens:
        name = t.value.strip('"`').lower()
        if name in OUTSIDE_FUNCTIONS and t.ttype in (sqlparse.tokens.Name, sqlparse.tokens.Keyword, sqlparse.tokens.Literal.String.Symbol):
            raise QueryRejected(f"{name} reaches outside the archive (server files, large objects or other servers)")
    return statements[0]


def driver_sql(connection: Connection, statement: str) -> str:
    """`statement` as the DBAPI driver expects it when no parameters are bound (a literal % doubled)."""
    if connection.dialect.paramstyle in ("format", "pyformat"):
        return statement.replace("%", "%%")
    return statement


# --- SQLite: a read-only connection with an authorizer -------------------------------------------

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


def _authorize(action, arg1, arg2, _db, _trigger) -> int:
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        if name in NAME_PRAGMAS or (name in BARE_PRAGMAS and arg2 is None):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _convert_date(b: bytes) -> dt.date:
    return dt.date.fromisoformat(b.decode()[:10])


def _convert_datetime(b: bytes) -> dt.datetime:
    return dt.datetime.fromisoformat(b.decode())


def _convert_decimal(b: bytes) -> Decimal:
    return Decimal(b.decode())


# SQLite keeps dates as text and exact numbers as numbers or text: typed by each column's declared
# type (the views declare theirs), they come back as the same Python types PostgreSQL and MariaDB give.
for _name, _fn in (("DATE", _convert_date), ("DATETIME", _convert_datetime), ("TIMESTAMP", _convert_datetime),
                   ("NUMERIC", _convert_decimal), ("DECIMAL", _convert_decimal)):
    sqlite3.register_converter(_name, _fn)


def sqlite_readonly_connect(path: str) -> sqlite3.Connection:
    """A connection to the SQLite file at `path` that can only read, whatever SQL it is given."""
    # mode=ro, and immutable in a folder that cannot hold a WAL index (see archive.db)
    conn = sqlite_connect_readonly(path, detect_types=sqlite3.PARSE_DECLTYPES, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA query_only = 1")
    conn.set_authorizer(_authorize)
    return conn


def _readonly_engine(url: str):
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            raise DatabaseError("archive sql needs a SQLite file, not an in-memory database")
        return create_engine("sqlite://", creator=lambda: sqlite_readonly_connect(path), poolclass=pool.NullPool)
    engine = make_engine(url, poolclass=pool.NullPool)
    if backend in ("mysql", "mariadb"):
        from sqlalchemy import event

        # Every transaction of this session, the implicit one included, is read-only.
        event.listen(engine, "connect", lambda c, _r: c.cursor().execute("SET SESSION TRANSACTION READ ONLY"))
    return engine


@contextmanager
def readonly_connection(url: str) -> Iterator[Connection]:
    """A connection to the archive at `url` on which every write fails; rolled back when done."""
    engine = _readonly_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(postgresql_readonly=True)
            try:
                yield conn
            finally:
                conn.rollback()
    except DBAPIError as exc:
        raise QueryFailed(_reason(exc)) from exc
    finally:
        engine.dispose()


def _reason(exc: DBAPIError) -> str:
    args = getattr(exc.orig, "args", ())
    if len(args) == 2 and isinstance(args[0], int):  # PyMySQL: (code, message)
        return str(args[1]).strip().splitlines()[0]
    reason = str(exc.orig or exc).strip().splitlines()[0]
    if reason == "not authorized":  # what SQLite says when the authorizer denies
        return "refused: the statement would write, attach or change settings, and archive sql is read-only"
    return reason


class Rows:
    """Column names and a stream of rows (tuples) from one read-only statement."""

    def __init__(self, columns: list[str], rows: Iterator[tuple], types: list | None = None, csv_body=None):
        self.columns = columns
        self.rows = rows
        self.types = types  # SQLAlchemy types when known (a named table or view), else None
        # csv_body(out) -> batches written: the same CSV body (UTF-8, no header) by a faster route, when
        # the rows' source has one (archive.export: a SQLite table of integers and text)
        self.csv_body = csv_body


def execute(conn: Connection, statement: str) -> Rows:
    """Run one checked read-only `statement` on `conn`, streaming its rows."""
    # yield_per implies a server-side cursor, which PostgreSQL opens only for SELECT-like statements.
    options = {"yield_per": BATCH_ROWS} if first_keyword(statement) in STREAMABLE else {}
    try:
        result = conn.exec_driver_sql(driver_sql(conn, statement), execution_options=options)
    except DBAPIError as exc:
        raise QueryFailed(_reason(exc)) from exc
    if not result.returns_rows:
        result.close()
        return Rows([], iter(()))
    return Rows(list(result.keys()), _guarded(result))


def _guarded(result) -> Iterator[tuple]:
    try:
        # a batch at a time: the driver's fetchmany, where iterating asked it for one row at a time
        for batch in result.partitions(BATCH_ROWS):
            yield from map(tuple, batch)
    except DBAPIError as exc:
        raise QueryFailed(_reason(exc)) from exc


@contextmanager
def query(url: str, sql: str) -> Iterator[Rows]:
    """Check `sql`, then run it read-only on the archive at `url`."""
    statement = check_statement(sql)
    with readonly_connection(url) as conn:
        yield execute(conn, statement)
