"""Parser worker processes end with the loader that started them (issue 19, point 9).

The loader's workers are forked by a forkserver, and each holds the forkserver's liveness pipe and the
resource tracker's pipe: when the loader was killed (kill -9, the OOM killer) none of them saw an end of
file, so the forkserver, its workers and the resource tracker lived on for ever. Here the kernel ends
them instead: on Linux the forkserver and each worker ask for SIGKILL when their parent dies
(prctl PR_SET_PDEATHSIG), which ends the forkserver with the loader, the workers with the forkserver,
and then the resource tracker, whose pipe has no writer left. Elsewhere this is a no-op.
"""

from __future__ import annotations

import os
import signal
import sys

from archive.inputs import path_text
from archive.prepare import FileError, Prepared, prepare_file

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# The forkserver's pid, set in the forkserver by archive._forkserver; its workers inherit it by fork.
server_pid: int | None = None


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when the thread that started it ends (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl in this libc: the old behaviour, nothing worse
        pass


def init_worker(parent_pid: int | None = None) -> None:
    """Initializer of every parser worker: ends with its parent (the forkserver, or the loader for a
    forked worker, whose pid is `parent_pid`), and leaves Ctrl-C to the writer, which rolls back the
    file in progress."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    expected = parent_pid or server_pid
    if expected is not None and os.getppid() != expected:
        os._exit(1)  # the parent died before the line above took effect: no signal will come


def prepare(job: tuple) -> Prepared | FileError:
    """What a parser worker runs for one file. `job` is (path, encoding, format, metadata) and, for a
    SQLite writer, True (the metric rows' values made as SQLite stores them: Prepared.flat)."""
    path, encoding, fmt, meta, *sqlite = job
    try:
        return prepare_file(path, encoding, fmt, meta).flat(*sqlite)  # rows, not objects: cheaper for the writer to unpickle
    except FileError as exc:
        return exc
    except Exception as exc:  # a parser bug must cost one file, not the batch
        return FileError(path_text(path), 1, f"internal parser error: {type(exc).__name__}: {exc}")


def warm_up() -> None:
    """Build what the parser builds on its first file (the gazetteer, the uncommon-character class a
    decode checks text with): done once in the forkserver, every worker it forks starts with them."""
    from archive import decode, places

    try:
        places.gazetteer()
        decode._uncommon_han()
    except Exception:  # a forkserver must start whatever happens: a worker meets it again, file by file
        pass
