"""Every row a load stores, as text, to compare two checkouts: a speed change must not change output.

`python -m benchmarks.loadcheck OUT DIR [DIR …]` loads the pages under each DIR (2 workers) into a
fresh SQLite database and writes to OUT each file's result and then every table, FTS5's own included,
row for row in column order, with the load's timestamps (loaded_at, seen_at) left out. FTS5's
segments (`search_fts_data`, `search_fts_idx`) are written as what they hold, every token of every
text at its position (fts5vocab's `instance` table), not as their bytes: how the index is cut into
segments depends on how many files each transaction held (the loader commits files in batches,
and commits early when its parser workers fall behind), and those bytes differ from run to run while
what they hold does not. A DIR given as
`DIR=series` is loaded as the series test pages are (article format, newspaper 示例日报, date and
ordinal from the file name). Run it in both checkouts on the same pages and `cmp` the two files.

`python -m benchmarks.loadcheck --url URL OUT DIR [DIR …]` does the same on a fresh database made on
the PostgreSQL server URL names (and dropped after): every table of `public` row for row ordered by
its primary key (search_doc's tsvector as its text), then each sequence's next value.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

STAMPS = ("loaded_at", "seen_at")


def _load(url: str, directories: list[str]) -> list:
    """Load each directory into the (empty) database at `url`; the files' results."""
    from archive import db, loader
    from archive.formats.metadata import Metadata

    engine = db.make_engine(url)
    db.ensure_schema(engine)
    results = []
    for d in directories:
        d, _, kind = d.partition("=")
        options = {}
        if kind == "series":
            options = dict(fmt="article", meta=Metadata(newspaper="示例日报", name_pattern="{date:%Y%m%d}-{ordinal}.txt"))
        results += loader.load_paths(engine, [d], workers=2, **options).results
    engine.dispose()
    return results


def _write_results(fh, results: list) -> None:
    for r in results:
        fh.write(f"{r.status} {r.source_id} {r.format} {r.without_body} {r.message}\n")


def dump_postgresql(out: Path, url: str, directories: list[str]) -> str:
    from sqlalchemy import create_engine

    from benchmarks.load import fresh_database

    with fresh_database(url, Path(tempfile.gettempdir()), "loadcheck") as target:
        results = _load(target, directories)
        engine = create_engine(target)
        with engine.connect() as conn, open(out, "w", encoding="utf-8") as fh:
            _write_results(fh, results)
            tables = [r[0] for r in conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
            for t in tables:
                _dump_pg_table(conn, fh, t)
            sequences = [r[0] for r in conn.exec_driver_sql("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")]
            fh.write(f"## sequences {len(sequences)}\n")
            for s in sequences:
                value, called = conn.exec_driver_sql(f'SELECT last_value, is_called FROM "{s}"').one()
                fh.write(f"{s} next {value + 1 if called else value}\n")
        engine.dispose()
    return f"{len(results)} files, {len(tables)} tables, {len(sequences)} sequences -> {out}"


def _dump_pg_table(conn, fh, t: str) -> None:
    """One table's rows in column order, ordered by its primary key (search_doc's tsvector as text)."""
    cols = [r[0] for r in conn.exec_driver_sql(
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = 'public' AND table_name = '{t}' ORDER BY ordinal_position"
    )]
    key = [r[0] for r in conn.exec_driver_sql(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        f"WHERE i.indrelid = 'public.{t}'::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)"
    )]
    shown = ", ".join("NULL" if c in STAMPS else f'"{c}"::text' if t == "search_doc" and c == "tokens" else f'"{c}"' for c in cols)
    order = ", ".join(f'"{c}"' for c in key) or ", ".join(str(i + 1) for i in range(len(cols)))
    rows = conn.exec_driver_sql(f'SELECT {shown} FROM "{t}" ORDER BY {order}').fetchall()
    fh.write(f"## {t} {cols} key {key} {len(rows)}\n")
    fh.writelines(repr(tuple(row)) + "\n" for row in rows)


def dump(out: Path, directories: list[str]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "check.db"
        results = _load(f"sqlite:///{path}", directories)
        con = sqlite3.connect(path)
        con.execute("CREATE VIRTUAL TABLE temp.search_fts_instance USING fts5vocab(main, search_fts, instance)")
        segments = ("search_fts_data", "search_fts_idx")
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") if r[0] not in segments]
        tables.append("temp.search_fts_instance")
        with open(out, "w", encoding="utf-8") as fh:
            _write_results(fh, results)
            for t in tables:
                schema, _, name = t.rpartition(".")
                cols = [r[1] for r in con.execute(f"PRAGMA {schema or 'main'}.table_info('{name}')")]
                shown = ", ".join("NULL" if c in STAMPS else f'"{c}"' for c in cols)
                order = ", ".join(str(i + 1) for i in range(len(cols)))
                rows = con.execute(f"SELECT {shown} FROM {t} ORDER BY {order}").fetchall()
                fh.write(f"## {t} {cols} {len(rows)}\n")
                fh.writelines(repr(row) + "\n" for row in rows)
        con.close()
    return f"{len(results)} files, {len(tables)} tables -> {out}"


if __name__ == "__main__":
    if sys.argv[1] == "--url":
        print(dump_postgresql(Path(sys.argv[3]), sys.argv[2], sys.argv[4:]))
    else:
        print(dump(Path(sys.argv[1]), sys.argv[2:]))
