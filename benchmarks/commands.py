"""Interactive commands as a user feels them: whole-process wall time of `archive search/show/stats/
articles/metrics` against the sqlite3 shell running the very SQL the command sent.

`python -m benchmarks.commands DB [--runs 5] [--archive PATH]`, or part `commands` of `python -m benchmarks`.

Which install is timed matters: an editable one (`pip install -e .`, the README's for development) runs
setuptools' import finder at every interpreter start, about 10 ms here (it imports pathlib, urllib.parse
and importlib.util), which a regular install (`pip install .`, what a release's user has) does not.
`--archive` times another install's `archive` script; the first row names the install either way.

The floor is exact, not a guess: each command is run once in this process with a listener on every
engine's cursor, its statements are written out with their parameters inlined as SQLite literals, and
`sqlite3 DB < that.sql` is timed the same way as `archive … ` (a fresh process each run, median of N).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from benchmarks.measure import Row

# (label, arguments after `archive --db URL`); the search terms are common in the seed-derived corpus.
COMMANDS = (
    ("stats", ["stats"]),
    ("show 1", ["show", "1"]),
    ("search 警", ["search", "警"]),
    ("search 民警", ["search", "民警"]),
    ("articles (first 20)", ["articles", "--limit", "20"]),
    ("metrics (first 20)", ["metrics", "--limit", "20"]),
)
TARGET_MS = 100
TARGET_RATIO = 5


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (bytes, bytearray)):
        return "X'" + bytes(value).hex() + "'"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _inline(statement: str, params) -> str:
    """`statement` with its qmark parameters written in as literals (the sqlite3 driver's paramstyle)."""
    if not params:
        return statement
    if isinstance(params, dict):
        for key, value in params.items():
            statement = statement.replace(f":{key}", _literal(value))
        return statement
    parts = statement.split("?")
    if len(parts) - 1 != len(params):  # a '?' inside a literal: give up on this statement's floor
        raise ValueError("cannot inline parameters")
    out = [parts[0]]
    for value, rest in zip(params, parts[1:]):
        out += [_literal(value), rest]
    return "".join(out)


def captured_sql(url: str, args: list[str]) -> tuple[str, str]:
    """The statements `archive args` sends to the database (reads only), and what it prints."""
    from click.testing import CliRunner
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from archive.cli import main

    sent: list[str] = []

    def listen(_conn, _cursor, statement, params, _context, executemany):
        if not executemany:
            sent.append(_inline(statement, params))

    try:  # the read commands run on the lean DB-API reader, not on an engine
        from archive import readdb
    except ImportError:  # a version before it
        readdb = None
    lean = readdb.Reader.execute if readdb else None

    def lean_execute(reader, statement, params=None):
        sent.append(_inline(str(getattr(statement, "text", statement)), params))
        return lean(reader, statement, params)

    event.listen(Engine, "before_cursor_execute", listen)
    if readdb:
        readdb.Reader.execute = lean_execute
    try:
        result = CliRunner().invoke(main, ["--db", url, *args])
    finally:
        event.remove(Engine, "before_cursor_execute", listen)
        if readdb:
            readdb.Reader.execute = lean
    if result.exit_code != 0:
        raise RuntimeError(f"archive {' '.join(args)} failed: {result.output.strip()[:200]}")
    reads = [s for s in sent if s.lstrip().upper().startswith(("SELECT", "WITH", "PRAGMA"))]
    return ";\n".join(reads) + ";\n", result.output


def _wall_ms(cmd: list[str], stdin: str | None = None, runs: int = 5) -> float:
    """Median wall milliseconds of `cmd` as a fresh process; CalledProcessError if it fails."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, input=stdin, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def install_kind(archive: str) -> str:
    """"editable" or "regular": how the archive that the script `archive` runs is installed."""
    python = _script_python(archive)
    probe = "import importlib.metadata as m; print(m.distribution('archive').read_text('direct_url.json') or '')"
    found = subprocess.run([python, "-c", probe], capture_output=True, text=True).stdout
    return "editable" if '"editable": true' in found else "regular"


def _script_python(archive: str) -> str:
    """The interpreter on the script's #! line (pip writes it), else this one."""
    with open(archive, "rb") as f:
        first = f.readline().decode(errors="replace")
    return first[2:].strip() if first.startswith("#!") and " " not in first[2:].strip() else sys.executable


def compile_package() -> None:
    """Write the archive package's bytecode (__pycache__) before timing it. An installed archive has it,
    and an editable one writes it on its first run, unless PYTHONDONTWRITEBYTECODE is set, as on the
    sessions' machine: then every run compiled archive/*.py again, about 13 CPU-ms of a 60 ms command."""
    import compileall

    import archive

    compileall.compile_dir(str(Path(archive.__file__).parent), quiet=1)


def command_rows(db_path: Path, runs: int = 5, commands: tuple[tuple[str, list[str]], ...] = COMMANDS,
                 archive: str | None = None) -> list[Row]:
    """One row a command (`commands`: label and arguments): its median wall time, the sqlite3 shell's for
    the same SQL, and the ratio. `archive`: the script to time (default: this environment's)."""
    url = f"sqlite:///{db_path}"
    compile_package()
    archive = archive or shutil.which("archive") or str(Path(sys.executable).with_name("archive"))
    shell = shutil.which("sqlite3")
    python = _script_python(archive)
    kind = install_kind(archive)
    rows = [Row("commands", "python -c pass (interpreter start)", _wall_ms([python, "-c", "pass"], runs=runs), "ms",
                note=f"{kind} install: {archive}")]
    for label, args in commands:
        try:
            value = _wall_ms([archive, "--db", url, *args], runs=runs)
        except subprocess.CalledProcessError as exc:  # an option this version lacks: say so, go on
            rows.append(Row("commands", f"archive {label}", None, "ms", note="failed: " + exc.stderr.strip().splitlines()[-1][:80]))
            continue
        floor = note = None
        try:
            script, _ = captured_sql(url, args)
            if shell:
                floor = _wall_ms([shell, str(db_path)], stdin=script, runs=runs)
            else:
                note = "no sqlite3 shell: floor skipped"
        except (ValueError, RuntimeError) as exc:
            note = f"floor skipped: {exc}"
        ratio = value / floor if floor else None
        ok = value <= TARGET_MS and (ratio is None or ratio <= TARGET_RATIO)
        rows.append(Row("commands", f"archive {label}", value, "ms", floor, ratio, f"≤ {TARGET_MS} ms, ≤ {TARGET_RATIO}× shell", ok, note or ""))
    return rows


def run(workdir: Path, files: list[Path] | None = None, **_context) -> list[Row]:
    """Part `commands` of `python -m benchmarks`: loads the corpus into a scratch file if needed."""
    db_path = workdir / "commands.db"
    if not db_path.exists() and files:
        corpus_dir = files[0].parent
        subprocess.run(["archive", "--db", f"sqlite:///{db_path}", "load", "-q", str(corpus_dir)], check=True)
    return command_rows(db_path)


@click.command()
@click.argument("db", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--runs", default=5, show_default=True)
@click.option("--archive", "archive", type=click.Path(exists=True, dir_okay=False), help="The `archive` script to time (default: this environment's), e.g. a regular install's.")
def main(db: Path, runs: int, archive: str | None) -> None:
    """Time the interactive commands on an SQLite archive DB against the sqlite3 shell."""
    from benchmarks.measure import render

    print(render(command_rows(db, runs, archive=archive)))


if __name__ == "__main__":
    main()
