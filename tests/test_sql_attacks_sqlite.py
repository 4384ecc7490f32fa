"""Read-only SQL on SQLite: attacks that fool the parse check must still change nothing and write no
file, because the connection is opened mode=ro with query_only and an authorizer that allows reads
only; and every query stops at its time limit (a progress handler)."""

from __future__ import annotations

import time

import pytest

from archive import sql
from tests.bi_data import cli
from tests.sql_attacks import attack, make_archive, secret  # noqa: F401  (fixture)

ATTACKS = [
    # ATTACH, VACUUM INTO, pragma writes: mode=ro lets these through, the authorizer does not
    "ATTACH DATABASE '{out}' AS x",
    "ATTACH '{out}' AS x",
    "ATTACH 'file:{out}?mode=rwc' AS x",
    "ATTACH '{secret}' AS x",
    "VACUUM INTO '{out}'",
    "VACUUM",
    "PRAGMA writable_schema = 1",
    "PRAGMA writable_schema = ON",
    "PRAGMA query_only = 0",
    "PRAGMA journal_mode = delete",
    "PRAGMA user_version = 7",
    "PRAGMA main.user_version = 7",
    "PRAGMA schema_version = 1",
    "PRAGMA foreign_keys = off",
    "PRAGMA temp_store_directory = '/tmp'",
    "PRAGMA wal_checkpoint(TRUNCATE)",
    "PRAGMA incremental_vacuum",
    "PRAGMA optimize",
    "SELECT load_extension('{out}')",
    "SELECT * FROM pragma_writable_schema",
    # quote and comment confusion
    "SELECT '\\'; DELETE FROM sentinel; --'",
    "SELECT 'a''; DELETE FROM sentinel; --'",
    "SELECT \"\\\"; DELETE FROM sentinel; --\"",
    "SELECT [;]; DELETE FROM sentinel",
    "SELECT `;`; DELETE FROM sentinel",
    "SELECT 1 --1\n; DELETE FROM sentinel",
    "SELECT 1 /* ; */; DELETE FROM sentinel",
    "SELECT 1 /*! ; DELETE FROM sentinel */",
    "SELECT 1 # ; DELETE FROM sentinel",
    # writes in disguise
    "WITH d AS (SELECT 1) DELETE FROM sentinel",
    "WITH d AS (SELECT 1) INSERT INTO sentinel VALUES (10)",
    "REPLACE INTO sentinel VALUES (1)",
    "INSERT OR REPLACE INTO sentinel VALUES (11)",
    "UPDATE sentinel SET id = id + 10",
    "DELETE FROM sentinel RETURNING *",
    "CREATE TEMP TABLE t AS SELECT 1",
    "CREATE TEMP VIEW v AS SELECT 1",
    "CREATE TEMP TRIGGER tr AFTER INSERT ON sentinel BEGIN DELETE FROM sentinel; END",
    "DROP TABLE sentinel",
    "ALTER TABLE sentinel RENAME TO gone",
    "REINDEX",
    "ANALYZE",
    "SAVEPOINT s",
    "BEGIN IMMEDIATE",
    "DETACH DATABASE main",
    "EXPLAIN DELETE FROM sentinel",
    "SELECT * FROM sqlite_master; DELETE FROM sentinel",
    "SELECT writefile('{out}', 'x')",
    "SELECT readfile('{secret}')",
    "SELECT fts5(1)",
    "INSERT INTO search_fts(search_fts) VALUES ('delete-all')",
]


@pytest.fixture(scope="module")
def lite_url(tmp_path_factory):
    yield from make_archive("sqlite", tmp_path_factory.mktemp("lite"))


@pytest.mark.parametrize("template", ATTACKS)
def test_attack_changes_nothing(lite_url, template, secret, tmp_path):
    attack(lite_url, template, secret, tmp_path)


def test_there_are_enough_attacks():
    assert len(ATTACKS) >= 30


@pytest.mark.parametrize(
    "statement",
    [
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
        "SELECT count(*) FROM paragraph a, paragraph b, paragraph c, paragraph d, paragraph e, paragraph f",
        # rows come fast, but there is no end to them: stopped between batches
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
    ],
)
def test_queries_stop_at_the_time_limit(lite_url, statement, tmp_path):
    for args in (["sql", statement, "--format", "csv"], ["export", "--query", statement, "-o", str(tmp_path / "out.csv")]):
        started = time.monotonic()
        result = cli(lite_url, *args, "--timeout", "2")
        elapsed = time.monotonic() - started
        errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
        assert result.exit_code == 1 and len(errors) == 1, result.output[-300:]
        assert "time limit of 2 s" in errors[0] and "--timeout" in errors[0], errors
        assert elapsed < 15, elapsed


def test_default_limit_is_30_seconds_and_named_tables_have_none(lite_url):
    assert sql.DEFAULT_TIMEOUT == 30
    assert "[default: 30" in cli(lite_url, "sql", "--help").output
    # a named table's export runs with no time limit at all (it is never cut off)
    with sql.readonly_connection(lite_url) as conn:
        assert conn.info[sql.LIMIT_KEY].seconds is None
    result = cli(lite_url, "export", "sentinel", "--timeout", "0.000001")
    assert result.exit_code == 0 and result.output.splitlines() == ["id", "1", "2", "3"], result.output
