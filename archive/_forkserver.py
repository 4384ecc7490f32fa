"""Imported by the loader's forkserver only (multiprocessing's forkserver preload), never elsewhere: its
side effect is that the forkserver ends with the loader that started it (archive.workers), and that
every worker it forks starts with the parser imported and its tables built."""

import os

from archive import workers

workers.server_pid = os.getpid()
workers.die_with_parent()

# What every worker runs, imported and made ready once here rather than in each worker: the parser, not
# the writer's modules (SQLAlchemy and the models are no worker's business, and took half the start).
workers.warm_up()
