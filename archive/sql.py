"""Read-only SQL on every engine: one statement, checked, run on a connection that cannot write.

The parse check (check_statement) is only the friendly first message: a parser and a server can
disagree about quotes and comments. The engine itself is the boundary:
- one statement by protocol: PostgreSQL through the extended query protocol (every statement
  prepared), MariaDB without CLIENT_MULTI_STATEMENTS; a string holding two is refused by the server;
- a login that can only read: SQLite opened `mode=ro` with `query_only` and an authorizer (mode=ro
  alone still lets ATTACH, VACUUM INTO and PRAGMA writable_schema through); on PostgreSQL and MariaDB
  a read-only transaction, and, when the URL's user could read or write server files or run programs
  (a superuser, FILE), a temporary login that may only SELECT (archive.grants.reader_url);
- a time limit the SQL cannot lift: statement_timeout / max_statement_time, and a watchdog that
  cancels the query at the deadline (a session setting can be changed by the statement itself);
  SQLite's progress handler.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sqlite3
import time
from contextlib import contextmanager
from decimal import Decimal

from archive.readdb import ReadError, open_sqlite_readonly, url_parts

from archive.errors import QueryError

TYPE_CHECKING = False  # `archive export NAME` imports neither typing nor threading (session 8)
if TYPE_CHECKING:
    import threading
    from typing import Any, Callable, Iterator, Protocol

    import pymysql.connections
    from sqlalchemy import Connection, CursorResult, Engine
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import ConnectionPoolEntry

    from archive.catalog import Kind

# SQLAlchemy, sqlparse and grants are imported by the functions that use them: exporting a named table
# or view runs on the DB-API driver alone (archive.export), and importing SQLAlchemy would be most of it.


class QueryRejected(QueryError):
    """A statement the read-only SQL surface refuses to run."""


class QueryFailed(QueryError):
    """The database could not run a read-only statement (syntax, missing table, a write it refused)."""


DEFAULT_TIMEOUT = 30.0  # seconds: `archive sql` and `export --query` unless --timeout says otherwise
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
    import sqlparse

    parsed = sqlparse.parse(statement)[0]
    kind = parsed.get_type()
    if kind != "UNKNOWN":
        return kind  # sees through WITH: `WITH x AS (…) DELETE …` is a DELETE
    token = parsed.token_first(skip_cm=True, skip_ws=True)
    return token.normalized.upper() if token is not None else ""


# Names of functions that read the database server's files, copy them into large objects or reach other
# servers: refused here only for a clear message. What stops them is the login the query runs as
# (archive.grants.reader_url), since a name can be escaped (U&"…") or built inside a string (query_to_xml).
OUTSIDE_FUNCTIONS = frozenset(
    "pg_read_file pg_read_binary_file pg_ls_dir pg_stat_file pg_ls_logdir pg_ls_waldir pg_ls_tmpdir "
    "pg_ls_archive_statusdir lo_import lo_export lo_from_bytea lo_put dblink dblink_exec dblink_connect "
    "pg_file_write pg_file_rename pg_file_unlink load_file sys_exec sys_eval load_extension".split()
)

# MySQL/MariaDB run the text of /*! … */ and /*M! … */ comments as SQL; a parser sees only a comment.
EXECUTABLE_COMMENT = re.compile(r"/\*M?!")


def check_statement(sql: str) -> str:
    """The one statement in `sql` (trailing `;` dropped), or QueryRejected saying why not."""
    import sqlparse

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
    from archive import grants

    return grants.driver_sql(connection, statement)


# --- SQLite: a read-only connection with an authorizer -------------------------------------------

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


def _authorize(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
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


class TimeLimit:
    """The longest a read-only statement may run, from its start to its last row; None: no limit."""

    def __init__(self, seconds: float | None = None):
        self.seconds = seconds if seconds and seconds > 0 else None
        self.deadline: float | None = None
        self.mechanism = "time limit"
        self.fired = False
        self._timer: threading.Timer | None = None

    def start(self, cancel: Callable[[], None] | None = None) -> None:
        if self.seconds is None:
            return
        self.deadline = time.monotonic() + self.seconds
        if cancel is not None:  # a watchdog outside the SQL's reach: the statement may change its session
            import threading

            self._timer = threading.Timer(self.seconds, self._fire, (cancel,))
            self._timer.daemon = True
            self._timer.start()

    def _fire(self, cancel: Callable[[], None]) -> None:
        self.fired = True
        try:
            cancel()
        except Exception:  # the statement finished meanwhile, or the server is gone: nothing to stop
            pass

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def message(self) -> str:
        return (
            f"stopped by the time limit of {self.seconds:g} s ({self.mechanism}): "
            "give --timeout SECONDS to allow longer (0: no limit)"
        )


class TimeLimitExceeded(QueryFailed):
    """The statement ran past its time limit and was stopped."""


def sqlite_readonly_connect(path: str, limit: TimeLimit | None = None) -> sqlite3.Connection:
    """A connection to the SQLite file at `path` that can only read, whatever SQL it is given (a file that
    cannot be read: archive.readdb.ReadError)."""
    # mode=ro, and immutable in a folder that cannot hold a WAL index (see archive.readdb)
    conn = open_sqlite_readonly(path, detect_types=sqlite3.PARSE_DECLTYPES, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA query_only = 1")
    conn.set_authorizer(_authorize)
    if limit is not None and limit.seconds is not None:
        limit.mechanism = "SQLite progress handler"
        # called every 10,000 virtual-machine steps (well under a millisecond): non-zero interrupts
        conn.set_progress_handler(lambda: 1 if limit.expired() else 0, 10_000)
    return conn


def _refuse_multi_statements(dbapi_conn: pymysql.connections.Connection, _record: ConnectionPoolEntry) -> None:
    from pymysql.constants import CLIENT

    # Without this flag the server takes one statement per query: `SELECT 1; DROP …` is a syntax error.
    if dbapi_conn.client_flag & CLIENT.MULTI_STATEMENTS:
        raise QueryRejected("the database URL turns on multi-statements (client_flag): archive sql refuses it")


def _readonly_engine(url: str, limit: TimeLimit) -> Engine:
    from sqlalchemy import create_engine, pool

    from archive.db import DatabaseError, make_engine, parse_url

    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            raise DatabaseError("archive sql needs a SQLite file, not an in-memory database")
        return create_engine("sqlite://", creator=lambda: sqlite_readonly_connect(path, limit), poolclass=pool.NullPool)
    if backend == "postgresql":
        # prepare_threshold=0: every statement is prepared, so it goes by the extended query protocol,
        # in which the server refuses a string holding more than one statement.
        return make_engine(url, poolclass=pool.NullPool, connect_args={"prepare_threshold": 0})
    engine = make_engine(url, poolclass=pool.NullPool)
    if backend in ("mysql", "mariadb"):
        from sqlalchemy import event

        event.listen(engine, "connect", _refuse_multi_statements)
        # Every transaction of this session, the implicit one included, is read-only.
        event.listen(engine, "connect", lambda c, _r: c.cursor().execute("SET SESSION TRANSACTION READ ONLY"))
    return engine


LIMIT_KEY = "archive_time_limit"


@contextmanager
def readonly_connection(url: str, timeout: float | None = None) -> Iterator[Connection]:
    """A connection to the archive at `url` on which every write fails; rolled back when done.

    Statements run on it (execute) stop after `timeout` seconds; None or 0: no limit."""
    from sqlalchemy.exc import DBAPIError

    from archive import grants

    limit = TimeLimit(timeout)
    try:
        with grants.reader_url(url) as (reader, temporary):
            engine = _readonly_engine(reader, limit)
            try:
                try:
                    conn = engine.connect()
                except DBAPIError as exc:
                    if temporary:
                        raise QueryRejected(
                            "this login may reach the server's files, so archive sql runs queries as a temporary "
                            f"read-only login, and the server refused it ({_reason(exc, limit)}): connect as a role "
                            "without those rights (archive db grant-readonly makes one on PostgreSQL)"
                        ) from None
                    raise
                with conn:
                    conn.info[LIMIT_KEY] = limit
                    if conn.dialect.name == "postgresql":
                        conn = conn.execution_options(postgresql_readonly=True)
                    try:
                        yield conn
                    finally:
                        limit.stop()
                        conn.rollback()
            finally:
                engine.dispose()
    except grants.ReaderUnavailable as exc:
        raise QueryRejected(str(exc)) from None
    except DBAPIError as exc:
        raise QueryFailed(_reason(exc, limit)) from exc


def _start_limit(conn: Connection, limit: TimeLimit) -> None:
    """Start the clock: the engine's own limit for the statement, and a watchdog that cancels it."""
    if limit.seconds is None:
        return
    driver = conn.connection.driver_connection
    assert driver is not None  # reading conn.connection revalidates it: a live DB-API connection
    ms = math.ceil(limit.seconds * 1000)
    if conn.dialect.name == "postgresql":
        limit.mechanism = "PostgreSQL statement_timeout"
        driver.execute("SELECT set_config('statement_timeout', %s, false)", (f"{ms}ms",))
        cancel = getattr(driver, "cancel_safe", driver.cancel)
        limit.start(cancel)
    elif conn.dialect.name in ("mysql", "mariadb"):
        limit.mechanism = "MariaDB max_statement_time"
        with driver.cursor() as cur:
            cur.execute("SET SESSION max_statement_time = %s", (limit.seconds,))
        thread_id = driver.thread_id()
        engine = conn.engine

        def kill() -> None:  # from a connection of its own: this one is busy with the statement
            other = engine.raw_connection()
            try:
                other.cursor().execute(f"KILL QUERY {int(thread_id)}")
            finally:
                other.close()

        limit.start(kill)
    else:
        limit.start()


