"""Engines for every supported database, and the Alembic commands that build and move the schema."""

from __future__ import annotations

import errno
import io
import os
import sqlite3
import time
from contextlib import contextmanager, redirect_stdout
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterator

from sqlalchemy import Connection, Engine, create_engine, event, pool
from sqlalchemy.engine import URL, make_url

from archive.config import redact_url
from archive.errors import DatabaseError, SchemaError

if TYPE_CHECKING:
    from alembic.config import Config

DRIVER_EXTRAS = {"psycopg": "postgres", "psycopg2": "postgres", "pymysql": "mysql", "mysqldb": "mysql"}
SQLITE_BUSY_TIMEOUT_MS = 60_000


class DiskFull(DatabaseError):
    """The database's disk (or its server's) has no room left: no further file can be stored."""


# How each engine says its disk is full: SQLite's SQLITE_FULL, PostgreSQL's SQLSTATE 53100
# (disk_full), MariaDB/MySQL's ER_DISK_FULL, ER_RECORD_FILE_FULL and errno 28 (ENOSPC).
MYSQL_DISK_FULL = {1021, 1114}


def is_disk_full(exc: BaseException) -> bool:
    """Whether a database error (SQLAlchemy's or the driver's) says the disk is full."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlite_errorname", "").startswith("SQLITE_FULL"):
        return True
    if getattr(orig, "sqlstate", None) == "53100" or getattr(orig, "pgcode", None) == "53100":
        return True
    args = getattr(orig, "args", ())
    if args and args[0] in MYSQL_DISK_FULL:
        return True
    return isinstance(orig, OSError) and orig.errno == errno.ENOSPC or "No space left on device" in str(orig)


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # isolation_level=None lets the "begin" hook issue BEGIN IMMEDIATE itself (pysqlite's own
    # deferred BEGIN would let two writers deadlock on lock upgrade instead of waiting).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys = ON")
    _switch_to_wal(cur)
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _switch_to_wal(cur: sqlite3.Cursor) -> None:
    """WAL mode, once per database file (it is kept in the file). Switching needs the file to itself,
    and SQLite answers "database is locked" at once, without waiting out busy_timeout, when another
    process has it open at that moment (two first loads into a new file): wait and look again."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0] not in ("wal", "memory"):
                cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def parse_url(url: str) -> URL:
    """The URL parsed; a malformed one is a DatabaseError naming it with its password hidden (never a
    traceback, which would show the text)."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseError(f"cannot use database URL {redact_url(url)}: {exc}") from None
    # A certificate file that is not there: the drivers say so with a traceback (PyMySQL's
    # FileNotFoundError) or only once a server asks for it.
    for key in CERTIFICATE_PARAMETERS.intersection(parsed.query):
        given = parsed.query[key]
        for value in [given] if isinstance(given, str) else given:
            if value and value != "system" and not os.path.isfile(value):  # libpq: "system" = the OS store
                raise DatabaseError(f"cannot use database URL {redact_url(url)}: {key} file {value} does not exist")
    return parsed


CERTIFICATE_PARAMETERS = {"ssl_ca", "ssl_cert", "ssl_key", "sslrootcert", "sslcert", "sslkey", "sslcrl"}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine that writes (the loader, migrations, purge): WAL and busy timeout on SQLite, and every
    transaction there takes the write lock at BEGIN; utf8mb4 on MySQL. Readers use make_reader."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    try:
        engine = create_engine(parsed, **kwargs)
    except ModuleNotFoundError as exc:
        extra = DRIVER_EXTRAS.get(parsed.get_driver_name() or "", "postgres" if backend == "postgresql" else "mysql")
        raise DatabaseError(
            f"the driver for {redact_url(url)} is not installed: pip install 'archive[{extra}]'"
        ) from exc
    except Exception as exc:
        raise DatabaseError(f"cannot use database URL {redact_url(url)}: {exc}") from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


# ---------------------------------------------------------------- readers


def sqlite_connect_readonly(path: str, **connect_kwargs: Any) -> sqlite3.Connection:
    """A connection that reads the SQLite file at `path`, never writes or creates it, and never waits for
    a writer (archive.readdb.open_sqlite_readonly: mode=ro, immutable=1 with a warning where no WAL
    index can be made); a file that cannot be read is a readdb.ReadError (a DatabaseError)."""
    from archive.readdb import open_sqlite_readonly

    return open_sqlite_readonly(path, **connect_kwargs)


def _reader_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Transactions are begun by the "begin" hook: a deferred BEGIN takes no lock until the first read,
    # and in WAL mode that read takes a snapshot, not a lock. busy_timeout still covers the moments a
    # reader must wait (a database in rollback-journal mode while a writer commits; WAL recovery).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA query_only = 1")
    cur.close()


def make_reader(url: str, **kwargs: Any) -> Engine:
    """An engine for the commands that only read (stats, show, search, …): it never creates the database,
    never migrates it and never takes the write lock, so it neither waits for a loader nor needs a
    writable file. PostgreSQL and MariaDB read without waiting for writers already; on SQLite see
    sqlite_connect_readonly."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        return make_engine(url, **kwargs)
    path = parsed.database
    if not path or path == ":memory:":
        raise DatabaseError("an in-memory SQLite database holds nothing to read: give a file (--db sqlite:///FILE)")
    kwargs.setdefault("poolclass", pool.QueuePool)  # "sqlite://" alone would mean one in-memory connection per thread
    engine = create_engine("sqlite://", creator=lambda: sqlite_connect_readonly(path, check_same_thread=False), **kwargs)
    event.listen(engine, "connect", _reader_pragmas)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    return engine


