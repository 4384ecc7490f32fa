"""Load and memory: pages/s end to end, the time split into decode, parse, extract, facts, tokenize, rows and write, each write
against the floor of the same rows written raw, and peak RSS at two corpus sizes.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from archive import db, loader
from archive.decode import decode
from archive.formats import parse_text
from archive.facts import document_facts
from archive.prepare import Parsed, Prepared, document_metrics, index_tokens, prepare_file
from benchmarks import corpus
from benchmarks.floor import Capture, PostgresFloor, SqliteFloor, spool_read, spool_write, table_counts
from benchmarks.measure import MB, Row, child_env, rate_ratio

TARGET_PAGES_PER_S = 200
TARGET_WRITE_RATIO = 2.0
TARGET_RSS_MB = 200
FLAT_TOLERANCE = 1.10  # peak RSS at the big corpus may exceed the small one's by this factor (noise)


@dataclass
class WriteRun:
    """A serial pass over the corpus: seconds per stage, bytes read, and pages that did not parse as generated."""

    pages: int = 0
    bytes: int = 0
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("decode", "parse", "extract", "facts", "tokenize", "rows", "write"), 0.0)
    )
    mismatches: list[str] = field(default_factory=list)
    write_times: list[float] = field(default_factory=list)  # per page of each batch, wall seconds
    floor_times: list[float] = field(default_factory=list)
    floor_seconds: float = 0.0
    write_cpu: float = 0.0  # CPU seconds of this process: steadier than wall time on a busy machine
    floor_cpu: float = 0.0

    def timed_pair(self, pages: int, write_s: float, floor_s: float, write_cpu: float, floor_cpu: float) -> None:
        """A batch of `pages` written, and its floor: wall seconds and CPU seconds of each."""
        self.write_times.append(write_s / pages)
        self.floor_times.append(floor_s / pages)
        self.floor_seconds += floor_s
        self.write_cpu += write_cpu
        self.floor_cpu += floor_cpu


def _page_index(path: Path) -> int:
    return int(path.name.split("_", 1)[0])


CHUNK = getattr(loader, "BATCH_FILES", 32)  # files prepared ahead of their writes in the split run: one batch of the loader's


def write_batch(group: loader.GroupWriter, chunk: list[Prepared], run: WriteRun) -> None:
    """Write prepared files as one batch of the loader's (one transaction), as its writer does."""
    results: list[loader.FileResult] = []
    group.emit = results.append
    for prepared in chunk:
        group.add(prepared)
    group.commit()
    run.mismatches += [r.message or r.path for r in results if r.status == "failed"]


