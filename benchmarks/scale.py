"""The scale curve (issue 17, point 6): load and read the generated corpus at several sizes on SQLite, so
that what grows with the archive shows as a column that is not flat.

    python -m benchmarks.scale --pages 1000 10000 100000 --workdir DIR
    python -m benchmarks.scale --folder DIR --load-args "--format article --newspaper …" --terms "…" --workdir DIR

For each size: the first N pages of one corpus (`benchmarks.corpus` is deterministic, so the smaller
corpora are hard links to the largest one's first pages and the sizes nest), schema made by `archive db
upgrade`, then `archive load -q --workers 2` timed as a fresh process, with the CPU (user + system) of
it and of every process it starts, its forkserver's workers included; the database file, the search
index and the text it indexes (`benchmarks.search.sizes`); the interactive commands as whole processes
against the sqlite3 shell running their SQL (`benchmarks.commands`); and the first page and the count of
each search term in this process (`benchmarks.search.time_term`). `--folder` measures a folder of real
files instead, loaded with `--load-args`. Each size's figures are kept in DIR/scale-LABEL.json (a load
already made is reused unless `--reload`), and the tables are printed as Markdown, one row a size.
"""

from __future__ import annotations

import ctypes
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import db
from archive.models import Paragraph
from benchmarks import corpus
from benchmarks.commands import command_rows
from benchmarks.measure import MB, fmt, load_average, machine
from benchmarks.search import sizes, time_term

# one character: in every paragraph, common, uncommon (only the cities of a tenth of the articles), in
# none; then 2, 4 and 8 characters, all common
TERMS = ("。", "警", "霍", "犀", "民警", "教育整顿", "坚持政治建警、全")
READS = (("show 1", ["show", "1"]), ("stats", ["stats"]), ("articles", ["articles", "--limit", "20"]),
         ("metrics", ["metrics", "--limit", "20"]))
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
REAP_SECONDS = 30


def archive_exe() -> str:
    return shutil.which("archive") or str(Path(sys.executable).with_name("archive"))


def nest(files: list[Path], directory: Path) -> Path:
    """`directory` holding hard links to `files` (a larger corpus's first pages): the sizes nest."""
    directory.mkdir(parents=True, exist_ok=True)
    for f in files:
        link = directory / f.name
        if not link.exists():
            os.link(f, link)
    return directory


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree_run(cmd: list[str]) -> dict:
    """Run `cmd`: its wall seconds, and the CPU seconds of it and of every process it started.

    The loader's workers are forked by a forkserver that the loader does not wait for, so its own
    rusage leaves them out. This process becomes a subreaper (Linux): the processes orphaned on the way
    are re-parented here, waited for and counted (a process's rusage holds the children it waited for)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:
        before = _children_cpu()
        start = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - start
        deadline, left = time.monotonic() + REAP_SECONDS, True
        while left and time.monotonic() < deadline:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    time.sleep(0.05)
            except ChildProcessError:
                left = False
        return {"seconds": wall, "cpu_seconds": _children_cpu() - before, "exit": done.returncode,
                "stderr_lines": [line for line in done.stderr.splitlines() if line.strip()], "uncounted": left}
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def load(db_path: Path, directory: Path, load_args: list[str]) -> dict:
    """A fresh database at `db_path`, its schema made, then `archive load` of `directory` timed."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    subprocess.run([archive_exe(), "--db", url, "db", "upgrade"], check=True, capture_output=True)
    files = sum(1 for p in directory.rglob("*") if p.suffix in (".txt", ".md"))
    before = load_average()
    run = tree_run([archive_exe(), "--db", url, "load", "-q", "--workers", "2", *load_args, str(directory)])
    if run["exit"] not in (0, 1):  # 1: some files failed, each said on stderr; anything else is a crash
        raise click.ClickException(f"archive load exited {run['exit']}: {run['stderr_lines'][-1:]}")
    return {**run, "files": files, "failed": len(run["stderr_lines"]), "load_average": [before, load_average()]}


