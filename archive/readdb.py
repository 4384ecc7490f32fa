"""A lean read-only connection straight on the DB-API driver (sqlite3, psycopg2 or psycopg, pymysql), for
the interactive commands (stats, show, search, articles, metrics, issues).

Importing SQLAlchemy alone takes ~280 ms, fourteen times the interpreter's start; these commands run a
handful of small SELECTs and print them. They run the same SQL text through this module instead, and
SQLAlchemy is imported only by the commands that write, migrate or export. A URL this module does not
read exactly (another driver, query parameters, an unusual password) returns None from `connect`, and
the caller uses SQLAlchemy as before.

On PostgreSQL it reads through psycopg2 when psycopg2 is importable: `import psycopg` (psycopg 3) alone
costs about 140 CPU-ms (its package imports asyncio, importlib.metadata, ctypes and every adapter),
`import psycopg2` about 25. The rows, the values and the error messages are the same through either
(tests/test_pg_read.py); everything else (the writer, migrations, export, sql, serve) uses psycopg 3.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import sys

from archive.config import redact_url
from archive.errors import DatabaseError, SchemaError

# A read command imports neither typing nor pathlib nor urllib.parse (~5 ms of its start, session 7):
# the types below are for mypy alone, and the paths are os.path's.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator, Literal, Protocol, TypeAlias, TypedDict, Unpack

    import psycopg
    import pymysql.connections
    from sqlalchemy import TextClause

    # The DB-API connections a Reader holds (psycopg2 and PyMySQL ship no types: their connections are
    # Any to mypy).
    DriverConnection: TypeAlias = sqlite3.Connection | psycopg.Connection[Any] | pymysql.connections.Connection

    class Bind(Protocol):
        """What the readers run SQL on: this module's Reader, or a SQLAlchemy session or connection."""

        def execute(self, statement: Any, parameters: Any = ..., /) -> Any: ...

    class SQLiteOptions(TypedDict, total=False):
        """The sqlite3.connect options open_sqlite_readonly passes on (archive.sql's typed, any-thread connection)."""

        detect_types: int
        check_same_thread: bool
        isolation_level: Literal["DEFERRED", "EXCLUSIVE", "IMMEDIATE"] | None

# The Alembic head this code reads, known without importing Alembic (a test checks it against the
# migration scripts: a new migration must update it).
HEAD_REVISION = "0012_search_hashsize"
SQLITE_BUSY_TIMEOUT_MS = 60_000
# SQLite's answers when a read-only connection cannot make or join the WAL index (the -shm file).
NO_WAL_INDEX = {"SQLITE_READONLY_DIRECTORY", "SQLITE_READONLY_CANTINIT", "SQLITE_CANTOPEN"}
# SQLAlchemy's bind-parameter syntax in text(): `:name`, not `::cast` and not a time such as 12:30.
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


class ReadError(DatabaseError):
    """The database cannot be read: missing, not an archive, at another revision, or the driver failed."""


class SQL(str):
    """Statement text written with `:name` parameters, as SQLAlchemy's text() takes it."""

    text = property(str.__str__)


def text(statement: str) -> Any:
    """SQL text that runs on this module's Reader and on SQLAlchemy's sessions and connections alike:
    SQLAlchemy's text() when SQLAlchemy is loaded (a SQLAlchemy bind exists only then), else a plain SQL
    string, so that the readers need not import SQLAlchemy to name their statements."""
    if "sqlalchemy" in sys.modules:
        from sqlalchemy import text as sa_text

        return sa_text(statement)
    return SQL(statement)


class _Dialect:
    def __init__(self, name: str):
        self.name = name


class Result:
    """The rows of one statement, with the few accessors of SQLAlchemy's Result the readers use."""

    def __init__(self, rows: list[tuple[Any, ...]]):
        self._rows = rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def one(self) -> tuple[Any, ...]:
        if len(self._rows) != 1:
            raise ReadError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> list[Any]:
        return [r[0] for r in self._rows]


class Reader:
    """One read-only DB-API connection. `dialect.name` is SQLAlchemy's name for the engine, so code that
    asks a bind which engine it is on (searchquery.engine_kind) works on either."""

    def __init__(self, conn: DriverConnection, dialect: str, url: str, errors: type[Exception], typed_floats: bool = False):
        self.conn, self.dialect, self.url, self._errors = conn, _Dialect(dialect), url, errors
        self._pyformat = dialect != "sqlite"
        self._typed_floats = typed_floats

    def execute(self, statement: str | TextClause, params: dict[str, Any] | None = None) -> Result:
        sql = statement if isinstance(statement, str) else statement.text  # SQL text, or SQLAlchemy's TextClause
        params = dict(params or {})
        if self._pyformat:  # psycopg and pymysql take %(name)s; a literal % is written %%
            sql = _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))
            if self._typed_floats:
                params = {k: _Float8(v) if isinstance(v, float) else v for k, v in params.items()}
        else:  # SQLAlchemy stores a SQLite date as its ISO text; sqlite3's own date adapter is deprecated
            params = {k: v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v for k, v in params.items()}
        try:
            cur = self.conn.cursor()
            try:
                cur.execute(str(sql), params)
                return Result(cur.fetchall() if cur.description is not None else [])
            finally:
                cur.close()
        except self._errors as exc:
            raise _failed(self.url, exc) from exc

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Float8:
    """A float parameter as psycopg2 sends it, typed float8 as psycopg 3 binds it: psycopg2 alone would
    write a bare literal (0.1), which PostgreSQL reads as numeric, and a float in a result would come
    back a Decimal. (psycopg2 interpolates parameters into the text: it calls __conform__, then getquoted.)"""

    def __init__(self, value: float):
        self.value = value

    def __conform__(self, _protocol: object) -> _Float8:
        return self

    def getquoted(self) -> bytes:
        return f"'{self.value!r}'::float8".encode()  # repr: exact, and 'nan', 'inf', '-inf' are float8 input too


