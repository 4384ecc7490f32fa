"""The analysts' path measured: an aggregation asked of the archive with `archive sql`, against the same
question asked of DuckDB over the view exported as Parquet (`archive export v_metric --format parquet`).

`python -m benchmarks.analytics DB [--runs 5]` on an SQLite archive. Needs the analytics extra.
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from benchmarks.measure import Row, render

QUESTIONS = {
    "metrics per unit": "SELECT unit, count(*) AS n, sum(value) AS total FROM {t} GROUP BY unit ORDER BY n DESC",
    "metrics per day and kind": "SELECT date, kind, count(*) AS n FROM {t} GROUP BY date, kind ORDER BY date, kind",
}


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def analytics_rows(db_path: Path, runs: int = 5) -> list[Row]:
    import duckdb

    archive = shutil.which("archive") or str(Path(sys.executable).with_name("archive"))
    url = f"sqlite:///{db_path}"
    with tempfile.TemporaryDirectory() as tmp:
        parquet = Path(tmp) / "v_metric.parquet"
        export_ms = _median_ms(
            lambda: subprocess.run([archive, "--db", url, "export", "v_metric", "--format", "parquet", "-o", str(parquet)],
                                   check=True, capture_output=True), 1)
        con = duckdb.connect()
        n = con.execute(f"SELECT count(*) FROM '{parquet}'").fetchall()[0][0]
        rows = [Row("analytics", f"export v_metric to Parquet ({n:,} rows)", export_ms, "ms", note="once, whole process")]
        for label, question in QUESTIONS.items():
            sql_ms = _median_ms(lambda: subprocess.run([archive, "--db", url, "sql", question.format(t="v_metric"), "--format", "csv"],
                                                       check=True, capture_output=True), runs)
            lite = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
            lite_ms = _median_ms(lambda: lite.execute(question.format(t="v_metric")).fetchall(), runs)
            lite.close()
            duck_ms = _median_ms(lambda: con.execute(question.format(t=f"'{parquet}'")).fetchall(), runs)
            rows.append(Row("analytics", f"{label}: archive sql (whole process)", sql_ms, "ms"))
            rows.append(Row("analytics", f"{label}: the same SQL in SQLite (in process)", lite_ms, "ms"))
            rows.append(Row("analytics", f"{label}: DuckDB on the Parquet (in process)", duck_ms, "ms", lite_ms, lite_ms / duck_ms if duck_ms else None,
                            note="ratio = times faster than SQLite in process"))
    return rows


@click.command()
@click.argument("db", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--runs", default=5, show_default=True)
def main(db: Path, runs: int) -> None:
    """Time two aggregations in `archive sql` and in DuckDB over the exported Parquet."""
    print(render(analytics_rows(db, runs)))


if __name__ == "__main__":
    main()
