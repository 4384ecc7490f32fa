"""The loader: files in, parsed in worker processes ahead of the writing, written several to a
transaction with each file all or nothing (GroupWriter; archive.writer writes the rows)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import signal
import threading
import time
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import ColumnElement, Connection, Engine, NestedTransaction, Select, bindparam, func, select, union_all
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from archive import bulk, pgcopy, searchindex, shard, writer
from archive.db import DiskFull, is_disk_full
from archive.formats.metadata import Metadata
from archive.inputs import iter_files, path_text
from archive.models import Source, SourcePath
from archive.prepare import FileError, Prepared
from archive.workers import init_worker
from archive.workers import prepare as _prepare  # what a parser worker runs for each file

# duplicate: the bytes of a file already loaded from another path; the path is recorded, nothing parsed again
STATUSES = ("new", "updated", "unchanged", "duplicate", "failed")
PARALLEL_MIN_FILES = 8
WINDOW = 16  # files prepared ahead of the writer: bounds memory whatever the corpus size
START_METHOD = "forkserver"  # how worker processes start (see _worker_context)


@dataclass(frozen=True)
class FileResult:
    path: str
    status: str
    source_id: int | None = None
    message: str | None = None
    format: str | None = None
    duplicate_of: str | None = None  # for a duplicate: the path the source was first loaded from
    without_body: int = 0  # articles stored with no paragraph (a title-only item, a photo caption)

    def describe(self) -> str:
        """The per-file line: `new: PATH`, `duplicate of FIRST: PATH` …"""
        status = f"duplicate of {self.duplicate_of}" if self.duplicate_of else self.status
        return f"{status}: {self.path}"


@dataclass
class LoadReport:
    results: list[FileResult] = field(default_factory=list)

    @property
    def counts(self) -> Counter:
        return Counter({s: 0 for s in STATUSES}) + Counter(r.status for r in self.results)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        """The closing line. Duplicates and articles without body text are named only when there are some."""
        c = self.counts
        dup = c["duplicate"]
        dups = f"{dup} duplicate of another file, " if dup == 1 else f"{dup} duplicates of other files, " if dup else ""
        line = f"{len(self.results)} files: {c['new']} new, {c['updated']} updated, {c['unchanged']} unchanged, {dups}{c['failed']} failed"
        without = sum(r.without_body for r in self.results)
        return line + (f"; {without} article{'s' if without != 1 else ''} without body text" if without else "")


# ---------------------------------------------------------------- one file


_source, _path = Source.__table__, SourcePath.__table__
_paths_of = SourcePath.__table__.alias("other")


# The source holding these bytes (a row per path it has), and the source this path was last seen with,
# each with how many paths it has.
def _sources_where(condition: ColumnElement[bool]) -> Select[Any]:
    return (
        select(
            _source.c.id,
            _source.c.sha256,
            _source.c.path,
            _path.c.path,
            select(func.count()).where(_paths_of.c.source_id == _source.c.id).scalar_subquery(),
        )
        .select_from(_source.join(_path, _path.c.source_id == _source.c.id))
        .where(condition)
    )


# Two arms rather than one OR: each uses its own unique index (an OR across the join scans a table).
SOURCES_BY_SHA_OR_PATH = union_all(
    _sources_where(_source.c.sha256 == bindparam("sha256")), _sources_where(_path.c.path == bindparam("path"))
)


def store(
    conn: Connection, prepared: Prepared, index: searchindex.PendingIndex | None = None, later: pgcopy.PendingRows | None = None
) -> FileResult:
    """Write one prepared file inside the caller's transaction: new, updated (same path), unchanged, or
    a duplicate (these bytes are loaded from another path: only the path is recorded). With `index`,
    its search index entries wait there for the caller's batch (searchindex.PendingIndex); with `later`
    (PostgreSQL), its content rows (pgcopy.PendingRows)."""
    fmt = prepared.format
    # One statement, one snapshot: asked apart, a loader racing us could commit the same file between
    # the two questions, and its fresh copy would be taken for an earlier version and replaced.
    found = bulk.rows(conn, SOURCES_BY_SHA_OR_PATH, {"sha256": prepared.sha256, "path": prepared.path})
    same = [(source_id, first) for source_id, sha256, first, _, _ in found if sha256 == prepared.sha256]
    here = [(source_id, n) for source_id, _, _, path, n in found if path == prepared.path]
    if same:
        source_id, first = same[0]
        if here and here[0][0] == source_id:
            return FileResult(prepared.path, "unchanged", source_id, format=fmt)
        if here:  # the path held other bytes before
            writer.forget_path(conn, here[0][0], prepared.path, later)
        writer.add_path(conn, source_id, prepared)
        return FileResult(prepared.path, "duplicate", source_id, format=fmt, duplicate_of=first)
    earlier: list[int] = []
    if here:
        old_id, paths = here[0]
        if paths > 1:  # other paths still hold the old bytes: they keep them
            writer.forget_path(conn, old_id, prepared.path, later)
        else:
            earlier = [old_id]
    # a new version of a file loaded before: its articles, sections and paragraphs keep their ids by position
    kept = writer.KeptIds.of_source(conn, earlier[0]) if earlier else None
    old_issues = [i for source_id in earlier for i in writer.delete_source(conn, source_id)]
    source_id = writer.add_source(conn, prepared, kept, index, later)
    writer.drop_empty_issues(conn, old_issues, later)
    without_body = prepared.without_body
    status = "updated" if here else "new"
    return FileResult(prepared.path, status, source_id, format=fmt, without_body=without_body)


def store_with_retry(engine: Engine, prepared: Prepared) -> FileResult:
    """One file in a transaction of its own; a race with another loader (unique key, lock) is retried,
    then reported. The loader writes files in groups (GroupWriter) and comes back to this when a group
    cannot be committed."""
    last: Exception | None = None
    for _ in range(writer.RETRIES):
        try:
            # A Core connection, not a Session: nothing here needs the ORM, and its per-transaction
            # cost is a tenth of what SQLite takes to write a page.
            with engine.begin() as conn:
                return store(conn, prepared)
        except DBAPIError as exc:
            if is_disk_full(exc):  # every file after this one would fail alike: stop here, once
                raise DiskFull(f"{prepared.path}: not stored, the database's disk is full ({_reason(exc)})") from exc
            if isinstance(exc, (IntegrityError, OperationalError)):
                # Another process stored the same file or newspaper first, or a lock timed out: a
                # fresh transaction sees its rows and decides again.
                last = exc
                continue
            # Anything else the database refuses (a value it cannot hold, say) costs this file, not
            # the batch; the transaction has been rolled back.
            last = exc
            break
    return _database_error(prepared.path, last)


def _reason(exc: Exception | None) -> str:
    return str(getattr(exc, "orig", exc)).splitlines()[0]


def _database_error(path: str, exc: Exception | None) -> FileResult:
    return FileResult(path, "failed", None, f"{path}:1: database error: {_reason(exc)}")


# ---------------------------------------------------------------- group commit


BATCH_FILES = 32  # files one transaction may hold (PostgreSQL: under the 64 subtransactions a backend caches)
BATCH_SECONDS = 0.25  # how long after its first file a batch is committed at the latest


class GroupWriter:
    """Writes prepared files several to a transaction (group commit), each file in a savepoint of its own.

    Committing is most of what a file costs SQLite (the WAL's pages, and FTS5 writing a segment of its
    index and merging segments); a batch pays it once. What stays as it was with one transaction per file:

    - A reader sees a file whole or not at all: its rows and its search index entries commit together
      (the batch's index entries are written just before COMMIT: searchindex.PendingIndex).
    - One file's failure costs that file alone: a database error inside its savepoint rolls back to it
      and the batch goes on; a race with another loader (unique key, lock timeout, deadlock) commits the
      batch so far and stores the file again in a transaction of its own, as store_with_retry did.
      When the batch as a whole cannot go on (its transaction was lost, as MariaDB loses it to a
      deadlock; its COMMIT failed; the disk is full) it is rolled back and its files are stored again,
      one transaction each: the disk-full error then names the first file that does not fit.
    - A file is reported (`emit`) only once its batch has committed, in the order the files came.
    - Ids are handed out as before: each file reads the next ids inside the transaction, after the
      files before it, so the same files give the same rows whatever the batches were.

    A batch is committed after `files` files or `seconds` after it began, whichever comes first (also
    while the writer waits for the parser workers: `patience`, `idle`), before a file at a path it
    already wrote (only a file at the same path can replace a source's rows, and a source's index
    entries must be written before its rows can be replaced), and at the end. Committing as soon as
    the writer waits would cut batches short whenever the workers fall behind for a moment: on a
    machine whose cores the workers and the writer share, that costs more CPU than it saves wall time. On a sharded coordinator each file is a transaction of its
    own, as before (store_with_retry): a file's rows go to its shard in one remote transaction
    (archive.shard), committed there just before the coordinator commits."""

    def __init__(self, engine: Engine, emit: Callable[[FileResult], None], files: int = BATCH_FILES, seconds: float = BATCH_SECONDS):
        self.engine, self.emit, self.seconds = engine, emit, seconds
        with engine.connect() as conn:
            self.files = 1 if shard.is_sharded(conn) else files
            self.copying = pgcopy.usable(conn)  # PostgreSQL: content rows wait for one COPY a table at commit
        self.conn: Connection | None = None
        self.started = 0.0
        # the batch's files in the order they came: (the file, when stored: to store it again if need be; its result)
        self.pending: list[tuple[Prepared | None, FileResult]] = []
        self.stored = 0
        self.paths: set[str] = set()
        self.index = searchindex.PendingIndex()
        self.later = self._pending_rows()
        self.held = False  # PostgreSQL: the last file's savepoint is open still (_Savepoint)

    def _pending_rows(self) -> pgcopy.PendingRows | None:
        return pgcopy.PendingRows() if self.copying else None

    def __enter__(self) -> GroupWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.commit()
        else:  # interrupted, or an error that ends the load: nothing of the open batch is stored or reported
            self._end(rollback=True)

    def failed(self, result: FileResult) -> None:
        """A file that failed before reaching the database: reported in its place among the batch's."""
        if self.conn is None:
            self.emit(result)
        else:
            self.pending.append((None, result))

    def add(self, prepared: Prepared) -> None:
        if self.files == 1:  # a transaction per file, as store_with_retry makes them
            self.emit(store_with_retry(self.engine, prepared))
            return
        if prepared.path in self.paths:
            self.commit()
        conn = self.conn or self._begin()
        mark = self.index.mark()
        rows_mark = self.later.mark() if self.later is not None else None
        savepoint = _Savepoint(conn, self.held)
        self.held = False
        try:
            result = store(conn, prepared, self.index, self.later)
            self.held = savepoint.release()
        except DBAPIError as exc:
            self._file_failed(prepared, exc, savepoint, mark, rows_mark)
            return
        self.pending.append((prepared, result))
        self.paths.add(prepared.path)
        self.stored += 1
        if self.stored >= self.files or time.monotonic() - self.started >= self.seconds:
            self.commit()

    def patience(self) -> float | None:
        """How long the open batch may still wait for its next file before it must be committed (None:
        no batch is open, the writer may wait as long as it takes)."""
        return None if self.conn is None else self.started + self.seconds - time.monotonic()

    def idle(self) -> None:
        """The next file is not ready within the batch's patience: commit now rather than keep it waiting (and unseen)."""
        if self.conn is not None:
            self.commit()

    def commit(self) -> None:
        if self.conn is None:
            return
        try:
            with _interrupts_held():  # a Ctrl-C lands before the COMMIT or after the files are reported
                if self.later is not None:
                    self.later.flush(self.conn)
                self.index.flush(self.conn)
                self.conn.commit()
                pending = self.pending
                self._end()
                for _, result in pending:
                    self.emit(result)
        except DBAPIError:
            if self.conn is None:  # raised by `emit`, after the commit
                raise
            self._store_again()

    def _begin(self) -> Connection:
        conn = self.engine.connect()
        try:
            conn.begin()
        except BaseException:
            conn.close()
            raise
        self.conn, self.started = conn, time.monotonic()
        return conn

    def _end(self, rollback: bool = False) -> None:
        conn, self.conn = self.conn, None
        self.pending, self.stored, self.paths = [], 0, set()
        self.index = searchindex.PendingIndex()
        self.later = self._pending_rows()
        self.held = False
        if conn is None:
            return
        try:
            if rollback and conn.in_transaction():
                conn.rollback()
        except DBAPIError:  # the connection is gone with its transaction: close() discards it
            pass
        finally:
            conn.close()

    def _file_failed(self, prepared: Prepared, exc: DBAPIError, savepoint: _Savepoint, mark: int, rows_mark: Any = None) -> None:
        self.index.rollback_to(mark)
        # PostgreSQL: earlier files' rows written inside this file's savepoint (pgcopy.PendingRows.flush) go with it
        lost = self.later is not None and not self.later.rollback_to(rows_mark)
        try:
            savepoint.rollback()
        except DBAPIError:  # MariaDB rolls the whole transaction back on a deadlock: no savepoint is left
            lost = True
        if lost or is_disk_full(exc):
            self._store_again(prepared)
        elif isinstance(exc, (IntegrityError, OperationalError)):
            # another loader stored the same file or newspaper first, or a lock timed out: what this
            # batch wrote is committed, and the file is decided again in a fresh transaction
            self.commit()
            self.emit(store_with_retry(self.engine, prepared))
        else:  # a value the database refuses, say: this file fails, the batch goes on
            self.pending.append((None, _database_error(prepared.path, exc)))

    def _store_again(self, last: Prepared | None = None) -> None:
        """Roll the batch back and store its files again, one transaction each (and `last` after them)."""
        again = self.pending
        self._end(rollback=True)
        for prepared, result in again:
            self.emit(result if prepared is None else store_with_retry(self.engine, prepared))
        if last is not None:
            self.emit(store_with_retry(self.engine, last))


class _Savepoint:
    """A savepoint around one file. On SQLite, and on PostgreSQL's COPY path, it is set straight on the
    driver, as archive.bulk runs the inserts: SQLAlchemy compiles its SAVEPOINT and RELEASE statements
    again each time. On PostgreSQL's COPY path a file's savepoint is released together with the next
    file's SAVEPOINT, or by COMMIT (`held`): one round trip a file fewer, each a wait for the server."""

    NAME = "archive_file"

    def __init__(self, conn: Connection, held: bool = False):
        """`held`: the previous file's savepoint is still open (release() said so): released here first."""
        self.conn = conn
        self.nested: NestedTransaction | None = None
        self.copying = pgcopy.usable(conn)
        if self.copying:  # two statements in one simple query (no parameters): one round trip
            bulk.driver(conn, f"RELEASE {self.NAME}; SAVEPOINT {self.NAME}" if held else f"SAVEPOINT {self.NAME}", None)
        elif bulk.direct(conn):
            bulk.driver(conn, f"SAVEPOINT {self.NAME}", ())
        else:
            self.nested = conn.begin_nested()

    def release(self) -> bool:
        """Keep the file's work; True when the savepoint is left open for the next file's to release."""
        if self.copying:
            return True
        if self.nested is None:
            bulk.driver(self.conn, f"RELEASE {self.NAME}", ())
        else:
            self.nested.commit()
        return False

    def rollback(self) -> None:
        if self.copying:
            bulk.driver(self.conn, f"ROLLBACK TO {self.NAME}; RELEASE {self.NAME}", None)
        elif self.nested is None:
            bulk.driver(self.conn, f"ROLLBACK TO {self.NAME}", ())
            bulk.driver(self.conn, f"RELEASE {self.NAME}", ())
        else:
            self.nested.rollback()


class _interrupts_held:
    """Ctrl-C (SIGINT) is held while a batch commits and its files are reported, and raised after: the
    files reported are exactly the files stored. Only where Python's own handler is in place, in the
    main thread (signal handlers can be set nowhere else)."""

    def __enter__(self) -> None:
        self.previous: Any = None
        self.caught = False
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self.previous = signal.signal(signal.SIGINT, self._hold)

    def _hold(self, *_: object) -> None:
        self.caught = True

    def __exit__(self, *_: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            if self.caught:
                signal.raise_signal(signal.SIGINT)  # Python's handler again: KeyboardInterrupt, now


# ---------------------------------------------------------------- many files


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers forked from a small server process that has imported the parser, not from the writer.

    A worker forked from the writer would start with the writer's heap (the list of every file to
    load among it), so its memory would grow with the corpus; a forkserver's does not (measured:
    docs/benchmarks.md). Where there is no forkserver (Windows, macOS spawn), the platform default.
    """
    if START_METHOD not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context()
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        context.set_forkserver_preload(["archive._forkserver"])  # imports the parser; ends with us
    return context


IDLE = None  # what the stream yields when the next file is not ready within the writer's patience


def _prepared_stream(
    files: list[str], encoding: str | None, fmt: str | None, meta: Metadata | None, workers: int,
    patience: Callable[[], float | None] = lambda: None, sqlite: bool = False,
) -> Iterator[Prepared | FileError | None]:
    """Each file prepared, in order (with `sqlite`, for a SQLite writer: Prepared.flat). Before a file
    that is not ready, the stream waits for it as long as `patience()` says (seconds; None: as long
    as it takes), and yields IDLE if that was not enough."""
    jobs = ((f, encoding, fmt, meta, sqlite) for f in files)
    if workers <= 1 or len(files) < PARALLEL_MIN_FILES:
        yield from map(_prepare, jobs)
        return
    pool = _pool(workers)
    pending: list[tuple[tuple, Future]] = []
    try:
        for job in jobs:
            try:
                fut = pool.submit(_prepare, job)
            except BrokenProcessPool:  # a worker died earlier: the rest go to a fresh pool
                pool.shutdown(wait=False)
                pool = _pool(workers)
                fut = pool.submit(_prepare, job)
            pending.append((job, fut))
            if len(pending) >= WINDOW:
                if _impatient(pending[0][1], patience):
                    yield IDLE
                yield _result(*pending.pop(0))
        for job, fut in pending:
            if _impatient(fut, patience):
                yield IDLE
            yield _result(job, fut)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _impatient(fut: Future, patience: Callable[[], float | None]) -> bool:
    """Whether `fut` is still not done after waiting for it as long as `patience()` allows."""
    if fut.done():
        return False
    limit = patience()
    return limit is not None and not wait([fut], timeout=max(0.0, limit)).done


def _pool(workers: int, context: multiprocessing.context.BaseContext | None = None) -> ProcessPoolExecutor:
    """Parser processes that end when the loader does (archive.workers), however it ends."""
    context = context or _worker_context()
    # a forked worker's parent is this process; a forkserver's worker knows its server's pid itself
    parent = os.getpid() if context.get_start_method() == "fork" else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker, initargs=(parent,))


def _result(job: tuple, fut: Future) -> Prepared | FileError:
    """A worker's result; when a worker died (out of memory, a crash in a C library), every file it
    left unfinished is tried again alone, so that only the file that kills a process fails."""
    try:
        return fut.result()
    except BrokenProcessPool:
        with _pool(1, multiprocessing.get_context()) as alone:
            try:
                return alone.submit(_prepare, job).result()
            except BrokenProcessPool:
                return FileError(path_text(job[0]), 1, "the parser process died on this file (out of memory or a crash)")


def load_paths(
    engine: Engine,
    paths: Iterable[str | os.PathLike],
    *,
    encoding: str | None = None,
    fmt: str | None = None,
    meta: Metadata | None = None,
    workers: int | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> LoadReport:
    """Load files and directories: parse in worker processes, write them several to a transaction, each
    file all or nothing (GroupWriter); `on_result` hears of each file once it is committed."""
    files = list(iter_files(paths))
    shard.heal(engine)  # a sharded coordinator: a file half-stored by a crash loads again
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    report = LoadReport()

    def emit(result: FileResult) -> None:
        report.results.append(result)
        if on_result:
            on_result(result)

    with GroupWriter(engine, emit) as group:
        for item in _prepared_stream(files, encoding, fmt, meta, workers, group.patience, bulk.direct(engine)):
            if item is IDLE:
                group.idle()
            elif isinstance(item, FileError):
                group.failed(FileResult(item.path, "failed", None, str(item), format=item.format))
            else:
                group.add(item)
    return report
