"""No process of a load outlives it: after kill -9 of `archive load`, its forkserver, parser workers
and resource tracker are gone within seconds (issue 19, point 9)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.dbcheck import archive, source_count
from tests.test_durability import migrated, write_pages

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="walks /proc (Linux)")


def children() -> dict[int, list[int]]:
    """Every live process's children, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z":  # a zombie has ended; only its parent has not asked yet
                tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(pid: int) -> set[int]:
    tree, found, todo = children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (not zombies)."""
    live = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if state[state.rindex(")") + 2] != "Z":
            live.add(pid)
    return live


@pytest.mark.skipif(sys.platform != "linux", reason="the kernel's parent-death signal is Linux's")
def test_kill_9_of_a_load_leaves_no_process_behind(sqlite_url, tmp_path):
    # enough pages that the workers are still parsing when the first batch of files is committed (the
    # writer commits up to 32 files at a time: the workers can be well ahead of what a reader sees)
    write_pages(tmp_path / "pages", 1200)
    migrated(sqlite_url)
    proc = archive(sqlite_url, "load", "-q", "--workers", "2", str(tmp_path / "pages"))
    try:
        deadline = time.monotonic() + 60
        # the resource tracker, the forkserver and its two workers, and the load under way, seen together
        family: set[int] = set()
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the load finished before it could be killed"
            family = descendants(proc.pid)
            if len(family) >= 4 and source_count(sqlite_url) >= 1:
                break
            time.sleep(0.02)
        assert len(family) >= 4, family
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()  # not communicate(): a process left behind would hold its output pipes open for ever
        deadline = time.monotonic() + 5
        while alive(family) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = alive(family)
        assert not left, {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:120] for pid in left}
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        for pid in alive(locals().get("family", set())):
            if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes():  # still ours, not a reused pid
                os.kill(pid, signal.SIGKILL)