def _failed(url: str, exc: Exception) -> ReadError:
    """The driver's error as one line, password hidden (a driver may give an empty message)."""
    return ReadError(f"{redact_url(url)}: {str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__}")


def connect(url: str) -> Reader | None:
    """A Reader on the database at `url` checked to be at HEAD_REVISION, or None where the URL needs
    SQLAlchemy to be read exactly as it means."""
    parts = url_parts(url)
    if parts is None:
        return None
    scheme, user, password, host, port, database = parts
    if scheme == "sqlite":
        reader = Reader(sqlite_connect_readonly(database), "sqlite", url, sqlite3.Error)
    elif scheme == "postgresql+psycopg":
        reader = postgresql_reader(url, user, password, host, port, database)
    else:  # mysql+pymysql / mariadb+pymysql
        import pymysql

        kwargs: dict[str, str | int | None] = dict(
            user=user or None, password=password or "", host=host or "localhost", database=database or None, charset="utf8mb4"
        )
        if port:
            kwargs["port"] = int(port)
        try:
            conn = pymysql.connect(**kwargs)
        except pymysql.Error as exc:
            raise _failed(url, exc) from exc
        reader = Reader(conn, scheme.split("+")[0], url, pymysql.Error)
    try:
        check_revision(reader)
    except BaseException:
        reader.close()
        raise
    return reader


# How long the psycopg2 attempt may take to connect when PGCONNECT_TIMEOUT does not say: past it psycopg 3
# tries (with its own 130 s), so a server that does not answer costs at most this much more.
PSYCOPG2_CONNECT_TIMEOUT = 10


def postgresql_reader(url: str, user: str, password: str, host: str, port: str, database: str) -> Reader:
    """A Reader on PostgreSQL: through psycopg2 when it is importable (a fifth of psycopg 3's import
    time), else through psycopg 3. A connection psycopg2 cannot make is tried again through psycopg 3,
    whose error (or connection) is then the one used, so a failure reads the same whichever driver is
    installed. Either way the command runs in one read-only, repeatable-read transaction (one snapshot,
    as SQLite's deferred transaction reads), never committed."""
    pg2 = psycopg2_connect(user, password, host, port, database)
    if pg2 is not None and not isinstance(pg2, Exception):
        import psycopg2

        return Reader(pg2, "postgresql", url, psycopg2.Error, typed_floats=True)
    failure = pg2  # psycopg 3 connects again below: its error is the one shown
    try:
        import psycopg
    except ImportError as exc:
        if failure is not None:
            raise _failed(url, failure) from failure
        raise DatabaseError(f"the driver for {redact_url(url)} is not installed: pip install 'archive[postgres]'") from exc
    conn = psycopg_connect(url)
    conn.isolation_level, conn.read_only = psycopg.IsolationLevel.REPEATABLE_READ, True
    return Reader(conn, "postgresql", url, psycopg.Error)


def psycopg2_connect(user: str, password: str, host: str, port: str, database: str) -> Any:
    """A psycopg2 connection in one read-only, repeatable-read transaction (never committed), the psycopg2
    error that refused it, or None when psycopg2 cannot be imported (not installed, or a build that cannot
    load its libpq)."""
    try:
        import psycopg2
    except ImportError:
        return None
    params = {k: v for k, v in dict(user=user, password=password, host=host, port=port, dbname=database).items() if v}
    if "PGCONNECT_TIMEOUT" not in os.environ:
        params["connect_timeout"] = str(PSYCOPG2_CONNECT_TIMEOUT)
    try:
        pg2 = psycopg2.connect(**params)
    except psycopg2.Error as exc:
        return exc
    pg2.set_session(isolation_level="REPEATABLE READ", readonly=True)  # sent with the first BEGIN
    return pg2


