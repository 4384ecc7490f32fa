"""One fixture factory for databases: every test that takes `db_url` runs on each reachable engine.

SQLite always; PostgreSQL when ARCHIVE_TEST_POSTGRES_URL is set; MariaDB/MySQL when
ARCHIVE_TEST_MYSQL_URL is set. Each test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from archive import db

DATA = Path(__file__).parent / "data"
SEED = Path(__file__).parent.parent / "seeds" / "000_243109ca0d1e3123.txt"
SERVER_ENV = {"postgresql": "ARCHIVE_TEST_POSTGRES_URL", "mysql": "ARCHIVE_TEST_MYSQL_URL"}
ENGINES = ("sqlite", "postgresql", "mysql")


def server_database(kind: str):
    """Create a fresh database on the server named by the kind's env var; yield its URL; drop it."""
    base = os.environ.get(SERVER_ENV[kind])
    if not base:
        pytest.skip(f"{kind} tests need {SERVER_ENV[kind]} (see docs/engines.md: Testing on PostgreSQL and MariaDB)")
    name = f"archive_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    create = f"CREATE DATABASE {name}"
    if kind == "mysql":
        create += " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(create)
    except Exception as exc:  # the server named by the variable must be up: say so, do not skip silently
        admin.dispose()
        pytest.fail(f"{kind} server from {SERVER_ENV[kind]} is not usable: {exc}")
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            drop = f"DROP DATABASE IF EXISTS {name}"
            conn.exec_driver_sql(drop + (" WITH (FORCE)" if kind == "postgresql" else ""))
        admin.dispose()


def _fresh_url(kind: str, tmp_path: Path):
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
    else:
        yield from server_database(kind)


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path) -> str:
    """An empty database on each engine in turn."""
    yield from _fresh_url(request.param, tmp_path)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'archive.db'}"


@pytest.fixture
def engine(db_url):
    """An engine on a fresh database migrated to head."""
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def seed_dir(tmp_path) -> Path:
    """A directory holding a copy of the seed page."""
    d = tmp_path / "pages"
    d.mkdir()
    shutil.copy(SEED, d / SEED.name)
    return d


# pytest-alembic: its built-in tests run on each engine too.
@pytest.fixture
def alembic_config():
    return db.alembic_config()


@pytest.fixture
def alembic_engine(db_url):
    eng = db.make_engine(db_url)
    yield eng
    eng.dispose()
