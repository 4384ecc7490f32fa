"""Checks the durability tests run on a database after it was interrupted, raced or migrated."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from archive import db
from archive.models import Article, Base, Paragraph, Source

ROOT = Path(__file__).parent.parent


def archive(url: str, *args: str, **popen) -> subprocess.Popen:
    """`archive --db URL ARGS…` as a separate process running this checkout's code."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "archive", "--db", url, *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen,
    )


def integrity_problems(url: str) -> list[str]:
    """What is wrong with the database's structure: engine checks, then dangling references."""
    eng = db.make_engine(url)
    problems: list[str] = []
    with eng.connect() as conn:
        if eng.dialect.name == "sqlite":
            result = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            if result != ["ok"]:
                problems += result
            problems += [f"foreign_key_check: {tuple(r)}" for r in conn.exec_driver_sql("PRAGMA foreign_key_check")]
        elif eng.dialect.name == "postgresql":
            problems += [
                f"constraint {r[0]} not validated"
                for r in conn.execute(text("SELECT conname FROM pg_constraint WHERE NOT convalidated"))
            ]
        # Every engine: no row points at a row that is not there (MySQL can have FK checks switched off).
        for table in Base.metadata.sorted_tables:
            for fk in table.foreign_keys:
                parent = fk.column.table
                child_col, parent_col = fk.parent, fk.column
                orphans = conn.scalar(
                    select(func.count())
                    .select_from(table.outerjoin(parent, child_col == parent_col))
                    .where(child_col.is_not(None), parent_col.is_(None))
                )
                if orphans:
                    problems.append(f"{orphans} rows of {table.name}.{child_col.name} point nowhere")
        for table in Base.metadata.sorted_tables:
            insp = inspect(conn)
            keys = [*insp.get_unique_constraints(table.name), *[i for i in insp.get_indexes(table.name) if i["unique"]]]
            for uq in keys:
                cols = [table.c[c] for c in uq["column_names"]]
                dup = conn.scalar(select(func.count()).select_from(select(*cols).group_by(*cols).having(func.count() > 1).subquery()))
                if dup:
                    problems.append(f"{dup} duplicated keys in {table.name}{tuple(uq['column_names'])}")
    eng.dispose()
    return problems


def paragraphs_per_path(url: str) -> dict[str, int]:
    """Paragraph rows per loaded path; a path loaded twice shows up as a count mismatch elsewhere."""
    eng = db.make_engine(url)
    with Session(eng) as s:
        rows = s.execute(
            select(Source.path, func.count(Paragraph.id))
            .select_from(Source)
            .outerjoin(Article, Article.source_id == Source.id)
            .outerjoin(Paragraph, Paragraph.article_id == Article.id)
            .group_by(Source.path)
        ).all()
        sources = s.scalar(select(func.count()).select_from(Source))
    eng.dispose()
    assert sources == len(rows), "a path is stored more than once"
    return dict(rows)


def source_count(url: str) -> int:
    """Files stored, read as a user's `archive stats` reads them: from a snapshot, never taking SQLite's
    write lock (a poller that took it while a load runs waited behind the loader's batches and could
    see nothing until the load had ended)."""
    eng = db.make_reader(url)
    with eng.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(Source))
    eng.dispose()
    return n


def all_rows(url: str) -> dict[str, list[dict]]:
    """Every row of every model table, by primary key, in the model's columns the database has now."""
    eng = db.make_engine(url)
    with eng.connect() as conn:
        insp = inspect(conn)
        rows = {}
        for t in Base.metadata.sorted_tables:
            if not insp.has_table(t.name):  # a table a later revision adds
                continue
            present = {c["name"] for c in insp.get_columns(t.name)}
            columns = [c for c in t.columns if c.name in present]
            rows[t.name] = [dict(r._mapping) for r in conn.execute(select(*columns).order_by(*t.primary_key.columns))]
    eng.dispose()
    return rows


def narrowed(rows: dict[str, list[dict]], like: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """`rows` cut down to the tables and columns `like` has (an older revision's), table by table."""
    return {t: [{k: r[k] for k in (like[t][0] if like[t] else r)} for r in rs] for t, rs in rows.items() if t in like}


def sqlite_rows(url: str) -> dict[str, list[tuple]]:
    """A SQLite archive's content, to compare two loads of the same files: every row of every table but
    the load's timestamps and FTS5's own tables (its segments depend on how many files each transaction
    held), and the search index as FTS5 lists it: every token of every text at its position."""
    con = sqlite3.connect(url.split("///", 1)[1])
    con.execute("CREATE VIRTUAL TABLE temp.indexed USING fts5vocab(main, search_fts, instance)")
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'search_fts%'")]
    out = {}
    for t in tables:
        columns = [r[1] for r in con.execute(f"PRAGMA table_info('{t}')") if r[1] not in ("loaded_at", "seen_at")]
        order = ", ".join(str(i) for i in range(1, len(columns) + 1))
        out[t] = con.execute(f'SELECT {", ".join(columns)} FROM "{t}" ORDER BY {order}').fetchall()
    out["index"] = con.execute("SELECT term, doc, col, offset FROM temp.indexed ORDER BY 1, 2, 3, 4").fetchall()
    con.close()
    return out
