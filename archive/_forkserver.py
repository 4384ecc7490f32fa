"""Imported by the loader's forkserver only (multiprocessing's forkserver preload), never elsewhere: its
side effect is that the forkserver ends with the loader that started it (archive.workers)."""

import os

from archive import workers

workers.server_pid = os.getpid()
workers.die_with_parent()

import archive.loader  # noqa: E402,F401  what every worker runs, imported once here rather than in each
