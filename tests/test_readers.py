"""Readers never wait for writers and need no write access: every read command answers while another
process holds SQLite's write lock, and on a database file the user may only read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from archive import db, loader
from tests.conftest import SEED

ROOT = Path(__file__).parent.parent


def read_commands(article_id: int) -> dict[str, list[str]]:
    """Every command that only reads, with arguments that find something in the seed page."""
    return {
        "stats": ["stats"],
        "show": ["show", str(article_id)],
        "search": ["search", "法律"],
        "articles": ["articles"],
        "metrics": ["metrics"],
        "issues": ["issues"],
        "sql": ["sql", "SELECT name FROM newspaper ORDER BY name"],
        "export": ["export", "newspaper"],
        "db current": ["db", "current"],
    }


def cli(url: str, args: list[str], timeout: float = 90, **popen) -> tuple[subprocess.CompletedProcess, float]:
    """`archive --db URL ARGS…` in its own process; the result and its wall time."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "archive", "--db", url, *args],
        env=env, capture_output=True, text=True, timeout=timeout, **popen,
    )
    return done, time.monotonic() - started


def loaded_archive(path: Path) -> tuple[str, int]:
    """A SQLite archive at `path` holding the seed page; its URL and an article id."""
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    report = loader.load_paths(engine, [SEED], workers=1)
    assert report.counts["new"] == 1, report.summary()
    with engine.connect() as conn:
        article_id = conn.exec_driver_sql("SELECT min(id) FROM article").scalar()
    engine.dispose()
    return url, article_id


HOLD_WRITE_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO newspaper (name) VALUES ('未提交的报纸')")
print("locked", flush=True)
time.sleep(120)
"""


def test_every_read_command_answers_while_a_writer_holds_the_lock(tmp_path):
    url, article_id = loaded_archive(tmp_path / "archive.db")
    expected = {name: cli(url, args)[0] for name, args in read_commands(article_id).items()}
    for name, done in expected.items():
        assert done.returncode == 0, (name, done.stderr)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(tmp_path / "archive.db")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        for name, args in read_commands(article_id).items():
            done, seconds = cli(url, args)
            assert done.returncode == 0, (name, done.stderr)
            assert seconds < 5, f"{name} waited {seconds:.1f} s for the writer"
            # the committed data, and nothing of the writer's open transaction
            assert done.stdout == expected[name].stdout, name
            assert "未提交" not in done.stdout
    finally:
        holder.kill()
        holder.wait()


def test_a_read_command_neither_creates_nor_migrates_a_database(tmp_path):
    missing = tmp_path / "missing.db"
    for args in (["stats"], ["search", "法律"], ["sql", "SELECT 1"], ["db", "current"]):
        done, _ = cli(f"sqlite:///{missing}", args)
        assert done.returncode == 1
        assert done.stderr == f"Error: no SQLite archive at {missing}\n", args
        assert not missing.exists()


# Linux capabilities that let root past file permissions: without them root is held to the owner's
# bits like anyone else (0444 and 0555 then mean read-only for root too).
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, PR_CAPBSET_DROP = 1, 2, 3, 24


def _drop_file_capabilities() -> None:
    """In the child before exec: take the capabilities out of the bounding set, so that the program
    it runs starts without them."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def readonly_archive():
    """A loaded archive, 0444, in a 0555 folder. Root ignores permissions: its readers run without the
    capabilities that let it, so that the permissions really apply."""
    if os.geteuid() == 0 and not sys.platform.startswith("linux"):
        pytest.skip("running as root, and only on Linux can the tests take root's file capabilities away")
    top = Path(tempfile.mkdtemp(prefix="archive-ro-"))
    folder = top / "ro"
    folder.mkdir()
    url, article_id = loaded_archive(folder / "archive.db")
    (folder / "archive.db").chmod(0o444)
    folder.chmod(0o555)
    assert sorted(p.name for p in folder.iterdir()) == ["archive.db"]  # no -wal or -shm left by the load
    popen = {"preexec_fn": _drop_file_capabilities} if os.geteuid() == 0 else {}
    yield url, article_id, folder, popen
    folder.chmod(0o755)
    shutil.rmtree(top)


def test_every_read_command_works_on_a_file_the_user_may_only_read(readonly_archive):
    url, article_id, folder, popen = readonly_archive
    probe = subprocess.run(["sh", "-c", f"touch {folder}/x"], capture_output=True, **popen)
    assert probe.returncode != 0, "the folder is writable for the reader: this test would prove nothing"
    for name, args in read_commands(article_id).items():
        done, seconds = cli(url, args, **popen)
        assert done.returncode == 0, (name, done.stderr)
        assert done.stdout.strip(), name
        # one line says the file is read without a WAL index; nothing else on stderr
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"warning: {folder / 'archive.db'}: its folder cannot hold"), (name, done.stderr)
    done, _ = cli(url, ["stats"], **popen)
    assert "paragraph       31" in done.stdout
    # the load still refuses: writing needs a writable file
    done, _ = cli(url, ["load", str(SEED)], **popen)
    assert done.returncode != 0 and "readonly database" in done.stderr and "Traceback" not in done.stderr