def split_run(url: str, files: list[Path], spool: Path, floor_db: Path) -> WriteRun:
    """Load the files, timing each stage, and spool the rows the loader inserted.

    Files are decoded, parsed and extracted a chunk at a time, then written as the loader's writer
    writes them: the chunk is one batch (loader.GroupWriter, one transaction, a savepoint a file), so
    the writes run back to back as in the writer process (whose caches hold writing code, not parsing
    code). Each batch's rows go to the floor database right after the loader wrote them, in one
    transaction too, so the loader and its floor share whatever else the machine is doing then.
    """
    capture = Capture()
    engine = capture.engine(url)
    db.ensure_schema(engine)
    group = loader.GroupWriter(engine, print, seconds=float("inf"))
    floor = SqliteFloor(floor_db)
    run = WriteRun()
    clock, cpu = time.perf_counter, time.process_time
    with open(spool, "wb") as fh:
        for first in range(0, len(files), CHUNK):
            chunk = []
            for path in files[first : first + CHUNK]:
                t0 = clock()
                data = path.read_bytes()
                decoded = decode(data)
                sha = hashlib.sha256(data).hexdigest()
                t1 = clock()
                name, document = parse_text(decoded.text)
                t2 = clock()
                metrics = document_metrics(document)
                t3 = clock()
                facts = document_facts(document, metrics)
                t4 = clock()
                tokens = index_tokens(document)  # the search index's token text, as the loader's workers make it
                t5 = clock()
                parsed = Parsed(document, metrics, name, tokens, facts)
                # the rows a worker sends the writer (prepare.Rows), as the loader's workers make them
                prepared = Prepared(str(path), sha, len(data), decoded.encoding, decoded.text, parsed).flat(sqlite=True)
                t6 = clock()
                for stage, dt in zip(run.seconds, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
                    run.seconds[stage] += dt
                run.pages += 1
                run.bytes += len(data)
                if problem := corpus.check(document, corpus.generate(_page_index(path))):
                    run.mismatches.append(f"{path.name}: {problem}")
                chunk.append(prepared)
            capture.take()
            c0, t0 = cpu(), clock()
            write_batch(group, chunk, run)
            c1, t1 = cpu(), clock()
            rows = capture.take()
            floor_s = floor.insert(rows)
            run.timed_pair(len(chunk), t1 - t0, floor_s, c1 - c0, cpu() - c1)
            run.seconds["write"] += t1 - t0
            spool_write(fh, rows)
    floor.close()
    engine.dispose()
    return run


def write_only_run(url: str, files: list[Path], floor, spool: Path) -> WriteRun:
    """Load the files a batch at a time, as split_run did, timing only the writes (decode/parse/extract
    do not depend on the engine), each batch followed by its floor: the same batch's spooled rows
    written by `floor` in one transaction."""
    engine = db.make_engine(url)
    db.ensure_schema(engine)
    group = loader.GroupWriter(engine, print, seconds=float("inf"))
    run = WriteRun()
    cpu = time.process_time
    chunks = (files[i : i + CHUNK] for i in range(0, len(files), CHUNK))
    for paths, rows in zip(chunks, spool_read(spool)):
        chunk = [prepare_file(str(path)).flat() for path in paths]
        c0, start = cpu(), time.perf_counter()
        write_batch(group, chunk, run)
        c1, write_s = cpu(), time.perf_counter() - start
        floor_s = floor.insert(rows)
        run.timed_pair(len(chunk), write_s, floor_s, c1 - c0, cpu() - c1)
        run.seconds["write"] += write_s
        run.pages += len(chunk)
        run.bytes += sum(p.byte_count for p in chunk)
    engine.dispose()
    return run


def end_to_end(url: str, directory: Path) -> dict:
    """`archive load` in a process of its own (workers and all): seconds and peak RSS."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.loadrun", url, str(directory)],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_rss_kb() -> int:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.loadrun", "--baseline"], capture_output=True, text=True, check=True, env=child_env()
    )
    return json.loads(out.stdout)["self_kb"]


@contextmanager
def fresh_database(engine: str, workdir: Path, label: str) -> Iterator[str]:
    """A URL of an empty database: a new SQLite file, or a new database on the server `engine` names."""
    if engine == "sqlite":
        path = workdir / f"{label}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    base = make_url(engine)
    name = f"archive_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def _count_note(a: dict[str, int], b: dict[str, int]) -> str:
    differ = sorted(t for t in a.keys() | b.keys() if a.get(t) != b.get(t))
    return f"floor row counts differ in {', '.join(differ)}" if differ else f"same rows in all {len(a)} tables"


def sqlite_load(files: list[Path], directory: Path, workdir: Path) -> tuple[list[Row], Path, dict]:
    """The SQLite load figures; returns the rows, the spool of inserted rows (for other floors) and
    the end-to-end run's figures (its peak memory serves the memory part)."""
    group = f"load sqlite ({len(files):,} pages)"
    spool = workdir / "rows.spool"
    floor_db = workdir / "floor.db"
    with fresh_database("sqlite", workdir, "split") as url:
        run = split_run(url, files, spool, floor_db)
        loaded_counts = table_counts(url)
    note = _count_note(loaded_counts, table_counts(f"sqlite:///{floor_db}"))
    with fresh_database("sqlite", workdir, "e2e") as url:
        e2e = end_to_end(url, directory)
    rows = _load_rows(group, run, e2e, note, "raw sqlite3 executemany in WAL mode")
    return rows, spool, e2e


def postgres_load(engine: str, files: list[Path], directory: Path, spool: Path) -> list[Row]:
    group = f"load postgresql ({len(files):,} pages)"
    with fresh_database(engine, Path("."), "write") as url, fresh_database(engine, Path("."), "copy") as floor_url:
        floor = PostgresFloor(floor_url)
        run = write_only_run(url, files, floor, spool)
        floor.close()
        note = _count_note(table_counts(url), table_counts(floor_url))
        if floor.skipped:
            note += f"; not in PostgreSQL, left out: {', '.join(sorted(floor.skipped))}"
    with fresh_database(engine, Path("."), "e2e") as url:
        e2e = end_to_end(url, directory)
    return _load_rows(group, run, e2e, note, "COPY")


def _load_rows(group: str, run: WriteRun, e2e: dict, count_note: str, floor_name: str) -> list[Row]:
    pages, mb = run.pages, run.bytes / MB
    floor_s = run.floor_seconds
    floor_rate = pages / floor_s
    e2e_rate = e2e["files"] / e2e["seconds"]
    cpu_ms = e2e["cpu_seconds"] / e2e["files"] * 1000
    writer_ms = e2e["writer_cpu_seconds"] / e2e["files"] * 1000
    rows = [
        Row(
            group,
            "end to end (archive load, 2 workers)",
            e2e_rate,
            "pages/s",
            floor_rate,
            rate_ratio(e2e_rate, floor_rate),
            f"≥ {TARGET_PAGES_PER_S} pages/s",
            e2e_rate >= TARGET_PAGES_PER_S and not e2e["failed"],
            f"{mb / e2e['seconds']:.2f} MB/s; {e2e['failed']} failed" + (f": {e2e['first_failure']}" if e2e["failed"] else "")
            + f"; {cpu_ms:.2f} CPU-ms a page (writer {writer_ms:.2f} + workers): {e2e['cpus'] / cpu_ms * 1000:.0f} pages/s on {e2e['cpus']} idle cores",
        )
    ]
    serial = sum(run.seconds.values())
    for stage, seconds in run.seconds.items():
        if not seconds:
            continue
        rate = pages / seconds
        row = Row(group, f"  {stage} (serial)", rate, "pages/s", note=f"{mb / seconds:.2f} MB/s; {seconds / serial:.0%} of serial time")
        if stage == "write":
            row.floor, row.ratio = floor_rate, rate_ratio(rate, floor_rate)
            row.note += f"; floor: {floor_name}, one transaction per batch of {CHUNK} files as the loader's, after the loader ({count_note})"
        rows.append(row)
    median_write, median_floor = statistics.median(run.write_times), statistics.median(run.floor_times)
    ratio = median_write / median_floor
    rows.append(
        Row(
            group,
            "  write, median page (of a batch)",
            median_write * 1000,
            "ms",
            median_floor * 1000,
            ratio,
            f"≤ {TARGET_WRITE_RATIO:g}× floor",
            ratio <= TARGET_WRITE_RATIO,
            f"median is robust to the preemptions of a shared machine; CPU time {run.write_cpu / run.floor_cpu:.2f}× floor's",
        )
    )
    if run.mismatches:
        rows.append(Row(group, "pages not parsed as generated", len(run.mismatches), "pages", ok=False, note=run.mismatches[0]))
    return rows


def memory_rows(sizes: list[tuple[int, Path]], workdir: Path, known: dict[int, dict] | None = None) -> list[Row]:
    """Peak RSS of `archive load` at each corpus size, against a process that only imported the archive.

    `known` holds end-to-end runs already made, by page count (the load part's), so as not to repeat them.
    """
    base_mb = baseline_rss_kb() / 1024
    rows, peaks = [], []
    for pages, directory in sizes:
        e2e = (known or {}).get(pages)
        if e2e is None:
            with fresh_database("sqlite", workdir, f"mem{pages}") as url:
                e2e = end_to_end(url, directory)
        writer, worker, tree, pss = (e2e[k] / 1024 for k in ("self_kb", "children_kb", "tree_kb", "tree_pss_kb"))
        peaks.append({"writer": writer, "largest worker": worker, "whole tree (PSS)": pss})
        group = f"memory ({pages:,} pages)"
        for name, value in (("peak RSS, writer process", writer), ("peak RSS, largest worker", worker)):
            rows.append(
                Row(group, name, value, "MB", base_mb, value / base_mb, f"≤ {TARGET_RSS_MB} MB", value <= TARGET_RSS_MB)
            )
        rows.append(
            Row(
                group,
                "peak PSS, whole tree (sampled)",
                pss,
                "MB",
                base_mb,
                pss / base_mb,
                f"≤ {TARGET_RSS_MB} MB",
                pss <= TARGET_RSS_MB,
                f"writer + workers, pages they share counted once (summed RSS {tree:.0f} MB), sampled every 0.1 s",
            )
        )
    if len(peaks) > 1:
        for name in peaks[0]:
            growth = peaks[-1][name] / peaks[0][name]
            rows.append(
                Row(
                    f"memory growth {sizes[0][0]:,} → {sizes[-1][0]:,} pages",
                    name,
                    growth,
                    "×",
                    target=f"≤ {FLAT_TOLERANCE:g}× (flat)",
                    ok=growth <= FLAT_TOLERANCE,
                    note=f"{peaks[0][name]:.0f} → {peaks[-1][name]:.0f} MB",
                )
            )
    return rows


# ---------------------------------------------------------------- CPU a page, each side (steadier than wall time)


def worker_cpu_ms(files: list[Path], repeats: int = 4) -> float:
    """CPU-ms a page of what a parser worker does for a SQLite load (loader._prepare, then pickling
    its result), in this process, best of `repeats` passes: the least disturbed by whatever else the
    machine runs."""
    import pickle

    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for path in files:
            pickle.dumps(loader._prepare((str(path), None, None, None, True)), protocol=pickle.HIGHEST_PROTOCOL)
        best = min(best, time.process_time() - start)
    return best / len(files) * 1000


def writer_cpu_ms(directory: Path, workdir: Path, engine_url: str = "sqlite") -> dict[str, float]:
    """CPU-ms a page of the writer process in a load of `directory` with 2 workers into a fresh database
    (SQLite, or one made on the server `engine_url` names): in all, its main
    thread, the writes alone (GroupWriter's add, idle and the last commit; store_with_retry in a
    checkout from before group commit) and its other threads (receiving and unpickling results)."""
    import resource
    from contextlib import ExitStack
    from unittest import mock

    spent = [0.0]

    def timed(function):
        def run(*args, **kwargs):
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.thread_time() - start

        return run

    group = getattr(loader, "GroupWriter", None)
    # these call one another only through commit, which only they call: nothing is counted twice
    patched = [(group, name) for name in ("add", "idle", "failed", "__exit__")] if group else [(loader, "store_with_retry")]
    with fresh_database(engine_url, workdir, "cpu") as url:
        engine = db.make_engine(url)
        db.ensure_schema(engine)
        main0, usage0 = time.thread_time(), resource.getrusage(resource.RUSAGE_SELF)
        with ExitStack() as stack:
            for owner, name in patched:
                stack.enter_context(mock.patch.object(owner, name, timed(getattr(owner, name))))
            pages = len(loader.load_paths(engine, [directory], workers=2).results)
        main, usage = time.thread_time() - main0, resource.getrusage(resource.RUSAGE_SELF)
        engine.dispose()
    total = usage.ru_utime + usage.ru_stime - usage0.ru_utime - usage0.ru_stime
    return {k: v / pages * 1000 for k, v in (("process", total), ("main", main), ("store", spent[0]), ("other threads", total - main))}


if __name__ == "__main__":
    # python -m benchmarks.load DIR [WORKDIR [ENGINE_URL]]: the CPU a page of each side of a load, on DIR's
    # pages (the writer's into SQLite, or a fresh database on the server ENGINE_URL names)
    import tempfile

    where = Path(sys.argv[1])
    pages = sorted(p for p in where.rglob("*") if p.suffix in (".txt", ".md"))
    print(f"worker: {worker_cpu_ms(pages[:300]):.2f} CPU-ms a page (first {min(300, len(pages))} pages, best of 4)")
    with tempfile.TemporaryDirectory() as tmp:
        w = writer_cpu_ms(where, Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tmp), *sys.argv[3:4])
    print(f"writer: {w['process']:.2f} CPU-ms a page: main thread {w['main']:.2f} (writes {w['store']:.2f}), other threads {w['other threads']:.2f}")
