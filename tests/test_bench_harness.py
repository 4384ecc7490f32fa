"""The benchmark harness measures what it claims: the floor replays exactly the rows the loader wrote."""

from __future__ import annotations

import json

from click.testing import CliRunner

from benchmarks import corpus
from benchmarks.__main__ import main
from benchmarks.floor import normalise, table_counts
from benchmarks.load import split_run
from archive.cli import main as archive_main


def test_normalise_fills_left_out_columns_and_splits_flat_batches():
    calls = [
        ("INSERT INTO t (a, b) VALUES (?, ?), (?, ?) RETURNING id", (1, 2, 3, 4), True),
        ("INSERT INTO t (a) VALUES (?)", [(5,), (6,)], True),
        ("INSERT INTO u (x) VALUES (?) RETURNING id", ("y",), False),
    ]
    assert normalise(calls) == [("t", ("a", "b"), [(1, 2), (3, 4), (5, None), (6, None)]), ("u", ("x",), [("y",)])]


def test_floor_replays_the_same_rows(tmp_path):
    files = corpus.write_corpus(tmp_path / "pages", 6)
    spool = tmp_path / "rows.spool"
    url = f"sqlite:///{tmp_path / 'loaded.db'}"
    run = split_run(url, files, spool, tmp_path / "floor.db")
    assert run.pages == 6 and not run.mismatches
    assert all(s > 0 for stage, s in run.seconds.items() if stage != "extract")
    # timed a batch at a time, as the loader writes (loader.GroupWriter): the 6 pages are one batch
    assert len(run.write_times) == len(run.floor_times) == 1 and min(run.floor_times) > 0
    loaded, floor = table_counts(url), table_counts(f"sqlite:///{tmp_path / 'floor.db'}")
    assert loaded == floor
    assert loaded["source"] == 6 and loaded["issue"] == 6
    assert loaded["paragraph"] == sum(corpus.generate(i).paragraph_count for i in range(6))


def test_runner_prints_a_table(tmp_path):
    result = CliRunner().invoke(main, ["--pages", "12", "--only", "parse,load", "--engine", "sqlite", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "end to end (archive load, 2 workers)" in result.output
    assert "write (serial)" in result.output and "parser + extractor" in result.output
    assert "0 failed" in result.output and "same rows in all" in result.output


def test_dict_results_of_other_modules_become_rows():
    from benchmarks.__main__ import _summary_row

    row = _summary_row("search", {"query": "民警", "chars": 2, "page_ms": 0.8})
    assert (row.group, row.name, row.value) == ("search", "民警", None) and "page_ms 0.8" in row.note
    row = _summary_row("extract", {"metrics": 5, "mb_per_s": 7.5})
    assert (row.value, row.unit) == (7.5, "MB/s")


def test_command_floor_replays_the_commands_own_sql(tmp_path, seed_dir):
    """The sqlite3-shell floor of `benchmarks.commands` runs exactly what the command sent, parameters inlined."""
    import sqlite3

    from benchmarks.commands import _inline, captured_sql

    assert _inline("SELECT ? , ?", (1, "a'b")) == "SELECT 1 , 'a''b'"
    assert _inline("SELECT :x", {"x": None}) == "SELECT NULL"
    path = tmp_path / "a.db"
    assert CliRunner().invoke(archive_main, ["--db", f"sqlite:///{path}", "load", "-q", str(seed_dir)]).exit_code == 0
    script, output = captured_sql(f"sqlite:///{path}", ["show", "1"])
    assert "内蒙古法制报" in output and "?" not in script
    with sqlite3.connect(path) as conn:
        conn.executescript(script)  # every captured statement runs as it stands
    assert script.count("SELECT") >= 2


def test_scale_nests_the_corpus_and_counts_the_cpu_of_orphaned_processes(tmp_path):
    """`benchmarks.scale`: the smaller corpora are the larger one's first pages, and the CPU of a load counts
    the processes its forkserver leaves behind (a grandchild burning 0.4 CPU-s after its parent exited)."""
    import os
    import subprocess
    import sys

    from benchmarks.scale import nest

    files = corpus.write_corpus(tmp_path / "big", 3)
    small = nest(files[:2], tmp_path / "small")
    assert sorted(p.name for p in small.iterdir()) == [f.name for f in files[:2]]
    assert (small / files[0].name).stat().st_ino == files[0].stat().st_ino
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass"
    orphaning = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {burn!r}])"
    # in a process of its own: tree_run makes its process a subreaper and waits for every child
    probe = f"import json, sys; from benchmarks.scale import tree_run; print(json.dumps(tree_run([sys.executable, '-c', {orphaning!r}])))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=os.getcwd())
    run = json.loads(out.stdout)
    assert run["exit"] == 0 and not run["uncounted"]
    assert run["cpu_seconds"] >= 0.4


def test_scale_tables_have_a_row_a_size_and_net_figures():
    from benchmarks.scale import tables

    def result(label: str, files: int, seconds: float) -> dict:
        return {
            "label": label, "paragraphs": files * 30, "db_bytes": files * 80_000, "index_bytes": files * 40_000,
            "indexed_bytes": files * 12_000, "load_average_reads": "1.00 1.00 1.00",
            "load": {"files": files, "seconds": seconds, "cpu_seconds": seconds * 1.5, "failed": 0, "uncounted": False,
                     "load_average": ["0.50 0.4 0.3", "1.50 1.0 0.5"]},
            "commands": [{"name": "archive search 警", "ms": 80.0, "shell_ms": 4.0, "note": ""}],
            "terms": [{"query": "警", "hits": files * 28, "page_median_ms": 1.0, "count_median_ms": 2.0}],
        }

    start = {"seconds": 1.0, "cpu_seconds": 1.5}
    out = tables([result("1,000", 1000, 11.0), result("10,000", 10_000, 101.0)], start).splitlines()
    rows = [line for line in out if line.startswith("| 1")]
    assert [r.split(" | ")[0] for r in rows] == ["| 1,000", "| 10,000"] * 4
    # net of the one-page load's start-up: (1000 - 1) pages in 10 s, 15 CPU-s over 999 pages
    assert "| 1,000 | 30,000 | 11 | 90.9 | 99.9 | 16.5 | 15.0 | 0 | 80.0 | 80.0 | 12.0 | 40.0 | 3.33× | 0.50 → 1.50 |" in out
    assert "| 10,000 | 80.0 (4.00) | 1.00 |" in out and "| 1,000 | 1.00 / 2.00 |" in out
