"""A full disk stops a load with one line (not one error per remaining file), and an export onto a full
disk is one line too, leaving no partial file. The disk is a 2 MB tmpfs, which needs root (or CAP_SYS_ADMIN)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dbcheck import source_count
from tests.test_durability import migrated, write_pages
from tests.test_readers import loaded_archive

ROOT = Path(__file__).parent.parent


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB file system of its own (tmpfs), unmounted afterwards."""
    disk = tmp_path / "small"
    disk.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("no mount command here to make a small disk")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)


def run(url: str, *args: str, **popen) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "archive", "--db", url, *args], env=env, text=True, capture_output="stdout" not in popen, timeout=300, **popen)


def test_a_full_disk_stops_the_load_with_one_line(small_disk, tmp_path):
    write_pages(tmp_path / "pages", 300)
    url = migrated(f"sqlite:///{small_disk / 'archive.db'}")
    done = run(url, "load", "-q", str(tmp_path / "pages"))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    m = re.fullmatch(
        r"Error: (.+\.txt): not stored, the database's disk is full \(database or disk is full\); stopped after (\d+) "
        r"of 300 files \(those are stored\): free some space and run the same command again to load the rest",
        line,
    )
    assert m, line
    assert 0 < int(m.group(2)) < 300
    assert source_count(url) == int(m.group(2))


def _fill(disk: Path, leave: int) -> None:
    """Fill `disk` up to `leave` bytes."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    (disk / "filler").write_bytes(b"\0" * max(0, free - leave))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_onto_a_full_disk_is_one_line_and_leaves_no_file(small_disk, tmp_path, fmt):
    url, _ = loaded_archive(tmp_path / "archive.db")
    _fill(small_disk, 0)
    out = small_disk / f"paragraphs.{fmt}"
    done = run(url, "export", "paragraph", "--format", fmt, "-o", str(out))
    assert (done.returncode, done.stderr) == (1, f"Error: cannot write {out}: No space left on device\n")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # no partial export left


def test_an_export_to_stdout_on_a_full_disk_is_one_line(small_disk, tmp_path):
    url, _ = loaded_archive(tmp_path / "archive.db")
    _fill(small_disk, 0)
    with open(small_disk / "paragraphs.csv", "wb") as stdout:
        done = run(url, "export", "paragraph", stdout=stdout, stderr=subprocess.PIPE)
    assert (done.returncode, done.stderr) == (1, "Error: cannot write standard output: No space left on device\n")
