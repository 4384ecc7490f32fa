"""The harness for the read-only SQL attack tests: a loaded archive with a sentinel table, a secret file
the database server could read, and one runner that tries an attack by every path and checks that
nothing changed, no file appeared and no secret came back.

Every attack goes three ways: `archive sql`, `archive export --query`, and straight to the engine
(sql.readonly_connection + sql.execute, skipping the parse check), because the parse check is only the
friendly first message and the engine must hold on its own.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from archive import db, sql
from tests.bi_data import build_archive, cli
from tests.conftest import SEED, server_database

SENTINEL_ROWS = 3


@pytest.fixture
def secret():
    """A file the database server (running on this machine) can read, with content that must never come back."""
    path = Path(f"/tmp/archive_secret_{uuid.uuid4().hex}")
    content = f"archive-secret-{uuid.uuid4().hex}"
    path.write_text(content + "\n")
    path.chmod(0o644)
    yield path, content
    path.unlink()


def make_archive(kind: str, tmp_path: Path):
    """Yield the URL of a loaded archive on `kind` with a sentinel table of SENTINEL_ROWS rows."""
    import shutil

    urls = iter([f"sqlite:///{tmp_path / 'archive.db'}"]) if kind == "sqlite" else server_database(kind)
    url = next(urls)
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(SEED, pages / SEED.name)
    build_archive(url, pages, tmp_path)
    eng = db.make_engine(url)
    with eng.begin() as c:
        c.execute(text("CREATE TABLE sentinel (id INTEGER PRIMARY KEY)"))
        c.execute(text("INSERT INTO sentinel (id) VALUES (1), (2), (3)"))
    eng.dispose()
    yield url
    for _ in urls:  # the server database's cleanup
        pass


def snapshot(url: str) -> dict:
    """Everything an attack might change: tables and views with their row counts, and on the servers
    the large objects and the logins (a temporary reader left behind would show here)."""
    eng = db.make_engine(url)
    insp = inspect(eng)
    names = sorted(insp.get_table_names()) + sorted(insp.get_view_names())
    with eng.connect() as c:
        state = {"counts": {n: c.execute(text(f"SELECT count(*) FROM {n}")).scalar() for n in names}}
        if eng.dialect.name == "postgresql":
            state["large_objects"] = c.execute(text("SELECT count(*) FROM pg_largeobject_metadata")).scalar()
            # temporary readers granted on this database's tables (pg_roles is the whole server's: other
            # sessions' readers come and go while this test runs)
            state["roles"] = c.execute(text(
                "SELECT DISTINCT a.grantee::regrole::text FROM pg_class, aclexplode(relacl) AS a "
                "WHERE relnamespace = 'public'::regnamespace AND a.grantee <> 0 "
                "AND a.grantee::regrole::text LIKE 'archive_sql_%' ORDER BY 1")).scalars().all()
            # settings of this database (pg_db_role_setting is the whole server's: other databases' come and go)
            state["settings"] = c.execute(text(
                "SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database "
                "WHERE datname = current_database()) ORDER BY 1")).scalars().all()
        elif eng.dialect.name == "mysql":
            # accounts granted on this database (mysql.user is the whole server's: other sessions' come and go)
            state["users"] = c.execute(text("SELECT user, host FROM mysql.db WHERE db = DATABASE() ORDER BY 1, 2")).all()
            state["routines"] = c.execute(text("SELECT count(*) FROM information_schema.ROUTINES")).scalar()
    eng.dispose()
    assert state["counts"]["sentinel"] == SENTINEL_ROWS
    return state


def _direct(url: str, statement: str) -> str:
    """What the engine returns for `statement` with no parse check in front: rows, or the error."""
    try:
        with sql.readonly_connection(url, timeout=5) as conn:
            rows = sql.execute(conn, statement)
            return repr([rows.columns, list(rows.rows)])
    except (sql.QueryFailed, sql.QueryRejected) as exc:
        return f"refused: {exc}"


def attack(url: str, template: str, secret, tmp_path: Path) -> list[str]:
    """Run the attack `template` by every path; assert it changed nothing, wrote no file, leaked nothing.

    {secret} in the template is the secret file's path, {out} a file the attack would write."""
    secret_path, secret_content = secret
    out = Path(f"/tmp/archive_attack_{uuid.uuid4().hex}")
    statement = template.format(secret=secret_path, out=out)
    before = snapshot(url)
    outputs = []
    for args in (["sql", statement, "--timeout", "5"], ["export", "--query", statement, "--timeout", "5"]):
        result = cli(url, *args)
        outputs.append(result.output)
        assert result.exit_code in (0, 1), (statement, result.output, result.exception)
        if result.exit_code == 1:  # one error line (an export may have written its header before it)
            errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
            assert len(errors) == 1 and result.output.endswith(errors[0] + "\n"), (statement, result.output)
    outputs.append(_direct(url, statement))
    try:
        for shown in outputs:
            assert secret_content not in shown, (statement, shown)
        assert not out.exists(), (statement, "the attack wrote a file")
        assert not list(tmp_path.glob("attack_*")), statement
        assert snapshot(url) == before, statement
    finally:
        if out.exists():
            os.unlink(out)
    return outputs
