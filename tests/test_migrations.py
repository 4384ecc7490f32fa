"""The schema is made only by migrations; pytest-alembic's built-in checks run on every engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytest_alembic.tests import (  # noqa: F401  (collected as tests)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import inspect

from archive import db
from archive.models import Base

ROOT = Path(__file__).parent.parent


def test_downgrade_to_base_leaves_no_table(db_url):
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    assert set(Base.metadata.tables) <= set(inspect(eng).get_table_names())
    db.downgrade(eng, "base")
    assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
    eng.dispose()


def test_every_table_and_column_has_a_comment():
    for table in Base.metadata.tables.values():
        assert table.comment, table.name
        for column in table.columns:
            assert column.comment, f"{table.name}.{column.name}"


def test_alembic_command_line_from_project_root(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "ARCHIVE_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    eng = db.make_engine(url)
    assert db.current_revision(eng) == db.head_revision()
    eng.dispose()
