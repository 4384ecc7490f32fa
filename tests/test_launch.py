"""The `archive` script's start (archive.launch): the read commands' usual forms run without click and
print exactly what archive.cli prints; every other command line goes to archive.cli unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import quote

import click
import pytest

from archive import launch, readdb
from archive.cli import main as click_main
from tests.test_load import run

LEAN = [sys.executable, "-m", "archive"]
CLICK = [sys.executable, "-c", "import sys; from archive.cli import main; main(sys.argv[1:], prog_name='archive')"]


def _spec_of(kind: click.ParamType) -> object:
    if isinstance(kind, click.Path):
        assert (kind.exists, kind.file_okay, kind.dir_okay, kind.writable, kind.readable, kind.allow_dash) == (
            False, True, False, True, True, False)
        assert not kind.resolve_path and not kind.executable
        return launch.PATH
    if isinstance(kind, click.FloatRange):
        assert (kind.min, kind.max, kind.min_open, kind.clamp) == (0, None, False, False)
        return launch.SECONDS
    if isinstance(kind, click.Choice):
        return tuple(kind.choices)
    if isinstance(kind, click.DateTime):
        assert list(kind.formats) == ["%Y-%m-%d"]
        return launch.DATE
    if isinstance(kind, click.IntRange):
        assert (kind.min, kind.max, kind.min_open, kind.clamp) == (0, None, False, False)
        return launch.COUNT
    return {click.INT: launch.INT, click.STRING: launch.STR}[kind]


@pytest.mark.parametrize("name", sorted(launch.COMMANDS))
def test_the_commands_read_here_take_what_click_takes(name):
    command = click_main.commands[name]
    arguments, options, defaults = launch.COMMANDS[name]
    args = [(p.name, _spec_of(p.type)) for p in command.params if isinstance(p, click.Argument)]
    opts = {}
    for p in command.params:
        if isinstance(p, click.Option) and p.name != "db_url":
            assert not p.multiple and not p.secondary_opts and p.envvar is None, p.name
            if p.name == "query" and name == "export":  # `export --query …`: click's
                continue
            for flag in p.opts:
                opts[flag] = (p.name, launch.FLAG if p.is_flag else _spec_of(p.type))
    # export's NAME is optional to click (with --query instead); the lean path takes the NAME form only
    assert tuple(args) == arguments and all(p.required or name == "export" for p in command.params if isinstance(p, click.Argument))
    assert opts == options
    given = {"article_id": "1", "query": "q", "name": "n"}
    ctx = command.make_context(name, [given[a] for a, _ in arguments])  # click's values of the options not given
    assert defaults == {k: v for k, v in ctx.params.items() if k not in given or (name == "export" and k == "query")}


def test_parse_takes_the_usual_forms_and_leaves_the_rest_to_click():
    assert launch.parse(["search", "民警"]) == ("search", None, {**launch.COMMANDS["search"][2], "query": "民警"})
    assert launch.parse(["--db", "sqlite:///a.db", "show", "7", "--format=json"])[1:] == ("sqlite:///a.db", {"article_id": 7, "fmt": "json"})
    # the command's --db after the group's; an empty one is no URL (as archive.cli's callbacks)
    assert launch.parse(["--db=x", "stats", "--db", "y"])[1] == "y"
    assert launch.parse(["--db=x", "stats", "--db", ""])[1] == "x"
    assert launch.parse(["metrics", "--subject", "-x", "--limit", "3"])[2]["subject"] == "-x"  # click takes the next word
    for args in (["--help"], ["stats", "--help"], ["-h"], ["--version"], ["stats", "-h"], ["search"], ["search", "a", "b"],
                 ["search", "--", "-a"], ["search", "-a"], ["show", "x"], ["show", "-1"], ["articles", "--limit", "-1"],
                 ["articles", "--limit"], ["articles", "--date", "2020-13-01"], ["stats", "--format", "csv"], ["load", "x"],
                 ["--db"], ["--db", "x"], ["sql", "select 1"], ["metrics", "--unknown", "1"], ["search", "x", "--order", "Date"], []):
        assert launch.parse(args) is None, args


def test_quote_path_is_urllib_quote():
    every = bytes(range(256))
    assert readdb.quote_path(every) == quote(every)
    for path in ("/tmp/a b/归档.db", "/x/%41;?#[]@!$&'()*+,=~"):
        assert readdb.quote_path(os.fsencode(path)) == quote(os.fsencode(path))


FORMS = [
    ["stats"], ["stats", "--format", "json"], ["issues"], ["issues", "--format", "csv"],
    ["show", "1"], ["show", "2", "--format=json"], ["articles", "--limit", "2"], ["articles", "--format", "json"],
    ["articles", "--date", "2024-03-05", "--newspaper", "x"], ["metrics", "--limit=3", "--format", "csv"],
    ["metrics", "--subject-key", "民警", "--from", "2000-01-01", "--to", "2100-01-01"], ["search", "民警"],
    ["search", "警", "--limit", "2", "--offset", "1", "--order", "relevance", "--format", "json"], ["search", "公安 -辅警", "--format", "csv"],
]
# forms archive.cli must answer: help, mistakes, errors, a missing article
ERRORS = [["stats", "--help"], ["search"], ["show", "x"], ["articles", "--limit", "-1"], ["metrics", "--from", "2020-13-01"],
          ["show", "999999"], ["search", "-的"]]


def _run(prefix: list[str], args: list[str], url: str = "") -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "ARCHIVE_DATABASE_URL": url}
    done = subprocess.run([*prefix, *args], capture_output=True, text=True, env=env)
    return done.returncode, done.stdout, done.stderr


def test_the_script_prints_what_click_prints(sqlite_url, seed_dir, tmp_path):
    run(sqlite_url, "load", str(seed_dir))
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    lines = [["--db", sqlite_url, *f] for f in FORMS + ERRORS] + [["stats", "--db", sqlite_url], ["--db", missing, "stats"]]
    lines.append(["--db", "postgresql+psycopg://u:S3CRETPW@127.0.0.1:1/x", "show", "1"])  # refused: one line, no password
    for args in lines:
        lean, clicked = _run(LEAN, args), _run(CLICK, args)
        assert lean == clicked, args
    assert _run(LEAN, ["--db", sqlite_url, "show", "1"])[0] == 0
    for args in (["stats"], ["search", "民警", "--format", "json"]):  # the URL from $ARCHIVE_DATABASE_URL
        lean_env = _run(LEAN, args, sqlite_url)
        assert lean_env == _run(CLICK, args, sqlite_url) and lean_env[0] == 0 and lean_env[1], args
    assert "S3CRETPW" not in lean[2] and lean[0] == 1


PROBE = """
import sys
before = set(sys.modules)
from archive.launch import main
main(sys.argv[1:])
new = set(sys.modules) - before
sys.stderr.write("NEW " + " ".join(sorted(new)) + "\\n")
"""
# What a read command does not need at its start (each was in one before session 7; site's own modules,
# such as an editable install's finder's pathlib, are in `before` and do not count).
NEEDLESS = ("click", "sqlalchemy", "alembic", "archive.cli", "archive.db", "archive.models", "typing", "pathlib",
            "urllib.parse", "csv")


@pytest.mark.parametrize("args", [["stats"], ["show", "1"], ["search", "民警"], ["articles", "--limit", "20"],
                                  ["metrics", "--limit", "20"], ["issues"], ["stats", "--format", "json"]])
def test_a_read_command_imports_only_what_it_needs(args, sqlite_url, seed_dir):
    run(sqlite_url, "load", str(seed_dir))
    done = subprocess.run([sys.executable, "-c", PROBE, "--db", sqlite_url, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    new = done.stderr.split("NEW ", 1)[1].split()
    assert "archive.readcommands" in new  # it ran here, not through archive.cli
    assert not [m for m in new if m.split(".")[0] in NEEDLESS or m in NEEDLESS], new
    assert "inspect" not in new and "dataclasses" not in new, new


def test_json_output_reads_back(sqlite_url, seed_dir):
    run(sqlite_url, "load", str(seed_dir))
    code, out, _ = _run(LEAN, ["--db", sqlite_url, "stats", "--format", "json"])
    assert code == 0 and json.loads(out)["rows"]["article"] > 0


def test_parse_takes_export_s_usual_forms():
    defaults = launch.COMMANDS["export"][2]
    assert launch.parse(["export", "metric"]) == ("export", None, {**defaults, "name": "metric"})
    assert launch.parse(["--db", "x", "export", "v_metric", "-o", "out.csv", "--excel", "--timeout=0"])[1:] == (
        "x", {**defaults, "name": "v_metric", "output": "out.csv", "excel": True, "timeout": 0.0})
    assert launch.parse(["export", "a", "--format", "jsonl", "--encoding", "gb18030"])[2]["fmt"] == "jsonl"
    for args in (["export"], ["export", "--query", "select 1"], ["export", "a", "b"], ["export", "a", "--excel=1"],
                 ["export", "a", "-o=x"], ["export", "a", "-ox"], ["export", "a", "--format", "xml"], ["export", "a", "-o"],
                 ["export", "a", "--timeout", "-1"], ["export", "a", "--timeout", "x"], ["export", "a", "--timeout", "nan"],
                 ["export", "a", "-o", "/"], ["export", "a", "--help"]):
        assert launch.parse(args) is None, args


def _run_bytes(prefix: list[str], args: list[str]) -> tuple[int, bytes, bytes]:
    done = subprocess.run([*prefix, *args], capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    return done.returncode, done.stdout, done.stderr


def test_export_prints_what_click_prints(db_url, seed_dir, tmp_path):
    """`archive export NAME` through the lean path and through archive.cli: the same bytes on stdout and in
    the file, the same stderr and exit status, on every engine (MariaDB reads through SQLAlchemy either way)."""
    run(db_url, "load", str(seed_dir))
    forms = [[n] for n in ("paragraph", "metric", "source", "issue", "v_metric", "v_fact", "v_series", "alembic_version")]
    forms += [["metric", "--excel"], ["v_metric", "--format", "jsonl"], ["article", "--encoding", "gb18030"],
              ["paragraph", "--format=csv", "--timeout", "5"], ["nope"], ["metric", "--format", "parquet"],
              ["metric", "--encoding", "nope"], ["metric", "--excel", "--encoding", "gb18030"]]
    if db_url.startswith("sqlite"):
        forms.append(["search_fts"])  # an FTS5 table: not readable read-only, one line either way
    for form in forms:
        lean, clicked = _run_bytes(LEAN, ["--db", db_url, "export", *form]), _run_bytes(CLICK, ["--db", db_url, "export", *form])
        assert lean == clicked, form
        assert lean[0] == (1 if form[0] in ("nope", "search_fts") else 2 if "nope" in form or "parquet" in form else 0) or (
            "gb18030" in form and "--excel" in form), (form, lean)
    for form in (["metric"], ["v_article", "--format", "jsonl"], ["metric", "--format", "parquet"]):
        files = []
        for prefix in (LEAN, CLICK):
            out = tmp_path / f"out{len(files)}"
            files.append((_run_bytes(prefix, ["--db", db_url, "export", *form, "-o", str(out)]), out.read_bytes()))
        assert files[0] == files[1] and files[0][0][0] == 0 and files[0][1], form
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    assert _run_bytes(LEAN, ["--db", missing, "export", "x"]) == _run_bytes(CLICK, ["--db", missing, "export", "x"])


@pytest.mark.parametrize("args", [["export", "metric"], ["export", "v_paragraph", "--excel"]])
def test_export_imports_only_what_it_needs(args, sqlite_url, seed_dir):
    run(sqlite_url, "load", str(seed_dir))
    done = subprocess.run([sys.executable, "-c", PROBE, "--db", sqlite_url, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    new = done.stderr.split("NEW ", 1)[1].split()
    assert "archive.export" in new and "archive.readcommands" not in new
    assert not [m for m in new if m.split(".")[0] in NEEDLESS[:-1] or m in NEEDLESS[:-1]], new  # (csv it needs)
    assert not {"inspect", "dataclasses", "json", "threading", "tempfile"} & set(new), new
