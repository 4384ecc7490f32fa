"""Read-only SQL on PostgreSQL: attacks that fool the parse check must still change nothing, write no
file and read no server file, because the server enforces one statement (extended protocol), a
read-only transaction and a login without superuser rights; and every query stops at its time limit."""

from __future__ import annotations

import time

import pytest

from tests.bi_data import cli
from tests.sql_attacks import attack, make_archive, secret  # noqa: F401  (fixture)

ATTACKS = [
    # the findings: sqlparse reads '\' as an open string, PostgreSQL (standard_conforming_strings) does not
    "EXPLAIN SELECT '\\'; COMMIT; INSERT INTO sentinel VALUES (10); --'",
    "EXPLAIN SELECT '\\'; COMMIT; DROP TABLE sentinel; --'",
    "EXPLAIN SELECT '\\'; COMMIT; DELETE FROM metric; --'",
    "EXPLAIN SELECT '\\'; COMMIT; COPY (SELECT 1) TO PROGRAM 'id > {out}'; --'",
    "SELECT '\\'; COMMIT; INSERT INTO sentinel VALUES (11); --'",
    "SELECT '\\', pg_read_file('{secret}') --'",
    "SELECT '\\', pg_read_file('/etc/hostname') --'",
    "SELECT U&\"pg\\005fread\\005ffile\"('{secret}')",
    "SELECT query_to_xml('select pg_read_file(''{secret}'')', true, false, '')",
    "SELECT lo_from_bytea(0, 'x')",
    "SELECT '\\', lo_from_bytea(0, 'x') --'",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT * FROM pg_hba_file_rules",
    "SELECT '\\', * FROM pg_hba_file_rules --'",
    # quote confusion
    "SELECT E'\\''; INSERT INTO sentinel VALUES (12); --'",
    "SELECT $$'$$; INSERT INTO sentinel VALUES (13); --'",
    "SELECT $x$ ; $x$; DELETE FROM sentinel; --",
    "SELECT '\\'; BEGIN; SET TRANSACTION READ WRITE; INSERT INTO sentinel VALUES (14); COMMIT; --'",
    "SELECT \"\\\"; DELETE FROM sentinel; --\" FROM sentinel",
    # comment confusion
    "SELECT 1 /* ; */ ; DELETE FROM sentinel",
    "SELECT 1 /* /* nested */ ; DELETE FROM sentinel; */",
    "SELECT 1 -- \n; DELETE FROM sentinel",
    # escaped identifiers and hidden function names
    "SELECT U&\"pg_read_file\"('{secret}')",
    "SELECT U&\"pg!005fread!005ffile\" UESCAPE '!' ('{secret}')",
    "SELECT pg_catalog.pg_read_file('{secret}')",
    "SELECT \"pg_read_file\"('{secret}')",
    "SELECT pg_read_binary_file('{secret}')",
    "SELECT convert_from(pg_read_binary_file('{secret}'), 'UTF8')",
    "SELECT * FROM pg_ls_dir('/tmp')",
    "SELECT pg_stat_file('{secret}')",
    "SELECT lo_import('{secret}')",
    "SELECT lo_export(lo_from_bytea(0, 'x'), '{out}')",
    # functions reached through strings
    "SELECT query_to_xml('select pg_read_binary_file(''{secret}'')', true, false, '')",
    "SELECT query_to_xml('insert into sentinel values (15) returning 1', true, false, '')",
    "SELECT query_to_xml(concat('sel', 'ect pg_read', '_file(''{secret}'')'), true, false, '')",
    "SELECT cursor_to_xml('c', 1, true, false, '')",
    "SELECT table_to_xml('sentinel', true, false, '')",
    "SELECT dblink_exec('dbname=postgres', 'create table x(a int)')",
    # writes, DML in CTEs, DO, CALL, COPY, SET, LOCK, LISTEN/NOTIFY, prepared statements
    "WITH d AS (DELETE FROM sentinel RETURNING id) SELECT * FROM d",
    "WITH i AS (INSERT INTO sentinel VALUES (16) RETURNING id) SELECT * FROM i",
    "DO $$ BEGIN EXECUTE 'DELETE FROM sentinel'; END $$",
    "DO $$ BEGIN PERFORM pg_read_file('{secret}'); END $$",
    "CALL nothing()",
    "COPY (SELECT 1) TO PROGRAM 'id > {out}'",
    "COPY sentinel FROM PROGRAM 'echo 17'",
    "COPY (SELECT pg_read_file('{secret}')) TO '{out}'",
    "SET ROLE postgres",
    "SELECT set_config('role', 'postgres', false), pg_read_file('{secret}')",
    "SELECT set_config('session_authorization', 'postgres', false), pg_read_file('{secret}')",
    "SELECT set_config('transaction_read_only', 'off', false)",
    "LOCK TABLE sentinel IN ACCESS EXCLUSIVE MODE",
    "LISTEN x",
    "NOTIFY x, 'y'",
    "SELECT pg_notify('x', 'y')",
    "PREPARE p AS DELETE FROM sentinel",
    "EXECUTE p",
    "SELECT * INTO sentinel_copy FROM sentinel",
    "CREATE TEMP TABLE t AS SELECT 1",
    "EXPLAIN ANALYZE DELETE FROM sentinel",
    "SELECT nextval('sentinel_id_seq')",
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT pg_reload_conf()",
    "SELECT * FROM pg_authid",
    "SELECT rolpassword FROM pg_authid",
    # \gexec-style: a query that writes the next query (psql runs it; the server never does)
    "SELECT 'DELETE FROM sentinel' \\gexec",
    "SELECT format('DELETE FROM %I', 'sentinel') \\gexec",
]


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory):
    yield from make_archive("postgresql", tmp_path_factory.mktemp("pg"))


@pytest.mark.parametrize("template", ATTACKS)
def test_attack_changes_nothing(pg_url, template, secret, tmp_path):
    attack(pg_url, template, secret, tmp_path)


def test_there_are_enough_attacks():
    assert len(ATTACKS) >= 14 + 30


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT pg_sleep(100)",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
        "SELECT count(*) FROM paragraph a, paragraph b, paragraph c, paragraph d, paragraph e, paragraph f",
        "EXPLAIN ANALYZE SELECT pg_sleep(100)",
        # the statement lifts its own statement_timeout: the watchdog still cancels it
        "SELECT set_config('statement_timeout', '0', false), pg_sleep(100)",
    ],
)
def test_queries_stop_at_the_time_limit(pg_url, statement):
    for args in (["sql", statement], ["export", "--query", statement]):
        started = time.monotonic()
        result = cli(pg_url, *args, "--timeout", "2")
        elapsed = time.monotonic() - started
        errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
        assert result.exit_code == 1 and len(errors) == 1, result.output  # an export may have written its header
        assert "time limit of 2 s" in errors[0] and "--timeout" in errors[0], errors
        assert elapsed < 15, elapsed
