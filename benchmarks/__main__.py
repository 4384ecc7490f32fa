"""`python -m benchmarks [--pages N] [--engine URL] [--only load,memory,parse,extract,search,export,commands]`.

Prints one table: every figure with the floor measured in the same run, the ratio and the verdict.
The machine is shared: figures move with whatever else runs, so the load average is printed too.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import tempfile
import time
from pathlib import Path

import click
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from benchmarks import corpus
from benchmarks.measure import Row, load_average, machine, render, render_markdown

PARTS = ("parse", "load", "memory", "export", "extract", "search", "commands")
SERVER_ENV = ("ARCHIVE_BENCH_POSTGRES_URL", "ARCHIVE_TEST_POSTGRES_URL")
MEMORY_SMALL = 1000


def _reachable(url: str) -> str | None:
    """None when a server database at `url` answers, else why not."""
    try:
        engine = create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: not reachable, say why and carry on
        return str(exc).strip().splitlines()[0]


def _optional(module: str, **context) -> list[Row]:
    """Call benchmarks.<module>.run with the context arguments it accepts; skip with a note if absent."""
    if importlib.util.find_spec(f"benchmarks.{module}") is None:
        return [Row(module, f"benchmarks/{module}.py", None, "", note="skipped: module not on this branch yet")]
    run = importlib.import_module(f"benchmarks.{module}").run
    params = inspect.signature(run).parameters
    takes_all = any(p.kind is p.VAR_KEYWORD for p in params.values())
    result = run(**{k: v for k, v in context.items() if takes_all or k in params})
    if isinstance(result, Row):
        return [result]
    if isinstance(result, dict) and not {"group", "name"} <= result.keys():
        return [_summary_row(module, result)]
    rows = []
    for item in result or []:
        if isinstance(item, Row):
            rows.append(item)
        elif isinstance(item, dict) and {"group", "name"} <= item.keys():
            rows.append(Row(**{k: v for k, v in item.items() if k in Row.__dataclass_fields__}))
        elif isinstance(item, dict):
            rows.append(_summary_row(module, item))
        else:
            rows.append(Row(module, str(item), None, ""))
    return rows


def _summary_row(module: str, result: dict) -> Row:
    """One row for a figure a module reports as a plain dict: its rate (if any), the rest as a note."""
    rate_keys = [k for k in result if k.endswith("_per_s")]
    value = result[rate_keys[0]] if rate_keys else None
    unit = rate_keys[0].removesuffix("_per_s").replace("mb", "MB") + "/s" if rate_keys else ""
    label = next((str(v) for v in result.values() if isinstance(v, str)), f"benchmarks/{module}.py")
    note = ", ".join(f"{k} {v}" for k, v in result.items() if k not in rate_keys and str(v) != label)
    return Row(module, label, value, unit, note=note)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--pages", default=10_000, show_default=True, help="Pages in the corpus.")
@click.option(
    "--engine",
    "engines",
    multiple=True,
    help="sqlite, or a PostgreSQL server URL to create a scratch database on (repeatable). "
    f"Default: sqlite, plus PostgreSQL from ${SERVER_ENV[0]} or ${SERVER_ENV[1]} when it answers.",
)
@click.option("--only", default=",".join(PARTS), show_default=True, help="Comma-separated parts to run.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), help="Where the corpus and scratch databases go.")
@click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path), help="Also write the table as Markdown here.")
@click.option("--search-paragraphs", default=1_000_000, show_default=True, help="Paragraphs in the search part's corpus.")
def main(
    pages: int, engines: tuple[str, ...], only: str, workdir: Path | None, markdown: Path | None, search_paragraphs: int
) -> None:
    """Benchmark the archive against floors measured in the same run."""
    parts = [p.strip() for p in only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise click.BadParameter(f"unknown part(s) {', '.join(sorted(unknown))}; known: {', '.join(PARTS)}", param_hint="--only")
    workdir = workdir or Path(tempfile.gettempdir()) / "archive-bench"
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    print(f"machine: {machine()}")
    print("note: a shared machine; figures move with other load. Each is paired with a floor from this same run.")
    rows: list[Row] = []
    notes: list[str] = []

    directory = workdir / f"corpus-{corpus.SALT}-{pages}"
    files = corpus.write_corpus(directory, pages)
    size = sum(f.stat().st_size for f in files)
    print(f"corpus: {pages:,} pages, {size / 1e6:.1f} MB ({size / pages / 1000:.1f} KB a page; the seed is "
          f"{corpus.SEED.stat().st_size / 1000:.1f} KB) in {directory}")

    servers = list(engines) or [u for u in (os.environ.get(v) for v in SERVER_ENV) if u][:1]
    server_urls = [e for e in servers if e != "sqlite"]
    want_sqlite = not engines or "sqlite" in engines

    if "parse" in parts:
        from benchmarks.parsing import parse_rows

        rows += parse_rows(files)
    spool = None
    known_runs = {}
    if "load" in parts and want_sqlite:
        from benchmarks.load import sqlite_load

        load_rows, spool, known_runs[pages] = sqlite_load(files, directory, workdir)
        rows += load_rows
    if "load" in parts:
        for url in server_urls:
            from benchmarks.load import postgres_load

            backend = make_url(url).get_backend_name()
            why = _reachable(url) if backend == "postgresql" else f"{backend} is not benchmarked (PostgreSQL only)"
            if why or spool is None:
                notes.append(f"load on {backend} skipped: {why or 'needs the SQLite load (its rows are the COPY floor)'}")
                continue
            rows += postgres_load(url, files, directory, spool)
    if "memory" in parts:
        from benchmarks.load import memory_rows

        sizes = []
        for n in sorted({min(MEMORY_SMALL, pages), pages}):
            d = directory if n == pages else workdir / f"corpus-{corpus.SALT}-{n}"
            corpus.write_corpus(d, n)
            sizes.append((n, d))
        rows += memory_rows(sizes, workdir, known_runs)
    if "export" in parts:
        from benchmarks.export import export_rows

        loaded = workdir / "split.db"
        if loaded.exists() and "load" in parts:
            rows += export_rows(loaded, workdir)
        elif want_sqlite:
            notes.append("export skipped: it exports the SQLite database the load part builds (add load to --only)")
        for url in server_urls:
            if make_url(url).get_backend_name() == "postgresql" and not _reachable(url):
                from benchmarks.export import postgres_export_rows

                rows += postgres_export_rows(url, directory, workdir)
    if "extract" in parts:
        rows += _optional("extract", pages=pages, files=files, corpus_dir=directory, workdir=workdir)
    if "search" in parts:
        from benchmarks.search import search_rows

        rows += search_rows(search_paragraphs, ["sqlite"] * want_sqlite + server_urls)
    if "commands" in parts and want_sqlite:
        rows += _optional("commands", workdir=workdir, files=files)

    print()
    print(render(rows))
    for note in notes:
        print(f"note: {note}")
    elapsed = time.time() - started
    print(f"\n{elapsed:.0f} s; load average at the end {load_average()}")
    if markdown:
        markdown.write_text(render_markdown(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
