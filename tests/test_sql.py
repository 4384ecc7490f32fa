"""`archive sql` reads on every engine, and every kind of write is refused and changes nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, text

from archive import db, sql
from tests.bi_data import METRICS, archive, cli  # noqa: F401  (fixture)

WRITES = [
    "INSERT INTO newspaper (name) VALUES ('x')",
    "UPDATE article SET title = 'x'",
    "DELETE FROM metric",
    "DROP TABLE metric",
    "DROP VIEW v_metric",
    "CREATE TABLE t (a INTEGER)",
    "SELECT 1; DELETE FROM metric",
    "SELECT count(*) FROM metric;\nDROP TABLE metric;",
    "WITH x AS (SELECT 1) DELETE FROM metric",
    "SELECT * INTO t2 FROM metric",
    "SELECT 1 /*! INTO OUTFILE '{tmp}/out.csv' */",
    "SELECT 1 /*M!100000 ; DELETE FROM metric */",
]
SQLITE_WRITES = [
    "ATTACH DATABASE '{tmp}/attached.db' AS x",
    "PRAGMA writable_schema = 1",
    "PRAGMA journal_mode = delete",
    "VACUUM INTO '{tmp}/copy.db'",
]


def snapshot(url) -> dict:
    eng = db.make_engine(url)
    insp = inspect(eng)
    names = sorted(insp.get_table_names()) + sorted(insp.get_view_names())
    with eng.connect() as c:
        counts = {n: c.execute(text(f"SELECT count(*) FROM {n}")).scalar() for n in names}
        titles = c.execute(text("SELECT title FROM article ORDER BY id")).scalars().all()
    eng.dispose()
    return {"counts": counts, "titles": titles}


def test_writes_are_refused_and_change_nothing(archive, tmp_path):
    url, _ = archive
    targets = tmp_path / "targets"
    targets.mkdir()
    before = snapshot(url)
    statements = WRITES + (SQLITE_WRITES if url.startswith("sqlite") else [])
    for statement in statements:
        result = cli(url, "sql", statement.format(tmp=targets))
        assert result.exit_code == 1, (statement, result.output)
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert snapshot(url) == before
    assert not list(targets.iterdir()), "ATTACH or VACUUM INTO created a file"


ENGINE_WRITES = ["INSERT INTO newspaper (name) VALUES ('x')", "UPDATE article SET title = 'x'", "DELETE FROM metric",
                 "DROP TABLE metric", "CREATE TABLE t (a INTEGER)"]


def test_the_connection_itself_refuses_writes(archive, tmp_path):
    """Second guard: statements that skip the check still cannot write through the read-only connection."""
    url, _ = archive
    targets = tmp_path / "targets"
    targets.mkdir()
    before = snapshot(url)
    statements = list(ENGINE_WRITES)
    if url.startswith("sqlite"):
        statements += [s.format(tmp=targets) for s in SQLITE_WRITES]
    if url.startswith("postgresql"):
        statements += ["WITH d AS (DELETE FROM metric RETURNING id) SELECT * FROM d"]
    for statement in statements:
        with pytest.raises(sql.QueryFailed):
            with sql.readonly_connection(url) as conn:
                list(sql.execute(conn, statement).rows)
    assert snapshot(url) == before
    assert not list(targets.iterdir())


def test_reads_in_every_format(archive):
    url, facts = archive
    q = "SELECT article_id, date, title, metric_count FROM v_article WHERE title LIKE '%包头%' ORDER BY article_id"
    rows = json.loads(cli(url, "sql", q, "--format", "json").output)
    assert rows == [{"article_id": rows[0]["article_id"], "date": "2020-08-26", "title": "“包头样本”应民意 激发担当新作为",
                     "metric_count": len(METRICS)}]
    csv_out = cli(url, "sql", q, "--format", "csv").output
    assert csv_out.splitlines()[0] == "article_id,date,title,metric_count"
    assert csv_out.splitlines()[1].endswith(",2020-08-26,“包头样本”应民意 激发担当新作为,4")
    lines = cli(url, "sql", "SELECT paragraph_id FROM v_paragraph", "--format", "jsonl").output.splitlines()
    assert len(lines) == facts["paragraphs"]
    table = cli(url, "sql", "SELECT count(*) AS n FROM v_paragraph").output
    assert table.split() == ["n", "-" * max(1, len(str(facts["paragraphs"]))), str(facts["paragraphs"])]


def test_exact_decimals_and_iso_dates(archive):
    url, _ = archive
    out = cli(url, "sql", "SELECT surface, value, date FROM v_metric ORDER BY metric_id", "--format", "csv").output
    assert out.splitlines()[1:] == [
        "4495人,4495,2020-08-26", "9000余名,9000,2020-08-26", "58.2%,58.2,2020-08-26",
        "0.0000000001元,0.0000000001,2020-08-26",
    ]


def test_errors_are_one_line(archive):
    url, _ = archive
    for statement, words in (("SELECT * FROM nowhere", "nowhere"), ("", "no SQL statement"), ("/* just a comment */", "no SQL")):
        result = cli(url, "sql", statement)
        assert result.exit_code == 1 and words in result.output and result.output.count("\n") == 1, result.output


def test_missing_sqlite_file_is_an_error_not_a_new_file(tmp_path):
    result = cli(f"sqlite:///{tmp_path / 'none.db'}", "sql", "SELECT 1")
    assert result.exit_code == 1 and "no SQLite archive" in result.output
    assert not (tmp_path / "none.db").exists()


def test_sqlite_pragmas_that_read_are_allowed(sqlite_url, seed_dir, tmp_path):
    from tests.bi_data import build_archive

    build_archive(sqlite_url, seed_dir, tmp_path)
    out = cli(sqlite_url, "sql", "PRAGMA table_info(v_metric)", "--format", "json").output
    types = {r["name"]: r["type"] for r in json.loads(out)}
    assert types["date"] == "DATE" and types["value"] == "NUMERIC(38, 10)"
    assert cli(sqlite_url, "sql", "PRAGMA writable_schema").exit_code == 0
