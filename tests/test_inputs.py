"""Input files: names that are not UTF-8 or carry shell syntax are data, symlinks lead nowhere outside
the folder given, and nothing in a folder (a link loop, a FIFO) makes a load hang or stop."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from archive import db
from archive.inputs import os_path, path_text
from archive.models import Source
from tests.pagegen import build_page

ROOT = Path(__file__).parent.parent

# bytes, as the file system holds them: Latin-1 and GBK names, and names a shell or SQL would misread
NAMES = [
    b"fail\xffing.txt",
    "新闻报道".encode("gbk") + b".txt",
    b"line\nbreak.txt",
    b"it's \"quoted\"; $(id) `id` & | > x.txt",
    b"back\\slash \\x41.txt",
    b"plain.txt",
]


def archive_cmd(url: str, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "archive", "--db", url, *args], env=env, capture_output=True, timeout=timeout)


def stored_paths(url: str) -> set[str]:
    eng = db.make_engine(url)
    with eng.connect() as conn:
        paths = set(conn.scalars(select(Source.path)))
    eng.dispose()
    return paths


@pytest.mark.parametrize("raw", [b"fail\xffing.txt", b"a\\xffb\\\\c\\", b"\xe6\x96\xb0\xff\x00\x7f\n\\x", "新闻".encode("gbk")])
def test_path_text_is_valid_text_on_one_line_and_reverses(raw):
    text = path_text(os.fsdecode(raw))
    text.encode("utf-8")  # no surrogates left
    assert "\n" not in text and "\x00" not in text
    assert os.fsencode(os_path(text)) == raw
    assert path_text(b"/tmp/plain/\xe6\x96\xb0.txt") == "/tmp/plain/新.txt"  # UTF-8 names stay as they are


def test_names_that_are_not_utf8_or_look_like_code_load_and_purge_as_data(db_url, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    raw_paths = []
    for i, name in enumerate(NAMES):
        text, _ = build_page(i)
        raw = os.fsencode(folder) + b"/" + name
        with open(raw, "wb") as f:
            f.write(text.encode("utf-8"))
        raw_paths.append(os.fsdecode(raw))
    done = archive_cmd(db_url, "load", str(folder))
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err
    assert "Traceback" not in err
    assert f"{len(NAMES)} files: {len(NAMES)} new, 0 updated, 0 unchanged, 0 failed" in out
    shown = {path_text(p) for p in raw_paths}
    # one line per file, each naming the file as it is stored
    assert sorted(re.findall(r"^new: (.*)$", out, re.M)) == sorted(shown)
    assert stored_paths(db_url) == shown
    assert {os.fsencode(os_path(p)) for p in stored_paths(db_url)} == {os.fsencode(p) for p in raw_paths}

    # purge finds a file by its name as the file system has it, and by its name as shown
    first, second, *rest = raw_paths
    done = archive_cmd(db_url, "purge", first)
    assert done.returncode == 0 and done.stdout.startswith(b"purged source"), done.stderr
    done = archive_cmd(db_url, "purge", path_text(second))
    assert done.returncode == 0, done.stderr
    for p in rest:
        done = archive_cmd(db_url, "purge", p)
        assert done.returncode == 0, done.stderr
    assert stored_paths(db_url) == set()


def test_links_out_of_the_folder_loops_and_fifos_are_skipped_with_a_reason(sqlite_url, tmp_path):
    folder = tmp_path / "pages"
    (folder / "sub").mkdir(parents=True)
    for i, rel in enumerate(["good.txt", "sub/real.txt"]):
        (folder / rel).write_text(build_page(i)[0], encoding="utf-8")
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text(build_page(7)[0], encoding="utf-8")
    (folder / "inside.txt").symlink_to("sub/real.txt")  # inside the folder: the same file, loaded once
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "outside.txt").symlink_to(elsewhere)
    (folder / "etc").symlink_to("/etc")
    (folder / "self.txt").symlink_to("self.txt")
    (folder / "ping.txt").symlink_to("pong.txt")
    (folder / "pong.txt").symlink_to("ping.txt")
    (folder / "sub" / "up").symlink_to("..")  # a loop through a link inside the folder
    (folder / "gone.txt").symlink_to("nowhere.txt")
    os.mkfifo(folder / "fifo.txt")
    for name in ("photo.jpg", "sub/photo.JPG", "notes.utf8", "README"):  # other kinds: one count, not a line each
        (folder / name).write_bytes(b"x")
    (folder / "etc.jpg").symlink_to("/etc/hostname")  # a link out is always told, whatever its name
    done = archive_cmd(sqlite_url, "load", str(folder), timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert "2 files: 2 new, 0 updated, 0 unchanged, 0 failed" in done.stdout.decode()
    assert stored_paths(sqlite_url) == {str((folder / "good.txt").resolve()), str((folder / "sub/real.txt").resolve())}
    real = folder.resolve()
    assert sorted(err.splitlines()) == sorted([
        f"{folder}/etc: skipped: symlink to /etc, outside {real}",
        f"{folder}/etc.jpg: skipped: symlink to /etc/hostname, outside {real}",
        f"{folder}/fifo.txt: skipped: not a regular file (a FIFO)",
        f"{folder}/gone.txt: skipped: broken symlink (No such file or directory)",
        f"{folder}/outside.txt: skipped: symlink to {elsewhere.resolve()}, outside {real}",
        f"{folder}/passwd.txt: skipped: symlink to /etc/passwd, outside {real}",
        f"{folder}/ping.txt: skipped: symlink loop",
        f"{folder}/pong.txt: skipped: symlink loop",
        f"{folder}/self.txt: skipped: symlink loop",
        f"{folder}: skipped 4 files not named *.txt or *.md (.jpg ×2, .utf8 ×1, no suffix ×1); "
        "name a file on the command line to load it whatever its name",
    ])


def test_a_symlink_named_on_the_command_line_loads_and_a_fifo_fails_at_once(sqlite_url, tmp_path):
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text(build_page(7)[0], encoding="utf-8")
    link = tmp_path / "pages" / "link.txt"
    link.parent.mkdir()
    link.symlink_to(elsewhere)
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    done = archive_cmd(sqlite_url, "load", str(link), str(fifo), timeout=60)
    assert done.returncode == 1
    assert done.stderr.decode() == f"{fifo}:1: not a regular file (a FIFO, socket or device is not read)\n"
    assert stored_paths(sqlite_url) == {str(elsewhere.resolve())}