def _code(orig: object) -> int | None:
    """PyMySQL's error number: its errors are (code, message)."""
    args: tuple[object, ...] = getattr(orig, "args", ())
    return args[0] if len(args) == 2 and isinstance(args[0], int) else None


def _timed_out(exc: DBAPIError | Exception, limit: TimeLimit | None) -> bool:
    """Whether the time limit, not the statement, ended it (`exc`: SQLAlchemy's error or the driver's)."""
    orig = getattr(exc, "orig", exc)
    return limit is not None and limit.seconds is not None and (
        limit.fired
        or getattr(orig, "sqlstate", None) == "57014"  # PostgreSQL: canceled (statement_timeout, or the watchdog)
        or _code(orig) in (1969, 1317)  # MariaDB: max_statement_time exceeded, query interrupted (KILL QUERY)
        or (isinstance(orig, sqlite3.OperationalError) and str(orig) == "interrupted")
    )


def _reason(exc: DBAPIError | Exception, limit: TimeLimit | None = None) -> str:
    if limit is not None and _timed_out(exc, limit):
        return limit.message()
    orig = getattr(exc, "orig", exc)
    args: tuple[object, ...] = getattr(orig, "args", ())
    code = _code(orig)
    if code is not None:  # PyMySQL: (code, message)
        return str(args[1]).strip().splitlines()[0]
    reason = str(orig or exc).strip().splitlines()[0]
    if reason == "not authorized":  # what SQLite says when the authorizer denies
        return "refused: the statement would write, attach or change settings, and archive sql is read-only"
    return reason


