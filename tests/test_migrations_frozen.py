"""Migrations hold what they need frozen (migrations/frozen/), and at head it is what the application does.

A migration must build tomorrow what it built the day it was written, so it imports nothing from the
application. Its frozen copies are held here to the application at head: the index the loader keeps,
the tokens it writes, the comments the data dictionary gives the views.
"""

from __future__ import annotations

import ast
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from archive import db
from archive.cli import main
from archive.dictionary import relations
from archive.migrations.frozen import search_index
from archive.migrations.frozen.view_comments import VIEWS
from archive.searchtext import token_text

MIGRATIONS = Path(db.migrations_dir())
# env.py runs Alembic with the application's URL resolution, engine and models (autogenerate compares them)
ENV_IMPORTS = {"archive.config", "archive.db", "archive.models"}


def _archive_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {n for n in names if n.startswith("archive") and not n.startswith("archive.migrations")}


def test_migrations_import_nothing_from_the_application():
    scripts = [p for p in MIGRATIONS.rglob("*.py") if p.name != "env.py"]
    assert len(scripts) > 11
    assert {p.relative_to(MIGRATIONS).as_posix(): _archive_imports(p) for p in scripts if _archive_imports(p)} == {}
    assert _archive_imports(MIGRATIONS / "env.py") == ENV_IMPORTS


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_frozen_tokens_are_the_loaders(value):
    assert search_index.token_text(value) == token_text(value)


def test_frozen_view_comments_are_the_dictionarys():
    dictionary = {r.name: (r.description, {c.name: c.description for c in r.columns}) for r in relations() if r.kind == "view"}
    assert VIEWS == dictionary


def _index(conn) -> dict[str, list]:
    """The index's contents: keys with their tokens (and PostgreSQL's per-character counts)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, search_fts, instance)")
        return {"tokens": conn.exec_driver_sql("SELECT doc, term, \"offset\" FROM temp.vocab ORDER BY 1, 3").all()}
    if conn.dialect.name != "postgresql":
        return {"docs": conn.exec_driver_sql("SELECT doc_key, tokens FROM search_doc ORDER BY 1").all()}
    out = {"docs": conn.exec_driver_sql("SELECT doc_key, CAST(tokens AS TEXT) FROM search_doc ORDER BY 1").all()}
    out["lossy"] = conn.exec_driver_sql("SELECT doc_key FROM search_doc WHERE lossy").all()
    out["chars"] = conn.exec_driver_sql("SELECT code, docs FROM search_char_count ORDER BY 1").all()
    return out


def test_the_frozen_rebuild_is_the_index_the_loader_keeps(db_url, seed_dir):
    assert CliRunner().invoke(main, ["--db", db_url, "load", str(seed_dir)]).exit_code == 0
    eng = db.make_engine(db_url)
    with eng.begin() as conn:
        loaded = _index(conn)
        assert len(next(iter(loaded.values()))) >= 38  # a row per text, or (SQLite) per token
        assert search_index.rebuild(conn) == 38  # the seed page: title, subtitle, 5 headings, 31 paragraphs
        assert _index(conn) == loaded
        assert conn.execute(text("SELECT count(*) FROM paragraph")).scalar_one() == 31
    eng.dispose()
