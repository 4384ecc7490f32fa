"""Migrations on a loaded archive: backups before upgrading, a failing migration, round trips, old data.

Test-only revisions go into a temporary copy of the script folder, never into migrations/versions.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import MetaData, insert, select
from sqlalchemy.engine import make_url

from archive import db
from archive.cli import main
from archive.models import Base, Metric, Paragraph
from tests.dbcheck import all_rows, narrowed

FAILING = '''
    op.add_column("paragraph", sa.Column("scratch", sa.Integer(), nullable=True))
    op.execute("UPDATE paragraph SET scratch = 1")
    op.execute("DELETE FROM article_author")
    raise RuntimeError("test migration fails half-way")
'''
# Rebuilds `article` on SQLite (batch mode): the table every other content table refers to.
ROUNDTRIP_UP = '''
    with op.batch_alter_table("article") as batch:
        batch.add_column(sa.Column("roundtrip_note", sa.String(20), nullable=True))
        batch.create_index("ix_article_roundtrip_note", ["roundtrip_note"])
    op.execute("DELETE FROM article_author WHERE ordinal > 1")
'''
ROUNDTRIP_DOWN = '''
    with op.batch_alter_table("article") as batch:
        batch.drop_index("ix_article_roundtrip_note")
        batch.drop_column("roundtrip_note")
'''


def _body(code: str) -> str:
    return textwrap.indent(textwrap.dedent(code).strip() + "\n", "    ")


def run(url, *args):
    return CliRunner().invoke(main, ["--db", url, *args], catch_exceptions=False)


@pytest.fixture
def scripts(tmp_path, monkeypatch):
    """A copy of the script folder that the archive migrates from; returns a function adding a revision."""
    copy = tmp_path / "migrations"
    shutil.copytree(db.migrations_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(db, "migrations_dir", lambda: str(copy))

    def add(revision: str, upgrade: str, downgrade: str = "    pass\n") -> str:
        head = ScriptDirectory(str(copy)).get_current_head()
        (copy / "versions" / f"{revision}.py").write_text(
            f'"""test-only revision"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
            f"revision = {revision!r}\ndown_revision = {head!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{_body(upgrade)}\n\ndef downgrade():\n{_body(downgrade)}",
            encoding="utf-8",
        )
        return revision

    return add