def driver_failure(exc: Exception) -> QueryFailed:
    """A DB-API driver's error (sqlite3's, psycopg's) as the one-line QueryFailed the SQLAlchemy path raises."""
    return QueryFailed(_reason(exc))


if TYPE_CHECKING:

    class ByteSink(Protocol):
        """Where a fast CSV writer writes its bytes: a binary file, or archive.export's transcoding wrapper."""

        def write(self, data: bytes, /) -> int: ...

    # csv_body(out) -> the number of rows written after each batch (see Rows)
    CsvBody = Callable[[ByteSink], Iterator[int]]


class Rows:
    """Column names and a stream of rows (tuples) from one read-only statement."""

    def __init__(
        self,
        columns: list[str],
        rows: Iterator[tuple],
        types: list[Kind | None] | None = None,
        csv_body: CsvBody | None = None,
        excel_body: CsvBody | None = None,
    ):
        self.columns = columns
        self.rows = rows
        self.types = types  # each column's archive.catalog.Kind when known (a named table or view), else None
        # csv_body(out) -> batches written: the same CSV body (UTF-8, no header) by a faster route, when
        # the rows' source has one (archive.export: a SQLite table of integers and text)
        self.csv_body = csv_body
        self.excel_body = excel_body  # the same with CRLF line ends, for `--excel` (archive.export: PostgreSQL)


