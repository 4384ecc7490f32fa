"""The loader: files in, one transaction per file, parsed in worker processes ahead of the writing
(archive.writer writes the rows)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import ColumnElement, Connection, Engine, Select, bindparam, func, select, union_all
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from archive import bulk, shard, writer
from archive.db import DiskFull, is_disk_full
from archive.formats.metadata import Metadata
from archive.inputs import iter_files, path_text
from archive.models import Source, SourcePath
from archive.prepare import FileError, Prepared, prepare_file
from archive.workers import init_worker

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


def store(conn: Connection, prepared: Prepared) -> FileResult:
    """Write one prepared file inside the caller's transaction: new, updated (same path), unchanged, or
    a duplicate (these bytes are loaded from another path: only the path is recorded)."""
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
            writer.forget_path(conn, here[0][0], prepared.path)
        writer.add_path(conn, source_id, prepared)
        return FileResult(prepared.path, "duplicate", source_id, format=fmt, duplicate_of=first)
    earlier: list[int] = []
    if here:
        old_id, paths = here[0]
        if paths > 1:  # other paths still hold the old bytes: they keep them
            writer.forget_path(conn, old_id, prepared.path)
        else:
            earlier = [old_id]
    # a new version of a file loaded before: its articles, sections and paragraphs keep their ids by position
    kept = writer.KeptIds.of_source(conn, earlier[0]) if earlier else None
    old_issues = [i for source_id in earlier for i in writer.delete_source(conn, source_id)]
    source_id = writer.add_source(conn, prepared, kept)
    writer.drop_empty_issues(conn, old_issues)
    without_body = prepared.without_body
    status = "updated" if here else "new"
    return FileResult(prepared.path, status, source_id, format=fmt, without_body=without_body)


def store_with_retry(engine: Engine, prepared: Prepared) -> FileResult:
    """One transaction per file; a race with another loader (unique key, lock) is retried, then reported."""
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
    return FileResult(prepared.path, "failed", None, f"{prepared.path}:1: database error: {_reason(last)}")


def _reason(exc: Exception | None) -> str:
    return str(getattr(exc, "orig", exc)).splitlines()[0]


# ---------------------------------------------------------------- many files


def _prepare(args: tuple[str, str | None, str | None, Metadata | None]) -> Prepared | FileError:
    try:
        return prepare_file(*args).flat()  # rows, not objects: cheaper for the writer to unpickle
    except FileError as exc:
        return exc
    except Exception as exc:  # a parser bug must cost one file, not the batch
        return FileError(path_text(args[0]), 1, f"internal parser error: {type(exc).__name__}: {exc}")


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
        context.set_forkserver_preload(["archive._forkserver"])  # imports the loader; ends with us
    return context


def _prepared_stream(
    files: list[str], encoding: str | None, fmt: str | None, meta: Metadata | None, workers: int
) -> Iterator[Prepared | FileError]:
    jobs = ((f, encoding, fmt, meta) for f in files)
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
                yield _result(*pending.pop(0))
        for job, fut in pending:
            yield _result(job, fut)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
    """Load files and directories: parse in worker processes, write each file in its own transaction."""
    files = list(iter_files(paths))
    shard.heal(engine)  # a sharded coordinator: a file half-stored by a crash loads again
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    report = LoadReport()
    for item in _prepared_stream(files, encoding, fmt, meta, workers):
        if isinstance(item, FileError):
            result = FileResult(item.path, "failed", None, str(item), format=item.format)
        else:
            result = store_with_retry(engine, item)
        report.results.append(result)
        if on_result:
            on_result(result)
    return report