def sqlite_dump(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return list(conn.iterdump())


def add_metrics(url: str) -> None:
    """A metric for each paragraph, so that every table has rows whatever the extractor finds."""
    eng = db.make_engine(url)
    with eng.begin() as conn:
        paragraphs = conn.execute(select(Paragraph.id, Paragraph.article_id).order_by(Paragraph.id)).all()
        conn.execute(insert(Metric), [
            dict(article_id=a, paragraph_id=p, ordinal=99, surface="一", char_start=0, char_end=1, value=1, unit="个",
                 qualifier="exact", kind="count")
            for p, a in paragraphs
        ])
    eng.dispose()


def loaded(url: str, seed_dir: Path) -> str:
    assert run(url, "load", str(seed_dir)).exit_code == 0
    add_metrics(url)
    return url


# ---------------------------------------------------------------- backups (SQLite)


def test_upgrade_of_a_new_file_takes_no_backup_of_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = run(url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "backup" not in result.output and not list(tmp_path.glob("*.bak"))
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("PRAGMA journal_mode=WAL").fetchall()  # a header page, no tables
    assert empty.stat().st_size > 0
    assert "backup" not in run(f"sqlite:///{empty}", "db", "upgrade").output
    assert not list(tmp_path.glob("*.bak"))


def test_upgrade_takes_a_backup_first_and_restore_puts_it_back(sqlite_url, seed_dir, scripts):
    loaded(sqlite_url, seed_dir)
    path = Path(make_url(sqlite_url).database)
    before = sqlite_dump(path)
    assert run(sqlite_url, "db", "upgrade").output == f"already at revision {db.head_revision()}\n"
    scripts("9997_drops_rows", 'op.execute("DELETE FROM metric")\nop.add_column("source", sa.Column("note", sa.Text()))\n')
    result = run(sqlite_url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    backup = Path(re.match(r"backup of the database before the upgrade: (.+)\n", result.stdout).group(1))
    assert backup.parent == path.parent and sqlite_dump(backup) == before
    assert result.stdout.endswith("at revision 9997_drops_rows\n")
    assert sqlite_dump(path) != before
    restored = run(sqlite_url, "db", "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert sqlite_dump(path) == before
    assert all_rows(sqlite_url)["metric"]


def test_failing_migration_leaves_the_database_restorable_and_says_how(sqlite_url, seed_dir, scripts):
    loaded(sqlite_url, seed_dir)
    path = Path(make_url(sqlite_url).database)
    before, revision = sqlite_dump(path), db.head_revision()
    scripts("9999_fails", FAILING)
    result = run(sqlite_url, "db", "upgrade")
    assert result.exit_code == 1
    backup = Path(re.match(r"backup of the database before the upgrade: (.+)\n", result.stdout).group(1))
    assert result.stderr == (
        "Error: upgrade to head failed: RuntimeError: test migration fails half-way; to put back the copy taken "
        f"before it, run: archive --db {sqlite_url} db restore {backup}\n"
    )
    assert sqlite_dump(backup) == before
    assert sqlite_dump(path) == before  # SQLite rolled the whole upgrade back, too
    assert run(sqlite_url, "db", "restore", str(backup)).exit_code == 0
    assert sqlite_dump(path) == before
    assert run(sqlite_url, "db", "current").output.strip() == revision


def test_downgrade_to_base_is_backed_up_and_restorable(sqlite_url, seed_dir):
    loaded(sqlite_url, seed_dir)
    path = Path(make_url(sqlite_url).database)
    before = sqlite_dump(path)
    result = run(sqlite_url, "db", "downgrade", "base", "--yes")  # it drops every table
    assert result.exit_code == 0 and "\nat revision base\ndropped with the downgrade: table article (1 rows)" in result.stdout, result.output
    backup = Path(re.match(r"backup of the database before the downgrade: (.+)\n", result.stdout).group(1))
    assert not paragraph_table_names(sqlite_url)
    assert run(sqlite_url, "db", "restore", str(backup)).exit_code == 0
    assert sqlite_dump(path) == before


def paragraph_table_names(url: str):
    with contextlib.closing(sqlite3.connect(make_url(url).database)) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'paragraph'")]


def test_restore_refuses_servers_and_missing_files(db_url, tmp_path):
    missing = run(db_url, "db", "restore", str(tmp_path / "nope.bak"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    other = tmp_path / "x.bak"
    other.write_bytes(b"")
    result = run(db_url, "db", "restore", str(other))
    if db_url.startswith("sqlite"):
        assert result.exit_code == 0
    else:
        assert result.exit_code == 1 and "restore works on SQLite files" in result.stderr


# ---------------------------------------------------------------- every engine


def test_upgrade_downgrade_upgrade_keeps_every_row(db_url, seed_dir, scripts):
    loaded(db_url, seed_dir)
    first = ScriptDirectory(db.migrations_dir()).get_base()
    scripts("9998_roundtrip", ROUNDTRIP_UP, ROUNDTRIP_DOWN)
    eng = db.make_engine(db_url)
    db.upgrade(eng, "head")
    after_up = all_rows(db_url)
    assert after_up["metric"] and after_up["article_author"]
    for _ in range(2):  # down to the first revision and back up, twice
        db.downgrade(eng, first)
        assert db.current_revision(eng) == first
        at_first = all_rows(db_url)  # the first revision's columns: later ones are dropped with their data
        assert at_first == narrowed(after_up, at_first)
        db.upgrade(eng, "head")
        assert narrowed(all_rows(db_url), at_first) == at_first
    eng.dispose()


def test_rows_written_at_the_first_revision_survive_the_upgrade_to_head(db_url, seed_dir, tmp_path):
    # The rows a load writes, put into a database at the first revision through that revision's own
    # columns (read from the database, not from today's models), then upgraded.
    scratch = loaded(f"sqlite:///{tmp_path / 'scratch.db'}", seed_dir)
    source_rows = all_rows(scratch)
    eng = db.make_engine(db_url)
    first = ScriptDirectory(db.migrations_dir()).get_base()
    db.upgrade(eng, first)
    old = MetaData()
    old.reflect(eng)
    at_first = {
        t: [{k: v for k, v in r.items() if k in old.tables[t].c} for r in rows] for t, rows in source_rows.items() if t in old.tables
    }
    with eng.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if at_first.get(table.name):
                conn.execute(old.tables[table.name].insert(), at_first[table.name])
    db.upgrade(eng, "head")
    assert db.current_revision(eng) == db.head_revision()
    got = all_rows(db_url)
    eng.dispose()
    assert narrowed(got, at_first) == at_first
    assert len(got["paragraph"]) == 31
    # 0008 records each source's path in source_path
    assert [(p["source_id"], p["path"]) for p in got["source_path"]] == [(s["id"], s["path"]) for s in got["source"]]