def migrations_dir() -> str:
    """The Alembic script folder, whether archive runs from a checkout or an installed package."""
    return str(resources.files("archive.migrations"))


# Alembic is imported where it is used: it is a tenth of a second of every command's start, and
# commands that only read (export, sql, search) never need it.


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config that runs on `connection` (or, without one, on the URL env.py resolves)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", migrations_dir())
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(conn).get_current_revision()


SCHEMA_LOCK = "archive_schema"


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[None]:
    """One schema change at a time across processes (two first loads on an empty server race to create
    the tables). SQLite needs none: BEGIN IMMEDIATE already makes the second wait, then find it done."""
    statements = {
        "postgresql": (f"SELECT pg_advisory_lock(hashtext('{SCHEMA_LOCK}'))", f"SELECT pg_advisory_unlock(hashtext('{SCHEMA_LOCK}'))"),
        "mysql": (f"SELECT GET_LOCK('{SCHEMA_LOCK}', 600)", f"SELECT RELEASE_LOCK('{SCHEMA_LOCK}')"),
        "mariadb": (f"SELECT GET_LOCK('{SCHEMA_LOCK}', 600)", f"SELECT RELEASE_LOCK('{SCHEMA_LOCK}')"),
    }.get(engine.dialect.name)
    if statements is None:
        yield
        return
    lock, unlock = statements
    with engine.connect() as conn:
        if conn.exec_driver_sql(lock).scalar() == 0:  # GET_LOCK timed out (pg_advisory_lock waits for ever)
            raise DatabaseError("another process is changing the schema; try again when it has finished")
        conn.commit()  # the lock is the session's: no transaction needs to stay open while we wait
        try:
            yield
        finally:
            conn.exec_driver_sql(unlock)
            conn.commit()


@contextmanager
def _alembic(engine: Engine) -> Iterator[Config]:
    # Alembic reads the current revision inside the lock, so a process that waited finds the work done.
    with _schema_lock(engine), engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        driver = conn.connection.driver_connection
        assert driver is not None
        if sqlite:
            # SQLite alters a table by rebuilding it (batch mode); with foreign keys enforced, dropping the
            # old copy would cascade-delete every row that refers to it. The pragma can only change outside
            # a transaction: off for the migration, checked before commit, on again afterwards.
            # legacy_alter_table: renaming the rebuilt copy into place must not check the views that name
            # the table (they fail while it is gone, and name it again once the rename is done).
            driver.execute("PRAGMA foreign_keys = OFF")
            driver.execute("PRAGMA legacy_alter_table = ON")
        try:
            with conn.begin():
                yield alembic_config(conn)
                if sqlite and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise DatabaseError(f"the migration would leave {len(broken)} rows pointing nowhere (first: {tuple(broken[0])}); nothing was changed")
        finally:
            if sqlite:
                driver.execute("PRAGMA legacy_alter_table = OFF")
                driver.execute("PRAGMA foreign_keys = ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _alembic(engine) as cfg:
        from alembic import command

        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with _alembic(engine) as cfg:
        from alembic import command

        command.downgrade(cfg, revision)


def history() -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        from alembic import command

        command.history(alembic_config())
    return out.getvalue()


def check(engine: Engine) -> None:
    """Raise SchemaError, saying what differs, when models and the database schema disagree. On a sharded
    coordinator the content tables are views over partitions on the shards: Alembic compares the rest,
    and archive.shard.check the views and each shard's partitions."""
    from archive import shard

    with engine.connect() as conn:
        sharded = shard.is_sharded(conn)
    with _alembic(engine) as cfg:
        from alembic import command
        from alembic.util.exc import AutogenerateDiffsDetected

        if sharded:
            cfg.attributes["views_not_tables"] = shard.CONTENT
        try:
            command.check(cfg)
        except AutogenerateDiffsDetected as exc:
            raise SchemaError(str(exc)) from exc
    if sharded:
        with engine.connect() as conn:
            problems = shard.check(conn)
        if problems:
            raise SchemaError(f"the sharded content tables differ from the models: {'; '.join(problems)}")


def ensure_schema(engine: Engine) -> None:
    """Create the schema on first use; refuse to write to a database left at an older revision."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        upgrade(engine, "head")
        return
    raise SchemaError(
        f"database {redact_url(str(engine.url))} is at revision {current}, not {head}: run 'archive db upgrade'"
    )
