"""The write floor: the very rows the loader inserted, inserted again with nothing but the driver.

While the loader writes, `Capture` records every INSERT it sends to the driver (table, columns,
parameters) — whatever tables it writes, search index tables included — and the harness spools them
to disk, one record per file. The floors
replay the spool into a fresh database with the same schema (indexes and triggers included), one
transaction per file as the loader must: SQLite with `executemany` in WAL mode, PostgreSQL with COPY.
Fresh databases hand out the same ids in the same order, so the replayed foreign keys hold.
"""

from __future__ import annotations

import pickle
import re
import sqlite3
import time
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from archive import db, searchindex

INSERT = re.compile(r"^\s*INSERT INTO\s+\"?(\w+)\"?\s*\(([^)]*)\)\s*VALUES", re.IGNORECASE)
# A file's rows: per table in first-written order, the column names and the rows as tuples.
FileRows = list[tuple[str, tuple[str, ...], list[tuple]]]


class Capture:
    """Records every INSERT sent to SQLite through `engine()`'s connections, at the driver: whatever
    path a statement takes to get there, until `take()` hands the calls over."""

    def __init__(self) -> None:
        calls: list[tuple[str, object, bool]] = []
        self.calls = calls

        class Cursor(sqlite3.Cursor):
            def execute(self, sql, parameters=()):
                if sql.lstrip()[:6].upper() == "INSERT":
                    calls.append((sql, parameters, False))
                return super().execute(sql, parameters)

            def executemany(self, sql, seq_of_parameters):
                if sql.lstrip()[:6].upper() == "INSERT":
                    if not isinstance(seq_of_parameters, list):
                        seq_of_parameters = list(seq_of_parameters)
                    calls.append((sql, seq_of_parameters, True))
                return super().executemany(sql, seq_of_parameters)

        class Connection(sqlite3.Connection):
            def cursor(self, factory=Cursor):
                return super().cursor(factory)

        self.factory = Connection

    def engine(self, url: str) -> Engine:
        return db.make_engine(url, connect_args={"factory": self.factory})

    def take(self) -> FileRows:
        calls = self.calls[:]
        self.calls.clear()
        return normalise(calls)


def normalise(calls: list[tuple[str, object, bool]]) -> FileRows:
    """Captured INSERT calls to rows per table, each row over every column the table was written with.

    Rows keep the order they were written in (ids depend on it); a column a statement left out
    (SQLAlchemy omits NULLs in bulk inserts) is NULL in the row.
    """
    tables: dict[str, tuple[list[str], list[dict]]] = {}
    for statement, params, many in calls:
        m = INSERT.match(statement)
        if not m:
            raise ValueError(f"cannot read captured statement {statement[:80]!r}")
        table = m.group(1)
        cols = [c.strip().strip('"') for c in m.group(2).split(",")]
        # executemany hands a list of rows; insertmanyvalues hands one flat tuple even when "many"
        batches = params if many and params and isinstance(params[0], (tuple, list)) else [params]
        cols_seen, rows = tables.setdefault(table, ([], []))
        cols_seen.extend(c for c in cols if c not in cols_seen)
        for flat in batches:
            flat = tuple(flat)
            # a multi-row VALUES statement carries its rows' parameters one after another
            for k in range(0, len(flat), len(cols)):
                rows.append(dict(zip(cols, flat[k : k + len(cols)])))
    return [(t, tuple(cols), [tuple(r.get(c) for c in cols) for r in rows]) for t, (cols, rows) in tables.items()]


def spool_write(fh, rows: FileRows) -> None:
    pickle.dump(rows, fh, protocol=pickle.HIGHEST_PROTOCOL)


def spool_read(path: Path) -> Iterator[FileRows]:
    with open(path, "rb") as fh:
        while True:
            try:
                yield pickle.load(fh)
            except EOFError:
                return


def fresh_schema(url: str) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()


class SqliteFloor:
    """A fresh migrated SQLite file that takes one file's rows at a time with raw executemany."""

    def __init__(self, db_path: Path):
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        fresh_schema(f"sqlite:///{db_path}")
        self.con = sqlite3.connect(db_path, isolation_level=None)
        # The same settings the archive's engine uses: WAL, NORMAL sync, foreign keys checked.
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
            self.con.execute(f"PRAGMA {pragma}")
        self.sql: dict[tuple[str, tuple[str, ...]], str] = {}

    def insert(self, rows: FileRows) -> float:
        """Insert one file's rows in one transaction; return the seconds it took."""
        start = time.perf_counter()
        self.con.execute("BEGIN IMMEDIATE")
        for table, cols, values in rows:
            key = (table, cols)
            if key not in self.sql:
                self.sql[key] = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            self.con.executemany(self.sql[key], values)
        self.con.execute("COMMIT")
        return time.perf_counter() - start

    def close(self) -> None:
        self.con.close()


def postgres_search_rows(rows: FileRows) -> FileRows:
    """The captured SQLite rows with the FTS5 index rows (rowid, token text) turned into PostgreSQL's
    `search_doc` rows (doc_key, tsvector literal, lossy), made exactly as the loader makes them there
    (archive.searchindex), so that the COPY floor writes the same search index the loader does."""
    out: FileRows = []
    for table, cols, values in rows:
        if table == "search_fts":
            key, tokens = cols.index("rowid"), cols.index("tokens")
            docs = [(row[key], *searchindex._tsvector(row[tokens].split(" ") if row[tokens] else [])) for row in values]
            out.append(("search_doc", ("doc_key", "tokens", "lossy"), docs))
        else:
            out.append((table, cols, values))
    return out


class PostgresFloor:
    """A fresh migrated PostgreSQL database that takes one file's rows at a time with COPY."""

    def __init__(self, url: str):
        import psycopg

        fresh_schema(url)
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.con = psycopg.connect(conninfo)
        self.tables = set(table_counts(url))
        # Rows captured for a table PostgreSQL does not have cannot be copied: they are left out, and
        # said so (none are, since the FTS5 rows become search_doc rows).
        self.skipped: set[str] = set()

    def insert(self, rows: FileRows) -> float:
        # the tsvector literals are made before the clock starts: the floor is the engine's part alone
        rows = postgres_search_rows(rows)
        start = time.perf_counter()
        with self.con.transaction(), self.con.cursor() as cur:
            for table, cols, values in rows:
                if table not in self.tables:
                    self.skipped.add(table)
                    continue
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
        return time.perf_counter() - start

    def close(self) -> None:
        self.con.close()


def table_counts(url: str) -> dict[str, int]:
    """Rows in every table of a database (the schema's and any other), to prove a floor wrote the same."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
            return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}
    finally:
        engine.dispose()