def execute(conn: Connection, statement: str) -> Rows:
    """Run one checked read-only `statement` on `conn`, streaming its rows, within the connection's time limit."""
    from sqlalchemy.exc import DBAPIError

    limit = conn.info.get(LIMIT_KEY) or TimeLimit()
    # yield_per implies a server-side cursor, which PostgreSQL opens only for SELECT-like statements.
    options = {"yield_per": BATCH_ROWS} if first_keyword(statement) in STREAMABLE else {}
    try:
        _start_limit(conn, limit)
        result = conn.exec_driver_sql(driver_sql(conn, statement), execution_options=options)
    except DBAPIError as exc:
        raise _failure(exc, limit) from exc
    if not result.returns_rows:
        result.close()
        return Rows([], iter(()))
    return Rows(list(result.keys()), _guarded(result, limit))


def _failure(exc: DBAPIError | Exception, limit: TimeLimit) -> QueryFailed:
    return TimeLimitExceeded(limit.message()) if _timed_out(exc, limit) else QueryFailed(_reason(exc, limit))


def _guarded(result: CursorResult[Any], limit: TimeLimit) -> Iterator[tuple]:
    from sqlalchemy.exc import DBAPIError

    try:
        # a batch at a time: the driver's fetchmany, where iterating asked it for one row at a time
        for batch in result.partitions(BATCH_ROWS):
            yield from map(tuple, batch)
            if limit.expired():  # between batches the engine is idle, and its own limit is not running
                raise TimeLimitExceeded(limit.message())
    except DBAPIError as exc:
        raise _failure(exc, limit) from exc


@contextmanager
def query(url: str, sql: str, timeout: float | None = DEFAULT_TIMEOUT) -> Iterator[Rows]:
    """Check `sql`, then run it read-only on the archive at `url`, for at most `timeout` seconds."""
    statement = check_statement(sql)
    path = _sqlite_file(url)
    if path is not None:
        with _sqlite_query(path, statement, timeout) as rows:
            yield rows
        return
    with readonly_connection(url, timeout) as conn:
        yield execute(conn, statement)


def _sqlite_file(url: str) -> str | None:
    """The file of a sqlite:///FILE URL archive.readdb reads; None for any other URL (SQLAlchemy's to read)."""
    try:
        parts = url_parts(url)
    except ReadError:  # an in-memory database: SQLAlchemy's path says what archive sql needs
        return None
    return parts[-1] if parts and parts[0] == "sqlite" else None


def _regexp(pattern: str, value: str | None) -> bool | None:
    return None if value is None else re.search(pattern, value) is not None


@contextmanager
def _sqlite_query(path: str, statement: str, timeout: float | None) -> Iterator[Rows]:
    """`statement` on the sqlite3 driver alone: the same connection, limit and errors as the SQLAlchemy
    path, without importing SQLAlchemy (most of a short query's time)."""
    limit = TimeLimit(timeout)
    conn = sqlite_readonly_connect(path, limit)
    try:
        # the functions SQLAlchemy's SQLite driver adds to every connection, which archive sql offered
        conn.create_function("regexp", 2, _regexp, deterministic=True)
        conn.create_function("floor", 1, math.floor, deterministic=True)
        limit.start()
        cursor = conn.execute(statement)
        if cursor.description is None:
            yield Rows([], iter(()))
        else:
            yield Rows([d[0] for d in cursor.description], _fetched(cursor, limit))
    except (sqlite3.Error, sqlite3.Warning) as exc:  # Warning: more than one statement
        raise _failure(exc, limit) from exc
    finally:
        limit.stop()
        conn.close()


def _fetched(cursor: sqlite3.Cursor, limit: TimeLimit) -> Iterator[tuple]:
    while batch := cursor.fetchmany(BATCH_ROWS):
        yield from batch
        if limit.expired():  # between batches the progress handler is not running
            raise TimeLimitExceeded(limit.message())
