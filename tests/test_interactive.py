"""The interactive commands read through the lean DB-API reader (archive.readdb): same output as the ORM
readers they replaced on every engine, no SQLAlchemy imported, and the database checked cheaply."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from archive import cli, db, queries, readdb
from archive.cli import main
from archive.search import Filters, find_keys, search
from archive.searchtext import parse_query
from tests import orm_queries
from tests.test_load import run

SEARCHES = ["民警", "警", "公安 -辅警", "内蒙古", "-的"]


@pytest.fixture
def loaded(db_url, seed_dir):
    from benchmarks import corpus

    corpus.write_corpus(seed_dir, 6)  # pages of several dates and articles made from the seed
    run(db_url, "load", str(seed_dir))
    return db_url


def test_lean_reader_and_orm_readers_agree_on_every_engine(loaded):
    engine = db.make_engine(loaded)
    reader = readdb.connect(loaded)
    assert reader is not None, "the test engines' URLs are read by the lean path"
    with reader, Session(engine) as s:
        for bind in (reader, s):  # the same SQL through the DB-API driver and through SQLAlchemy
            assert queries.stats(bind) == orm_queries.stats(s)
            assert queries.list_issues(bind) == orm_queries.list_issues(s)
            every = orm_queries.list_articles(s)
            assert len(every) > 2
            assert queries.list_articles(bind) == every
            assert queries.list_articles(bind, limit=2) == orm_queries.list_articles(s, limit=2) == every[:2]
            paper, day = every[0]["newspaper"], every[0]["date"]
            d = dt.date.fromisoformat(day)
            assert queries.list_articles(bind, d, paper, date_from=d, date_to=d) == orm_queries.list_articles(s, d, paper, date_from=d, date_to=d)
            for a in every:
                assert queries.article_document(bind, a["id"]) == orm_queries.article_document(s, a["id"])
            metrics = orm_queries.list_metrics(s)
            assert len(metrics) > 5 and any(isinstance(m["value"], float) for m in metrics)
            assert queries.list_metrics(bind) == metrics
            assert queries.list_metrics(bind, limit=3) == metrics[:3]
            for f in ({"unit": "人"}, {"kind": "count"}, {"subject": "民"}, {"subject": "%_/"}, {"newspaper": paper},
                      {"subject_key": metrics[0]["subject_key"]}, {"date_from": d, "date_to": d}):
                assert queries.list_metrics(bind, **f) == orm_queries.list_metrics(s, **f), f
            for query in SEARCHES:
                q = parse_query(query)
                total, keys = find_keys(s, q, limit=50)
                want = orm_queries.hits_for_keys(s, q, keys)
                got = search(bind, query, limit=50)
                assert got["total"] == total and got["hits"] == want, query
                assert search(bind, query, filters=Filters(newspaper=paper), limit=5) == search(s, query, filters=Filters(newspaper=paper), limit=5)
    engine.dispose()


def test_the_commands_print_the_same_through_either_path(loaded, monkeypatch):
    commands = [["stats"], ["stats", "--format", "json"], ["show", "1"], ["show", "2", "--format", "json"],
                ["articles", "--limit", "20"], ["articles", "--format", "csv"], ["metrics", "--limit", "20"],
                ["metrics", "--format", "json"], ["issues"], ["search", "民警"], ["search", "警", "--format", "json"]]
    lean = [CliRunner().invoke(main, ["--db", loaded, *c]) for c in commands]
    monkeypatch.setattr(readdb, "connect", lambda url: None)  # what a URL the lean path does not read gets
    orm = [CliRunner().invoke(main, ["--db", loaded, *c]) for c in commands]
    for c, a, b in zip(commands, lean, orm):
        assert a.exit_code == b.exit_code == 0, (c, a.output, b.output)
        assert a.output == b.output, c


PROBE = """
import sys
from archive.cli import main
try:
    main(sys.argv[1:], prog_name="archive")
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "alembic")})
heavy += [m for m in ("archive.models", "archive.db", "archive.formats") if m in sys.modules]
print("IMPORTED", heavy, file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["stats"], ["show", "1"], ["search", "民警"], ["articles", "--limit", "20"],
                                  ["metrics", "--limit", "20"], ["issues"]])
def test_interactive_commands_do_not_import_sqlalchemy(args, sqlite_url, seed_dir):
    run(sqlite_url, "load", str(seed_dir))
    done = subprocess.run([sys.executable, "-c", PROBE, "--db", sqlite_url, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "IMPORTED []" in done.stderr, done.stderr


def test_head_revision_constant_matches_the_migrations():
    # a new migration must set readdb.HEAD_REVISION to its id: the read commands refuse other revisions
    assert readdb.HEAD_REVISION == db.head_revision()


def test_cli_choices_match_the_modules_that_own_them():
    from archive import export, searchtext, sql

    assert cli.EXPORT_FORMATS == export.FORMATS and cli.BINARY_FORMATS == export.BINARY_FORMATS
    assert cli.SQL_TIMEOUT == sql.DEFAULT_TIMEOUT
    assert cli.SEARCH_ORDERS == searchtext.ORDERS


def test_a_missing_file_is_one_line_and_is_not_created(tmp_path):
    missing = tmp_path / "nothing.db"
    for args in (["stats"], ["show", "1"], ["search", "x"], ["articles"], ["metrics"]):
        result = CliRunner().invoke(main, ["--db", f"sqlite:///{missing}", *args])
        assert result.exit_code == 1 and result.stderr == f"Error: no SQLite archive at {missing}\n", result.output
    assert not missing.exists()


def test_an_empty_or_older_database_is_one_line(tmp_path):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    result = CliRunner().invoke(main, ["--db", f"sqlite:///{empty}", "stats"])
    assert result.exit_code == 1 and "holds no archive yet" in result.stderr and len(result.stderr.splitlines()) == 1
    older = tmp_path / "older.db"
    engine = db.make_engine(f"sqlite:///{older}")
    db.upgrade(engine, "0009_metric_subject_key")
    engine.dispose()
    result = CliRunner().invoke(main, ["--db", f"sqlite:///{older}", "stats"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: database sqlite:///{older} is at revision 0009_metric_subject_key, not {readdb.HEAD_REVISION}: run 'archive db upgrade'\n"


def test_a_read_only_file_reads(sqlite_url, seed_dir, tmp_path):
    run(sqlite_url, "load", str(seed_dir))
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    path.chmod(0o444)
    try:
        result = CliRunner().invoke(main, ["--db", sqlite_url, "stats", "--format", "json"])
        assert result.exit_code == 0 and json.loads(result.output)["rows"]["article"] > 0
    finally:
        path.chmod(0o644)


def test_server_errors_hide_the_password():
    result = CliRunner().invoke(main, ["--db", "postgresql+psycopg://u:S3CRETPW@127.0.0.1:1/x", "stats"])
    assert result.exit_code == 1 and "S3CRETPW" not in result.output and "***" in result.output
    assert len(result.stderr.splitlines()) == 1