def measure(label: str, db_path: Path, directory: Path, load_args: list[str], terms: tuple[str, ...],
            runs: int, reload: bool) -> dict:
    saved = db_path.with_suffix(".json")
    if db_path.exists() and saved.exists() and not reload:
        loaded = json.loads(saved.read_text())["load"]
        click.echo(f"{label}: reusing the load of {db_path}", err=True)
    else:
        click.echo(f"{label}: loading {directory} (load average {load_average()})", err=True)
        loaded = load(db_path, directory, load_args)
    url = f"sqlite:///{db_path}"
    engine = db.make_engine(url)
    found = {"label": label, "load": loaded, "db_bytes": sum(p.stat().st_size for p in (db_path, Path(f"{db_path}-wal")) if p.exists()), **sizes(engine)}
    with Session(engine) as s:
        found["paragraphs"] = s.scalar(select(func.count()).select_from(Paragraph))
        found["terms"] = [time_term(s, t) for t in terms]
    engine.dispose()
    found["load_average_reads"] = load_average()
    commands = tuple((f"search {t}", ["search", t]) for t in terms) + READS
    found["commands"] = [
        {"name": r.name, "ms": r.value, "shell_ms": r.floor, "note": r.note} for r in command_rows(db_path, runs, commands)
    ]
    found["load_average_end"] = load_average()
    saved.write_text(json.dumps(found, ensure_ascii=False, indent=1))
    return found


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def tables(results: list[dict], start: dict) -> str:
    """The figures as Markdown tables whose rows are the sizes, so that flatness reads down a column;
    `start` is a load of one page, whose time and CPU (starting Python, the forkserver and the workers)
    are taken off the others' for the net figures."""
    size_rows = []
    for r in results:
        ld, files = r["load"], r["load"]["files"]
        net_s, net_cpu = ld["seconds"] - start["seconds"], ld["cpu_seconds"] - start["cpu_seconds"]
        size_rows.append([
            r["label"], f"{r['paragraphs']:,}", f"{ld['seconds']:.0f}", fmt(files / ld["seconds"]),
            fmt((files - 1) / net_s), fmt(ld["cpu_seconds"] / files * 1000) + ("?" if ld["uncounted"] else ""),
            fmt(net_cpu / (files - 1) * 1000), str(ld["failed"]),
            fmt(r["db_bytes"] / MB), fmt(r["db_bytes"] / files / 1000), fmt(r["indexed_bytes"] / MB),
            fmt(r["index_bytes"] / MB), f"{r['index_bytes'] / r['indexed_bytes']:.2f}×",
            " → ".join(x.split()[0] for x in ld["load_average"]),
        ])
    out = [markdown(["pages", "paragraphs", "load s", "pages/s", "net pages/s", "CPU-ms a page", "net CPU-ms a page",
                     "failed", "database MB",
                     "KB a page", "indexed text MB", "index MB", "index ÷ text", "load average (1 min) before → after"],
                    size_rows)]
    names = [c["name"] for c in results[0]["commands"]]
    out.append(markdown(["pages", *(n.removeprefix("archive ").removesuffix(" (interpreter start)") for n in names),
                         "load average"], [
        [r["label"], *(fmt(c["ms"]) + (f" ({fmt(c['shell_ms'])})" if c["shell_ms"] else "") for c in r["commands"]),
         r["load_average_reads"].split()[0]]
        for r in results
    ]))
    terms = [t["query"] for t in results[0]["terms"]]
    out.append(markdown(["pages", *terms], [
        [r["label"], *(f"{fmt(t['page_median_ms'])} / {fmt(t['count_median_ms'])}" for t in r["terms"])] for r in results
    ]))
    out.append(markdown(["pages", *(f"hits of {t}" for t in terms)], [
        [r["label"], *(f"{t['hits']:,}" for t in r["terms"])] for r in results
    ]))
    return "\n\n".join(out)


@click.command()
@click.option("--pages", "page_counts", type=int, help="Sizes in pages: --pages 1000 10000 100000 (the default; the "
              "numbers after the first are arguments).")
@click.argument("extra", nargs=-1, type=int)
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Corpus, databases and the figures (DIR/scale-LABEL.json) go here.")
@click.option("--folder", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Measure this folder of files instead of the generated corpus.")
@click.option("--load-args", default="", help="More `archive load` options for --folder (one string).")
@click.option("--terms", help="Search terms, space-separated (default: terms of the generated corpus).")
@click.option("--runs", default=5, show_default=True, help="Runs of each whole-process command (median).")
@click.option("--reload", is_flag=True, help="Load again even when DIR holds a database and its figures.")
def main(page_counts: int | None, extra: tuple[int, ...], workdir: Path, folder: Path | None, load_args: str,
         terms: str | None, runs: int, reload: bool) -> None:
    """Load and read the generated corpus at each size (--pages 1000 10000 100000), one table row a size."""
    counts = sorted({*([page_counts] if page_counts else []), *extra}) or ([] if folder else [1000, 10_000, 100_000])
    workdir.mkdir(parents=True, exist_ok=True)
    click.echo(f"machine: {machine()}")
    chosen = tuple(terms.split()) if terms else TERMS
    one = corpus.write_corpus(workdir / f"corpus-{corpus.SALT}-1", 1)[0].parent
    start = load(workdir / "scale-start.db", one, [])
    click.echo(f"start-up: a load of one page takes {start['seconds']:.2f} s, {start['cpu_seconds']:.2f} CPU-s", err=True)
    results = []
    if folder:
        results.append(measure(folder.name, workdir / f"scale-{folder.name}.db", folder, shlex.split(load_args), chosen,
                               runs, reload))
    if counts:
        largest = workdir / f"corpus-{corpus.SALT}-{counts[-1]}"
        started = time.perf_counter()
        files = corpus.write_corpus(largest, counts[-1])
        click.echo(f"corpus: {len(files):,} pages in {largest} ({time.perf_counter() - started:.0f} s)", err=True)
        for n in counts:
            directory = largest if n == counts[-1] else nest(files[:n], workdir / f"corpus-{corpus.SALT}-{n}")
            results.append(measure(f"{n:,}", workdir / f"scale-{n}.db", directory, [], chosen, runs, reload))
            click.echo(tables(results[-1:], start), err=True)
    click.echo(f"start-up (net figures take it off): a load of one page takes {start['seconds']:.2f} s and "
               f"{start['cpu_seconds']:.2f} CPU-s")
    click.echo(tables(results, start))
    click.echo(f"load average at the end {load_average()}")


if __name__ == "__main__":
    main()
