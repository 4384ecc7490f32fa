"""Export: CSV rows/s of `archive export NAME` for the large tables and every view, against the sqlite3
shell's `.mode csv` of the same relation on SQLite and `psql \\copy (SELECT …) TO STDOUT CSV HEADER` on
PostgreSQL (the relation loaded from the same corpus).

`python -m benchmarks.export URL [--runs N] [--relation NAME …]` times an archive that is already loaded
(a `sqlite:///FILE` or a `postgresql+psycopg://…` URL), or part `export` of `python -m benchmarks`."""

from __future__ import annotations

import csv
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.measure import Row, child_env, rate_ratio

TABLE = "paragraph"
# The relations timed: the big tables (integers and text; exact decimals in metric; long texts in source)
# and every view. The small tables take less time than the interpreter's start.
RELATIONS = ("paragraph", "metric", "source", "article", "v_paragraph", "v_metric", "v_article")
ORDER = {  # what archive orders by: the primary key, or a view's first column
    "v_paragraph": "paragraph_id", "v_metric": "metric_id", "v_article": "article_id", "v_fact": "metric_id",
    "v_series": "metric_id", "article_author": "article_id, ordinal",
}
TARGET_RATIO = 2.0
RUNS = 3


def _timed_to_file(cmd: list[str], out: Path) -> float:
    start = time.perf_counter()
    with open(out, "wb") as fh:
        subprocess.run(cmd, stdout=fh, stderr=subprocess.PIPE, check=True, env=child_env())
    return time.perf_counter() - start


def _csv_rows(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1  # less the header


def export_command_args(name: str = TABLE) -> list[str] | None:
    """The arguments that make `archive export` write `name` as CSV to stdout, or None."""
    from archive.cli import main

    command = main.commands.get("export")
    if command is None:
        return None
    options = {n for p in command.params for n in getattr(p, "opts", ())}
    args = ["export", name]
    if "--format" in options:
        args += ["--format", "csv"]
    return args


def _compare(group: str, url: str, name: str, floor_cmd: list[str], floor_name: str, workdir: Path, runs: int = RUNS) -> Row:
    args = export_command_args(name)
    floor_out, ours_out = workdir / "export.floor.csv", workdir / "export.archive.csv"
    # the `archive` script's entry point (archive.launch), which runs `export NAME` itself or hands it to archive.cli
    ours_cmd = [sys.executable, "-c", "from archive.launch import main; main()", "--db", url, *args]
    # Alternately, RUNS times each: the first run of either would otherwise pay for reading the file
    # into the page cache; the median of each is compared.
    floor_times, ours_times = [], []
    try:
        for _ in range(runs):
            floor_times.append(_timed_to_file(floor_cmd, floor_out))
            ours_times.append(_timed_to_file(ours_cmd, ours_out))
    except subprocess.CalledProcessError as exc:
        reason = (exc.stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
        return Row(group, f"archive {' '.join(args)}", None, "rows/s", note=f"skipped: the command failed: {reason[0]}")
    floor_s, ours_s = statistics.median(floor_times), statistics.median(ours_times)
    rows, ours_rows = _csv_rows(floor_out), _csv_rows(ours_out)
    floor_rate, ours_rate = rows / floor_s, ours_rows / ours_s
    ratio = rate_ratio(ours_rate, floor_rate)
    return Row(
        group,
        f"archive export {name}",
        ours_rate,
        "rows/s",
        floor_rate,
        ratio,
        f"≤ {TARGET_RATIO:g}× floor",
        ratio is not None and ratio <= TARGET_RATIO and ours_rows == rows,
        f"{ours_rows:,} rows ({floor_name}: {rows:,}); process start included in both; "
        f"median of {runs} alternating runs each ({ours_s:.2f} s against {floor_s:.2f} s)",
    )


def export_rows(db_path: Path, workdir: Path, relations=RELATIONS, runs: int = RUNS) -> list[Row]:
    group = "export sqlite"
    if export_command_args() is None:
        return [Row(group, f"archive export {TABLE}", None, "rows/s", note="skipped: no `archive export` command on this branch")]
    if shutil.which("sqlite3") is None:
        return [Row(group, f"archive export {TABLE}", None, "rows/s", note="skipped: no sqlite3 shell (apt-get install sqlite3)")]
    return [
        _compare(group, f"sqlite:///{db_path}", name, ["sqlite3", "-csv", "-header", str(db_path), f"SELECT * FROM {name}"],
                 "sqlite3 shell -csv", workdir, runs)
        for name in relations
    ]


def postgres_export_rows(engine: str, directory: Path, workdir: Path) -> list[Row]:
    """The corpus loaded into a fresh PostgreSQL database, then each relation against psql's \\copy."""
    from sqlalchemy.engine import make_url

    from benchmarks.load import end_to_end, fresh_database

    group = "export postgresql"
    if shutil.which("psql") is None:
        return [Row(group, f"archive export {TABLE}", None, "rows/s", note="skipped: no psql")]
    with fresh_database(engine, Path("."), "export") as url:
        end_to_end(url, directory)
        return loaded_postgres_rows(url, workdir)


def loaded_postgres_rows(url: str, workdir: Path, relations=RELATIONS, runs: int = RUNS) -> list[Row]:
    """Each relation of the PostgreSQL archive at `url` against psql's \\copy of it."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = ["psql", "-X", "-q", "-h", u.host or "localhost", "-p", str(u.port or 5432), "-U", u.username or "postgres", u.database]
    rows = []
    for name in relations:
        order = ORDER.get(name, "id")
        copy = f"\\copy (SELECT * FROM {name} ORDER BY {order}) TO STDOUT WITH (FORMAT csv, HEADER)"
        rows.append(_compare("export postgresql", url, name, [*conn, "-c", copy], "psql \\copy", workdir, runs))
    return rows


def main() -> None:
    import argparse
    import tempfile

    from benchmarks.measure import load_average, render

    parser = argparse.ArgumentParser(prog="python -m benchmarks.export", description="Time archive export of a loaded archive against the sqlite3 shell or psql.")
    parser.add_argument("url", help="sqlite:///FILE or postgresql+psycopg://…")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--relation", action="append", help=f"a table or view (default: {', '.join(RELATIONS)})")
    args = parser.parse_args()
    relations = tuple(args.relation or RELATIONS)
    print(f"load average at start {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.url.startswith("sqlite:///"):
            rows = export_rows(Path(args.url[len("sqlite:///"):]), Path(tmp), relations, args.runs)
        else:
            rows = loaded_postgres_rows(args.url, Path(tmp), relations, args.runs)
    print(render(rows))
    print(f"load average at end {load_average()}")


if __name__ == "__main__":
    main()
