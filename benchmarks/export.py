"""Export: CSV rows/s of `archive export paragraph` against the sqlite3 shell's `.mode csv` of the same table."""

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


def export_command_args() -> list[str] | None:
    """The arguments that make `archive export` write the paragraph table as CSV to stdout, or None."""
    from archive.cli import main

    command = main.commands.get("export")
    if command is None:
        return None
    options = {name for p in command.params for name in getattr(p, "opts", ())}
    args = ["export", TABLE]
    if "--format" in options:
        args += ["--format", "csv"]
    return args


def export_rows(db_path: Path, workdir: Path) -> list[Row]:
    group = "export"
    args = export_command_args()
    if args is None:
        return [Row(group, f"archive export {TABLE}", None, "rows/s", note="skipped: no `archive export` command on this branch")]
    if shutil.which("sqlite3") is None:
        return [Row(group, f"archive export {TABLE}", None, "rows/s", note="skipped: no sqlite3 shell (apt-get install sqlite3)")]
    shell_out, ours_out = workdir / "export.shell.csv", workdir / "export.archive.csv"
    shell_cmd = ["sqlite3", "-csv", "-header", str(db_path), f"SELECT * FROM {TABLE}"]
    ours_cmd = [sys.executable, "-c", "from archive.cli import main; main()", "--db", f"sqlite:///{db_path}", *args]
    # Alternately, RUNS times each: the first run of either would otherwise pay for reading the file
    # into the page cache; the median of each is compared.
    shell_times, ours_times = [], []
    try:
        for _ in range(RUNS):
            shell_times.append(_timed_to_file(shell_cmd, shell_out))
            ours_times.append(_timed_to_file(ours_cmd, ours_out))
    except subprocess.CalledProcessError as exc:
        reason = (exc.stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
        return [Row(group, f"archive {' '.join(args)}", None, "rows/s", note=f"skipped: the command failed: {reason[0]}")]
    shell_s, ours_s = statistics.median(shell_times), statistics.median(ours_times)
    rows = _csv_rows(shell_out)
    ours_rows = _csv_rows(ours_out)
    shell_rate, ours_rate = rows / shell_s, ours_rows / ours_s
    ratio = rate_ratio(ours_rate, shell_rate)
    return [
        Row(
            group,
            f"archive {' '.join(args)}",
            ours_rate,
            "rows/s",
            shell_rate,
            ratio,
            f"≤ {TARGET_RATIO:g}× floor",
            ratio is not None and ratio <= TARGET_RATIO and ours_rows == rows,
            f"{ours_rows:,} rows (shell: {rows:,}); floor: sqlite3 shell -csv, process start included in both; "
            f"median of {RUNS} alternating runs each ({ours_s:.2f} s against {shell_s:.2f} s)",
        )
    ]
