"""Read-only SQL on MariaDB: attacks that fool the parse check must still change nothing, write no file
and read no server file, because the server takes one statement per query (no CLIENT_MULTI_STATEMENTS),
the transaction is read-only, and a login with the FILE privilege is swapped for a temporary one that
may only SELECT; and every query stops at its time limit."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from archive import db, sql
from tests.bi_data import cli
from tests.sql_attacks import attack, make_archive, secret  # noqa: F401  (fixture)

ATTACKS = [
    # the findings: sqlparse reads `--1` as a comment, MariaDB needs a space after `--`
    "SELECT 1 --1, LOAD_FILE('{secret}')",
    "SELECT 1 --1, LOAD_FILE('/etc/hostname')",
    "SELECT 1 --1 INTO OUTFILE '{out}'",
    "SELECT 1 --1 INTO DUMPFILE '{out}'",
    # comment confusion
    "SELECT 1 --1\n; DELETE FROM sentinel",
    "SELECT 1 # ; DELETE FROM sentinel",
    "SELECT LOAD_FILE('{secret}') # ",
    "SELECT 1 /*! , LOAD_FILE('{secret}') */",
    "SELECT 1 /*!50000 INTO OUTFILE '{out}' */",
    "SELECT 1 /*M!100000 INTO DUMPFILE '{out}' */",
    "SELECT 1 /*!; DELETE FROM sentinel */",
    "SELECT 1 /* */ INTO OUTFILE '{out}'",
    "SELECT 1 -- \n INTO OUTFILE '{out}'",
    # quote confusion: MariaDB takes \\ as an escape in strings, sqlparse's idea may differ
    "SELECT '\\''; DELETE FROM sentinel; -- '",
    "SELECT \"\\\"\"; DELETE FROM sentinel; -- \"",
    "SELECT '\\\\'; INSERT INTO sentinel VALUES (10); -- '",
    "SELECT `a;b` FROM (SELECT 1 AS `a;b`) x; DELETE FROM sentinel",
    "SELECT 'x' INTO OUTFILE '{out}'",
    "SELECT * FROM sentinel INTO DUMPFILE '{out}'",
    "SELECT LOAD_FILE('{secret}')",
    "SELECT CONVERT(LOAD_FILE('{secret}') USING utf8mb4)",
    "SELECT HEX(LOAD_FILE('{secret}'))",
    "SELECT `load_file`('{secret}')",
    "SELECT load_file (concat('{secret}'))",
    # multi statements and writes
    "SELECT 1; DELETE FROM sentinel",
    "SELECT 1; INSERT INTO sentinel VALUES (11)",
    "SELECT 1;DROP TABLE sentinel",
    "DELETE FROM sentinel",
    "WITH d AS (SELECT 1) DELETE FROM sentinel",
    "LOAD DATA INFILE '{secret}' INTO TABLE sentinel",
    "LOAD DATA LOCAL INFILE '{secret}' INTO TABLE sentinel",
    "CREATE TABLE copy_of AS SELECT * FROM sentinel",
    "CREATE TEMPORARY TABLE t (a INT)",
    # SET, CALL, LOCK, prepared statements, HANDLER, DO
    "SET GLOBAL max_statement_time = 0",
    "SET STATEMENT max_statement_time = 0 FOR SELECT LOAD_FILE('{secret}')",
    "SET @q = 'DELETE FROM sentinel'",
    "PREPARE s FROM 'DELETE FROM sentinel'",
    "EXECUTE s",
    "EXECUTE IMMEDIATE 'DELETE FROM sentinel'",
    "EXECUTE IMMEDIATE CONCAT('SELECT LOAD_', 'FILE(''{secret}'')')",
    "CALL mysql.nothing()",
    "DO SLEEP(0), LOAD_FILE('{secret}')",
    "LOCK TABLES sentinel WRITE",
    "HANDLER sentinel OPEN",
    "CREATE PROCEDURE p() DELETE FROM sentinel",
    "GRANT ALL ON *.* TO CURRENT_USER",
    "SELECT * FROM mysql.user",
    "SELECT authentication_string FROM mysql.global_priv",
    "SHOW GRANTS",
    "SELECT * FROM sentinel FOR UPDATE",
    "SELECT GET_LOCK('x', 0)",
    "SELECT * FROM sentinel PROCEDURE ANALYSE()",
]


@pytest.fixture(scope="module")
def my_url(tmp_path_factory):
    yield from make_archive("mysql", tmp_path_factory.mktemp("my"))


@pytest.mark.parametrize("template", ATTACKS)
def test_attack_changes_nothing(my_url, template, secret, tmp_path):
    attack(my_url, template, secret, tmp_path)


def test_there_are_enough_attacks():
    assert len(ATTACKS) >= 4 + 30


def test_one_statement_by_protocol_and_no_file_privilege(my_url, secret):
    """The engine's own guards, without the parse check: a second statement is a syntax error, and the
    login the query runs as may not read files (LOAD_FILE gives NULL) or write them."""
    with sql.readonly_connection(my_url) as conn:
        from pymysql.constants import CLIENT

        assert not conn.connection.driver_connection.client_flag & CLIENT.MULTI_STATEMENTS
        assert conn.exec_driver_sql("SELECT LOAD_FILE(%s)", (str(secret[0]),)).scalar() is None
        grants = "\n".join(r[0] for r in conn.exec_driver_sql("SHOW GRANTS").all())
        assert "FILE" not in grants and "ALL PRIVILEGES" not in grants and "SELECT" in grants, grants
    with pytest.raises(sql.QueryFailed, match="syntax"):
        with sql.readonly_connection(my_url) as conn:
            sql.execute(conn, "SELECT 1; DELETE FROM sentinel")
    # the root login itself could read the file: the swap to the temporary login is what stops it
    eng = db.make_engine(my_url)
    with eng.connect() as c:
        assert c.execute(text("SELECT CONVERT(LOAD_FILE(:p) USING utf8mb4)"), {"p": str(secret[0])}).scalar().strip() == secret[1]
    eng.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT SLEEP(100)",
        # MariaDB ends a recursive CTE at max_recursive_iterations (1000): BENCHMARK is its endless loop
        "SELECT BENCHMARK(100000000000, MD5('x'))",
        "SELECT count(*) FROM paragraph a, paragraph b, paragraph c, paragraph d, paragraph e, paragraph f",
    ],
)
def test_queries_stop_at_the_time_limit(my_url, statement):
    for args in (["sql", statement], ["export", "--query", statement]):
        started = time.monotonic()
        result = cli(my_url, *args, "--timeout", "2")
        elapsed = time.monotonic() - started
        errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
        assert result.exit_code == 1 and len(errors) == 1, result.output  # an export may have written its header
        assert "time limit of 2 s" in errors[0] and "--timeout" in errors[0], errors
        assert elapsed < 15, elapsed


def test_a_statement_that_lifts_its_own_limit_is_still_stopped(my_url):
    """SET STATEMENT max_statement_time=0 FOR … passes the engine (the parse check refuses it): the
    watchdog's KILL QUERY stops it all the same."""
    started = time.monotonic()
    with pytest.raises(sql.TimeLimitExceeded, match="time limit of 2 s"):
        with sql.readonly_connection(my_url, timeout=2) as conn:
            list(sql.execute(conn, "SET STATEMENT max_statement_time = 0 FOR SELECT SLEEP(100)").rows)
    assert time.monotonic() - started < 15