def psycopg_connect(url: str) -> psycopg.Connection[Any]:
    """A psycopg connection to the postgresql+psycopg `url` (one url_parts reads)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    parts = url_parts(url)
    if parts is None:
        raise ReadError(f"{redact_url(url)}: not a URL archive.readdb reads")
    _scheme, user, password, host, port, database = parts
    kwargs = {k: v for k, v in dict(user=user, password=password, host=host, port=port, dbname=database).items() if v}
    try:
        return psycopg.connect(make_conninfo("", **kwargs))
    except psycopg.Error as exc:
        raise _failed(url, exc) from exc


def url_parts(url: str) -> tuple[str, str, str, str, str, str] | None:
    """(scheme, user, password, host, port, database) of a URL this module reads, else None."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    if scheme == "sqlite":
        if "?" in rest or not rest.startswith("/"):
            return None  # sqlite:// (memory) and URI options: SQLAlchemy's reading of them
        path = rest[1:]
        if not path or path == ":memory:":
            raise ReadError("an in-memory SQLite database holds nothing to read: give a file (--db sqlite:///FILE)")
        return scheme, "", "", "", "", path
    if scheme not in ("postgresql+psycopg", "mysql+pymysql", "mariadb+pymysql"):
        return None
    if rest.count("@") > 1 or "?" in rest or "#" in rest or "[" in rest:
        return None  # an unencoded '@' or '?' in a password, query options, IPv6: SQLAlchemy's reading
    from urllib.parse import unquote, urlsplit

    try:
        split = urlsplit(f"//{rest}")
        port = split.port
    except ValueError:
        return None
    database = unquote(split.path[1:]) if split.path.startswith("/") else ""
    return scheme, unquote(split.username or ""), unquote(split.password or ""), split.hostname or "", str(port or ""), database


_warned: set[str] = set()  # files already warned about in this process: one warning line each


def open_sqlite_readonly(path: str, **connect_kwargs: Unpack[SQLiteOptions]) -> sqlite3.Connection:
    """The SQLite file at `path` opened `mode=ro`: never created or written (a file the user may only
    read opens too), and in WAL mode a reader reads the last committed snapshot, never waiting for a
    writer. A folder that cannot hold the WAL index (-shm) is read `immutable=1`, with a one-line
    warning: SQLite then reads the main file alone and trusts nothing to change it. The one opener of
    every read-only SQLite connection (this module's, the SQLAlchemy reader engine's, `archive sql`'s)."""
    if not os.path.isfile(path):
        raise ReadError(f"no SQLite archive at {path}")
    # bytes: a path that is not UTF-8 (os.fsencode gives back its bytes) is percent-escaped exactly
    uri = f"file:{quote_path(os.fsencode(os.path.realpath(path)))}?mode=ro"
    try:
        return _opened(sqlite3.connect(uri, uri=True, **connect_kwargs))
    except sqlite3.DatabaseError as exc:  # not a database, damaged, unreadable, or no WAL index possible
        if getattr(exc, "sqlite_errorname", "") not in NO_WAL_INDEX:
            raise ReadError(f"cannot read {path}: {exc}") from exc
        try:
            conn = _opened(sqlite3.connect(uri + "&immutable=1", uri=True, **connect_kwargs))
        except sqlite3.DatabaseError:
            raise ReadError(f"cannot read {path}: {exc}") from exc
    from pathlib import Path

    file = Path(path)
    if str(file) not in _warned:
        _warned.add(str(file))
        wal = file.with_name(file.name + "-wal")
        unseen = " and the changes in its -wal file are not seen" if wal.exists() and wal.stat().st_size else ""
        print(
            f"warning: {file}: its folder cannot hold SQLite's WAL index (-shm), so it is read as immutable: "
            f"a load running meanwhile is not seen{unseen}",
            file=sys.stderr,
        )
    return conn


# urllib.parse.quote(path_bytes)'s safe bytes: ASCII letters and digits, "_.-~" and "/"
_PATH_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def quote_path(path: bytes) -> str:
    """`path` percent-escaped as urllib.parse.quote escapes it (a test compares them on every byte),
    without importing urllib.parse (with ipaddress) for every SQLite read."""
    return "".join(chr(b) if b in _PATH_SAFE else f"%{b:02X}" for b in path)


def _opened(conn: sqlite3.Connection) -> sqlite3.Connection:
    """`conn` once it has read the schema: SQLite opens lazily, and the first read shows a file that
    cannot be read or a WAL index that cannot be made."""
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except BaseException:
        conn.close()
        raise
    return conn


def sqlite_connect_readonly(path: str) -> sqlite3.Connection:
    """The lean reader's connection: opened as open_sqlite_readonly does, query_only, and one deferred
    transaction for the command, so its statements read one snapshot and take no lock."""
    conn = open_sqlite_readonly(path)
    try:
        conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA query_only = 1")
        conn.isolation_level = None
        conn.execute("BEGIN")
    except BaseException:
        conn.close()
        raise
    return conn


def check_revision(reader: Reader) -> None:
    """Refuse a database that holds no archive, or one at another schema revision than this code's."""
    where = redact_url(reader.url)
    try:
        found = reader.execute("SELECT version_num FROM alembic_version").scalars()
    except ReadError:
        found = None
        if reader.dialect.name == "postgresql":
            reader.conn.rollback()  # the failed statement aborted the transaction
    if not found:
        raise SchemaError(f"database {where} holds no archive yet: load files into it first (archive load)")
    if found[0] != HEAD_REVISION:
        raise SchemaError(f"database {where} is at revision {found[0]}, not {HEAD_REVISION}: run 'archive db upgrade'")
