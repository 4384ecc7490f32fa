"""`archive export`: tables, views and queries to csv, jsonl, parquet and xlsx, streamed, on every engine."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sqlite3
import tracemalloc
import zipfile
from decimal import Decimal

import pytest
from sqlalchemy.exc import DBAPIError

from archive import catalog, db, export, sql
from tests.bi_data import METRICS, archive, build_archive, cli  # noqa: F401  (fixture)


def test_csv_plain_excel_and_gb18030(archive, tmp_path):
    url, facts = archive
    plain, excel, gb = tmp_path / "p.csv", tmp_path / "e.csv", tmp_path / "g.csv"
    for args in ((plain,), (excel, "--excel"), (gb, "--encoding", "gb18030")):
        result = cli(url, "export", "v_paragraph", "--output", str(args[0]), *args[1:])
        assert result.exit_code == 0, result.output
    raw = plain.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert excel.read_bytes().startswith(b"\xef\xbb\xbf")
    assert excel.read_bytes()[3:].decode("utf-8").replace("\r\n", "\n") == raw.decode("utf-8")
    assert gb.read_bytes().decode("gb18030") == raw.decode("utf-8")
    lines = raw.decode("utf-8").splitlines()
    assert lines[0] == "paragraph_id,date,newspaper,article_id,title,section_heading,ordinal,lead,text,char_count"
    assert re.match(r"^\d+,2020-08-26,内蒙古法制报,", lines[1])
    assert sum(1 for _ in __import__("csv").reader(io.StringIO(raw.decode()))) == facts["paragraphs"] + 1


def test_jsonl_of_a_query(archive):
    url, _ = archive
    out = cli(url, "export", "--query", "SELECT surface, value, value_high, date FROM v_metric ORDER BY metric_id", "--format", "jsonl").output
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["surface"] for r in rows] == [m[1] for m in METRICS]
    assert [r["value"] for r in rows] == [4495, 9000, 58.2, 1e-10]
    assert all(r["date"] == "2020-08-26" and r["value_high"] is None for r in rows)


def test_parquet_keeps_types(archive, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet", reason="parquet export needs pyarrow (extra: parquet)")
    import pyarrow as pa

    url, facts = archive
    target = tmp_path / "m.parquet"
    assert cli(url, "export", "v_metric", "--format", "parquet", "-o", str(target)).exit_code == 0
    table = pq.read_table(target)
    assert table.schema.field("date").type == pa.date32()
    assert table.schema.field("value").type == pa.decimal128(38, 10)
    assert table.schema.field("metric_id").type == pa.int64()
    assert table.column("value").to_pylist() == [m[2] for m in METRICS]
    assert set(table.column("date").to_pylist()) == {dt.date(2020, 8, 26)}
    target2 = tmp_path / "q.parquet"
    q = "SELECT date, count(*) AS n, sum(value) AS total FROM v_metric GROUP BY date"
    assert cli(url, "export", "--query", q, "--format", "parquet", "-o", str(target2)).exit_code == 0
    t2 = pq.read_table(target2)
    assert t2.column("date").to_pylist() == [dt.date(2020, 8, 26)]
    assert t2.column("n").to_pylist() == [len(METRICS)]
    assert Decimal(str(t2.column("total").to_pylist()[0])) == sum(m[2] for m in METRICS)


def test_xlsx(archive, tmp_path):
    pytest.importorskip("xlsxwriter", reason="xlsx export needs XlsxWriter (extra: xlsx)")
    url, facts = archive
    target = tmp_path / "a.xlsx"
    assert cli(url, "export", "v_article", "--format", "xlsx", "-o", str(target)).exit_code == 0
    with zipfile.ZipFile(target) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = sheet + (z.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() else "")
        styles = z.read("xl/styles.xml").decode()
    assert sheet.count("<row ") == facts["articles"] + 1
    assert "“包头样本”应民意 激发担当新作为" in strings and "王祯、梁彦强" in strings
    assert 'formatCode="yyyy-mm-dd"' in styles
    assert "<v>44069</v>" in sheet  # 2020-08-26 as an Excel date serial


def test_export_name_must_be_a_real_table_or_view(archive, tmp_path):
    url, _ = archive
    target = tmp_path / "x.csv"
    for name in ("metric; DROP TABLE metric", "nope", "metric --"):
        result = cli(url, "export", name, "-o", str(target))
        assert result.exit_code == 1 and "no table or view named" in result.output
    assert not target.exists()
    assert cli(url, "sql", "SELECT count(*) FROM metric", "--format", "csv").output.splitlines()[1] == str(len(METRICS))


def test_failed_export_leaves_no_file_and_writes_are_refused(archive, tmp_path):
    url, _ = archive
    target = tmp_path / "x.csv"
    for q in ("SELECT * FROM nowhere", "DELETE FROM metric"):
        result = cli(url, "export", "--query", q, "-o", str(target))
        assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert not list(tmp_path.glob("*.csv")) and not list(tmp_path.glob(".export-*"))
    assert cli(url, "export", "v_article", "--format", "parquet").exit_code == 2  # binary needs --output


def test_an_encoding_that_cannot_write_a_character_is_one_line(archive, tmp_path):
    url, _ = archive
    target = tmp_path / "x.csv"
    # a named view takes the fast route (lines re-encoded), a query the csv module's (a text wrapper)
    for args in (("v_paragraph",), ("--query", "SELECT title FROM article"), ("paragraph", "-o", str(target))):
        result = cli(url, "export", *args, "--encoding", "ascii")
        assert result.exit_code == 1, result.output
        error = result.output.splitlines()[-1]
        assert re.fullmatch(r"Error: --encoding ascii cannot write (.) \(U\+([0-9A-F]{4,})\), which the export holds: "
                            r"use --encoding utf-8 or gb18030, which write every character", error), error
        char, code = re.match(r"Error: --encoding ascii cannot write (.) \(U\+([0-9A-F]+)", error).groups()
        assert ord(char) == int(code, 16) > 127
    assert not target.exists() and not list(tmp_path.glob(".export-*"))


def _peak_bytes(url, rows: int, fmt: str, tmp_path) -> int:
    # Digits cross-joined: any engine makes up to 100,000 rows (MariaDB stops recursive CTEs at 1,000).
    digits = " UNION ALL ".join(f"SELECT {d} AS i" for d in range(10))
    n = "a.i + 10 * b.i + 100 * c.i + 1000 * d.i + 10000 * e.i"
    q = (f"WITH t AS ({digits}) SELECT {n} AS i, 'paragraph text 段落文字' AS text, ({n}) * 0.5 AS half "
         f"FROM t a, t b, t c, t d, t e WHERE {n} < {rows}")
    tracemalloc.start()
    with export.open_rows(url, query=q) as r, open(tmp_path / f"out.{fmt}", "wb") as out:
        written = sum(export.export(r, fmt, out))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert written == rows
    return peak


def test_memory_does_not_grow_with_rows_on_any_engine(engine, tmp_path):
    url = engine.url.render_as_string(hide_password=False)
    small = _peak_bytes(url, 3_000, "csv", tmp_path)
    large = _peak_bytes(url, 30_000, "csv", tmp_path)
    # Ten times the rows: a buffering export (or driver) would need ~10x the memory; a streamed one the same.
    assert large < small * 2, (small, large)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "xlsx"])
def test_memory_does_not_grow_with_rows_in_any_format(sqlite_url, tmp_path, fmt):
    pytest.importorskip(export.EXTRAS.get(fmt, ("json",))[0], reason=f"{fmt} export needs its extra")
    eng = db.make_engine(sqlite_url)
    db.upgrade(eng)
    eng.dispose()
    small = _peak_bytes(sqlite_url, 3_000, fmt, tmp_path)
    large = _peak_bytes(sqlite_url, 30_000, fmt, tmp_path)
    assert large < small * 2, (small, large)


def test_postgresql_exports_through_a_server_side_cursor(archive):
    url, _ = archive
    if not url.startswith("postgresql"):
        pytest.skip("server-side cursors are checked on PostgreSQL (SQLite reads lazily; PyMySQL buffering shows in the memory test)")
    with sql.readonly_connection(url) as conn:  # through SQLAlchemy (URLs the DB-API path does not read)
        rows = export._relation_rows(conn, "v_paragraph")
        next(rows.rows)
        declared = conn.exec_driver_sql("SELECT statement FROM pg_cursors").scalars().all()
        assert [d for d in declared if "v_paragraph" in d and d.startswith("DECLARE")], declared
    watcher = db.make_engine(url)  # the URL's own login sees what the other sessions run
    with export.open_rows(url, name="v_paragraph") as rows, watcher.connect() as other:  # on psycopg alone
        next(rows.rows)
        fetching = other.exec_driver_sql(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).scalars().all()
        assert [q for q in fetching if q.startswith("FETCH") and "archive_export" in q], fetching
    watcher.dispose()


def _catalog_relation(conn, name: str) -> catalog.Relation:
    """`name` as the DB-API path reads it from the catalog, on a SQLAlchemy connection's driver."""
    driver = conn.connection.driver_connection
    return (catalog.sqlite_relation if conn.dialect.name == "sqlite" else catalog.postgresql_relation)(driver, name)


def test_the_catalog_reads_every_relation_as_sqlalchemy_reflects_it(archive):
    """The DB-API export path reads columns, their kinds and the key from the catalog: for every table and
    view of the archive they are what SQLAlchemy's reflection gave, so the bytes written cannot differ."""
    url, _ = archive
    if url.startswith("mysql"):
        pytest.skip("MariaDB exports through SQLAlchemy's reflection")
    with sql.readonly_connection(url) as conn:
        names = catalog.relation_names(conn)
        driver = conn.connection.driver_connection
        lean_names = catalog.sqlite_relation_names(driver) if url.startswith("sqlite") else catalog.postgresql_relation_names(driver)
        assert lean_names == names
        for name in names:
            try:
                reflected = catalog.reflected_relation(conn, name)[0]
            except DBAPIError:  # SQLite's search index (a virtual table) cannot be opened read-only, either way
                with pytest.raises(sqlite3.OperationalError, match="vtable constructor failed"):
                    _catalog_relation(conn, name)
                continue
            assert _catalog_relation(conn, name) == reflected, name
        with pytest.raises(catalog.UnknownRelation, match="no table or view named 'nope'"):
            _catalog_relation(conn, "nope")


SQLITE_DECLARED = ["INTEGER", "int(11)", "UNSIGNED BIG INT", "VARCHAR(20)", "varchar(20)", "NVARCHAR(5)", "TEXT", "CLOB",
                   "NUMERIC(38, 10)", "NUMERIC(5)", "NUMERIC", "DECIMAL(10,2)", "MONEY", "DOUBLE PRECISION", "DOUBLE", "FLOAT",
                   "REAL", "BLOB", "", "DATE", "DATETIME", "DATETIME(6)", "TIMESTAMP", "TIME", "BOOLEAN", "BOOL", "JSON",
                   "SMALLINT", "BIGINT", "CHAR(3)", "VARCHAR (20)"]


@pytest.mark.filterwarnings("ignore:Could not instantiate type")  # INT(11): SQLAlchemy drops the 11, and says so
def test_sqlite_declared_types_are_read_as_sqlalchemy_reads_them(tmp_path):
    import sqlite3

    path = tmp_path / "types.db"
    con = sqlite3.connect(path)
    columns = ", ".join(f"c{i} {t}" for i, t in enumerate(SQLITE_DECLARED))
    con.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {columns})")
    con.execute("CREATE TABLE k (a INTEGER, b VARCHAR(5), c TEXT, PRIMARY KEY (b, a))")
    con.execute("CREATE VIEW v AS SELECT c8 AS n, c0 + 1 AS plus, id FROM t")
    con.close()
    with sql.readonly_connection(f"sqlite:///{path}") as conn:
        for name in ("t", "k", "v"):
            assert _catalog_relation(conn, name) == catalog.reflected_relation(conn, name)[0], name
    assert catalog.sqlite_kind("NUMERIC(38, 10)") == catalog.Kind("decimal", 38, 10)


def test_postgresql_types_are_read_as_sqlalchemy_reads_them():
    from sqlalchemy import create_engine

    from tests.conftest import server_database

    declared = ["integer", "smallint", "bigint", "numeric(38,10)", "numeric(5)", "numeric", "real", "double precision",
                "boolean", "date", "timestamp", "timestamp(3)", "timestamptz", "time", "timetz", "text", "varchar(20)",
                "varchar", "char(3)", "bytea", "tsvector", "json", "jsonb", "uuid", "interval", "integer[]", "money"]
    for url in server_database("postgresql"):
        eng = create_engine(url)
        with eng.begin() as c:
            columns = ", ".join(f"c{i} {t}" for i, t in enumerate(declared))
            c.exec_driver_sql(f"CREATE TABLE t (id serial PRIMARY KEY, {columns})")
            c.exec_driver_sql("CREATE TABLE k (a integer, b varchar(5), c text, PRIMARY KEY (b, a))")
            c.exec_driver_sql("CREATE VIEW v AS SELECT c3 * 2 AS twice, count(*) OVER () AS n, id FROM t")
        eng.dispose()
        with sql.readonly_connection(url) as conn:
            for name in ("t", "k", "v"):
                assert _catalog_relation(conn, name) == catalog.reflected_relation(conn, name)[0], name


EXPORT_PROBE = """
import sys
from archive.cli import main
try:
    main(sys.argv[1:], prog_name="archive")
except SystemExit as exc:
    assert not exc.code, exc.code
print("IMPORTED", sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "alembic", "sqlparse")}), file=sys.stderr)
"""


def test_exporting_a_table_or_view_does_not_import_sqlalchemy(archive, tmp_path):
    import subprocess
    import sys

    url, _ = archive
    if url.startswith("mysql"):
        pytest.skip("MariaDB exports through SQLAlchemy")
    for args in (["v_metric"], ["paragraph", "--format", "jsonl"], ["v_article", "-o", str(tmp_path / "a.csv")]):
        done = subprocess.run([sys.executable, "-c", EXPORT_PROBE, "--db", url, "export", *args], capture_output=True, text=True)
        assert done.returncode == 0 and "IMPORTED []" in done.stderr, done.stderr
    if url.startswith("sqlite"):  # queries too, on SQLite (a server's need the temporary login: SQLAlchemy)
        for args in (["sql", "SELECT count(*) FROM v_metric"], ["export", "--query", "SELECT * FROM v_article"]):
            done = subprocess.run([sys.executable, "-c", EXPORT_PROBE, "--db", url, *args], capture_output=True, text=True)
            assert done.returncode == 0 and "IMPORTED ['sqlparse']" in done.stderr, done.stderr


def test_xlsx_continues_on_a_new_sheet_when_one_is_full(archive, tmp_path, monkeypatch):
    pytest.importorskip("xlsxwriter", reason="xlsx export needs XlsxWriter (extra: xlsx)")
    url, facts = archive
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 10)  # Excel's real limit is 1,048,575 data rows
    target = tmp_path / "p.xlsx"
    result = cli(url, "export", "v_paragraph", "--format", "xlsx", "-o", str(target))
    expected_sheets = -(-facts["paragraphs"] // 10)
    assert result.exit_code == 0 and f"written to {expected_sheets} sheets" in result.output, result.output
    with zipfile.ZipFile(target) as z:
        sheets = sorted(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
        rows = sum(z.read(s).decode().count("<row ") - 1 for s in sheets)
    assert len(sheets) == expected_sheets and rows == facts["paragraphs"]


def test_empty_result_still_makes_files_with_a_header(archive, tmp_path):
    url, _ = archive
    q = "SELECT metric_id, date, value FROM v_metric WHERE 1 = 0"
    out = cli(url, "export", "--query", q).output
    assert out == "metric_id,date,value\n"
    for fmt in ("parquet", "xlsx"):
        if not _has(export.EXTRAS[fmt][0]):
            continue
        target = tmp_path / f"empty.{fmt}"
        assert cli(url, "export", "--query", q, "--format", fmt, "-o", str(target)).exit_code == 0
        assert target.stat().st_size > 0


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _csv_both_ways(url: str, name: str, encoding: str = "utf-8", excel: bool = False) -> tuple[bytes, bytes, bool]:
    """The CSV (`excel`: --excel's) of a table by the fast route and by the csv module, and whether there
    was a fast route."""
    out = []
    # csv=True: PostgreSQL's lines through psycopg2 (archive export's route); then through psycopg; then none
    for fast, lines in ((True, True), (True, False), (False, False)):
        buf = io.BytesIO()
        with export.open_rows(url, name=name, csv=lines) as rows:
            had_fast = (rows.excel_body if excel else rows.csv_body) is not None
            if not fast:
                rows.csv_body = rows.excel_body = None
            for _ in export.export(rows, "csv", buf, encoding=encoding, excel=excel):
                pass
        out.append(buf.getvalue())
    assert out[0] == out[1], (url, name)
    return out[0], out[2], had_fast


def test_sqlite_fast_csv_writes_what_the_csv_module_writes(tmp_path):
    """The fast route joins SQLite's text of each value; wherever a batch holds anything the csv module
    would quote or write otherwise (commas, quotes, line breaks, reals, blobs), that batch is written by
    the csv module. Either way the bytes are the same."""
    import random
    import sqlite3

    path = tmp_path / "t.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, s TEXT, v VARCHAR(20))")
    rnd = random.Random(7)
    odd = ["a,b", 'say "hi"', "two\nlines", "cr\rhere", "", None, 1.5, 1e20, 2**63 - 1, -3, b"\x00\xff", "民警，4495人", " x "]
    n = len(odd) * 3 * 1000 + 700
    rows = [[i * 3 - 100, rnd.randrange(-10**12, 10**12), f"正文{i}", None if i % 7 else "导语"] for i in range(1, n + 1)]
    for k, value in enumerate(odd):  # each odd value alone in a batch (of 1000 rows), in each column
        for column in (1, 2, 3):
            rows[(len(odd) * (column - 1) + k) * 1000 + 500][column] = value
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    con.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, x REAL, s TEXT)")  # reals: Python writes their repr
    con.execute("INSERT INTO r VALUES (1, 0.1, 'a'), (2, 1e20, 'b')")
    con.commit()
    con.close()
    url = f"sqlite:///{path}"
    fast, plain, had_fast = _csv_both_ways(url, "t")
    assert had_fast and fast == plain
    assert any(q in fast for q in (b'"a,b"', b'"say ""hi"""', b'"two\nlines"'))  # some batches took the csv module
    fast, plain, had_fast = _csv_both_ways(url, "r")
    assert had_fast and fast == plain == b"id,x,s\n1,0.1,a\n2,1e+20,b\n"


def test_fast_csv_route_on_the_archive_tables(archive):
    url, _ = archive
    if not url.startswith("sqlite"):
        pytest.skip("the fast route is SQLite's")
    with sql.readonly_connection(url) as conn:
        names = catalog.relation_names(conn)
    assert {"paragraph", "metric", "v_metric", "v_article", "v_paragraph"} <= set(names)
    exported = []
    for name in names:
        try:
            fast, plain, had_fast = _csv_both_ways(url, name)
        except sql.QueryFailed:  # the search index's virtual table cannot be opened read-only, by either route
            assert name.startswith("search"), name
            continue
        exported.append(name)
        assert had_fast or name in ("alembic_version",), name  # one column: the csv module writes a lone "" field
        assert fast == plain, name
    assert len(exported) >= 12, exported
    assert b",0.0000000001," in _csv_both_ways(url, "v_metric")[0]


def test_sqlite_fast_csv_reads_one_snapshot_while_a_loader_commits(tmp_path):
    """Batches are separate SELECTs: all of them must see the table as it was when the export began."""
    import sqlite3

    path = tmp_path / "w.db"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"行{i}") for i in range(1, 3001)])
    expected = "id,s\n" + "".join(f"{i},行{i}\n" for i in range(1, 3001))
    buf = io.BytesIO()
    with export.open_rows(f"sqlite:///{path}", name="t") as rows:
        assert rows.csv_body is not None
        batches = export.export(rows, "csv", buf)
        next(batches)  # the first batch is out; a loader now deletes, changes and adds rows, and commits
        con.execute("DELETE FROM t WHERE id = 2500")
        con.execute("UPDATE t SET s = '改' WHERE id = 1500")
        con.execute("INSERT INTO t VALUES (5000, '新')")
        for _ in batches:
            pass
    con.close()
    assert buf.getvalue().decode() == expected


ODD_TEXT = ["a,b", 'say "hi"', "two\nlines", "cr\rhere", "", None, "nul\x00inside", "民警，4495人", " x ", "1.5", "-0"]
ODD_NUMERIC = [Decimal("0.0000000001"), Decimal("58.20"), Decimal("20000.0000000000"), Decimal("-1.5E-7"), 1e20, -2.5e21,
               123456789012345.6, 0.1 + 0.2, 2**63 - 1, -(2**63), 0, 0.0, -0.0, None, float("inf"), "7.50"]  # text that is no number fails either way
ODD_DATES = ["2020-08-26", "2020-08-26 00:00:00", "1999-12-31T23:59:59", 20200826, None, "0001-01-01"]
ODD_DATETIMES = ["2020-08-26 12:30:00.000000", "2020-08-26 12:30:00.250000", "2020-08-26 12:30:00", "2020-08-26T12:30:00",
                 "2020-08-26 12:30:00.5", None]
ODD_ANY = [1.5, 1e-05, 100.0, b"\x00\xff", "文本", 42, None, ""]


def test_sqlite_fast_csv_with_odd_values_in_tables_and_views(tmp_path):
    """Decimals, dates, date-times, reals, blobs, quotes, commas, line breaks, NULs, NULLs and empty strings,
    in a table and in views (one keyed by a column with duplicates and NULLs): the fast route writes what
    the csv module writes, each odd value alone in a batch and all of them together."""
    import sqlite3

    path = tmp_path / "odd.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v NUMERIC(38, 10), d DATE, ts DATETIME, s VARCHAR(20), "
                "n INTEGER, x)")
    rows, i = [], 0
    base = [Decimal("1.25"), "2021-03-09", "2021-03-09 08:00:00.000000", "正文", 7, "x"]

    def add(column, value):
        nonlocal i
        for _ in range(1000):  # the odd value alone in a batch of its own
            i += 1
            row = [i, *base]
            if _ == 500:
                row[column] = value
            rows.append([str(v) if isinstance(v, Decimal) else v for v in row])

    for column, values in ((1, ODD_NUMERIC), (2, ODD_DATES), (3, ODD_DATETIMES), (4, ODD_TEXT), (5, ODD_ANY), (6, ODD_ANY)):
        for value in values:
            add(column, value)
    odd_row = [None, Decimal("0.0000000001"), "2020-08-26", "2020-08-26 12:30:00.250000", 'say "hi", twice\n', 1.5, b"\x00"]
    for _ in range(300):  # a batch where everything is odd at once
        i += 1
        rows.append([i, *[str(v) if isinstance(v, Decimal) else v for v in odd_row[1:]]])
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("CREATE VIEW v_all AS SELECT id AS key, v, d, ts, s, n, x, v * 2 AS twice, s || '!' AS loud FROM t")
    con.execute("CREATE VIEW v_dup AS SELECT n AS key, s, v FROM t")  # keys repeat, some are NULL or real
    con.execute("CREATE VIEW v_late_dup AS SELECT CASE WHEN id > 2500 THEN 2500 ELSE id END AS key, s, d FROM t")
    con.commit()
    con.close()
    url = f"sqlite:///{path}"
    for name in ("t", "v_all", "v_dup", "v_late_dup"):
        fast, plain, had_fast = _csv_both_ways(url, name)
        assert had_fast, name
        assert fast == plain, name
    fast = _csv_both_ways(url, "t")[0]
    for expected in (b",0.0000000001,", b",-0.00000015,", b",100000000000000000000,", b",20000,", b",58.2,", b",2020-08-26T12:30:00.250000,",
                     b",1e-05,", b",0001-01-01,", b",Infinity,", b',"say ""hi"""', b"nul\x00inside"):
        assert expected in fast, expected


def test_sqlite_fast_csv_keeps_the_plain_order_when_keys_repeat(tmp_path):
    """A view whose first column repeats: the fast route hands over to the plain SELECT from the last key it
    wrote, and every row is written once."""
    import sqlite3

    path = tmp_path / "dup.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"行{i}") for i in range(1, 5001)])
    con.execute("CREATE VIEW v AS SELECT id / 2 AS half, s FROM t")  # each key twice
    con.execute("CREATE VIEW w AS SELECT CASE WHEN id < 3500 THEN id ELSE 3500 END AS k, s FROM t")
    con.commit()
    con.close()
    for name in ("v", "w"):
        fast, plain, had_fast = _csv_both_ways(f"sqlite:///{path}", name)
        assert had_fast and fast == plain
        lines = fast.decode().splitlines()
        assert len(lines) == 5001 and len(set(lines)) == 5001


def test_fast_csv_route_on_every_relation_of_each_engine(archive):
    """On SQLite and PostgreSQL every table and view has a fast route, which writes the csv module's bytes."""
    url, _ = archive
    with sql.readonly_connection(url) as conn:
        names = catalog.relation_names(conn)
    routes = {}
    for name in names:
        try:
            fast, plain, routes[name] = _csv_both_ways(url, name)
        except sql.QueryFailed:  # SQLite's search index (a virtual table) cannot be opened read-only
            assert url.startswith("sqlite") and name.startswith("search"), name
            continue
        assert fast == plain, name
    fast, plain, _ = _csv_both_ways(url, "v_paragraph", "gb18030")  # other encodings take the fast route too
    assert fast == plain and "内蒙古法制报".encode("gb18030") in fast
    expected = not url.startswith("mysql")
    for name in ("paragraph", "article", "metric", "source", "v_metric", "v_article", "v_paragraph"):
        assert routes[name] is expected, name


def test_postgresql_fast_csv_with_odd_values(tmp_path):
    """Quotes, commas, line breaks, carriage returns (which Python's csv module does not quote here, and
    PostgreSQL's COPY would), NULLs against empty strings, decimals beyond 28 digits, timestamps,
    booleans: the server's lines are the csv module's."""
    from sqlalchemy import create_engine

    from tests.conftest import server_database

    for url in server_database("postgresql"):
        eng = create_engine(url)
        with eng.begin() as c:
            c.exec_driver_sql(
                "CREATE TABLE t (id integer PRIMARY KEY, v numeric(38, 10), d date, ts timestamp, s varchar(40), "
                "b boolean, big bigint, x text)"
            )
            odd_text = ["a,b", 'say "hi"', "two\nlines", "cr\rhere", "", None, "民警，4495人", " x ", "\\N", "tab\there",
                        "back\\slash", "\\", "\\n", "crlf\r\n", "\b\f\v\x01\x7f", "\\\\t\t\n", "\u2028〇"]
            odd_numeric = ["0.0000000001", "58.20", "20000.0000000000", "-0.00000015", "1234567890123456789012345678.1234567891",
                           "0", "-7", None, "99999999999999999999999999.9999999999"]
            odd_dates = ["2020-08-26", "0001-01-01", "9999-12-31", None]
            odd_ts = ["2020-08-26 12:30:00", "2020-08-26 12:30:00.25", "2020-08-26 12:30:00.000001", None]
            rows, i = [], 0
            for column, values in ((1, odd_numeric), (2, odd_dates), (3, odd_ts), (4, odd_text), (5, [True, False, None]),
                                   (6, [2**63 - 1, -(2**63), None]), (7, odd_text)):
                for value in values:
                    for k in range(700):
                        i += 1
                        row = [i, "1.25", "2021-03-09", "2021-03-09 08:00:00", "正文", True, 7, "x"]
                        if k == 350:
                            row[column] = value
                        rows.append(tuple(row))
            c.exec_driver_sql("INSERT INTO t VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
            c.exec_driver_sql("CREATE VIEW v AS SELECT s AS key, v, d, ts, x FROM t")  # a text key, repeated
        eng.dispose()
        for name in ("t", "v"):
            for excel in (False, True):
                fast, plain, had_fast = _csv_both_ways(url, name, excel=excel)
                if name == "v":  # rows of equal keys come in either order (the two statements sort differently)
                    fast, plain = (sorted(csv.reader(io.StringIO(b.decode(), newline=""))) for b in (fast, plain))
                assert had_fast and fast == plain, (name, excel)
        fast = _csv_both_ways(url, "t")[0]
        for expected in (b",0.0000000001,", b",-0.00000015,", b",20000,", b",58.2,", b",2020-08-26T12:30:00.250000,",
                         b",2020-08-26T12:30:00,", b",True,", b",False,", b',"say ""hi"""', b"cr\rhere", b",1234567890123456789012345678,",
                         b",back\\slash,", b",\\n,", b',"\\\\t\t\n",'):
            assert expected in fast, expected
        excel = _csv_both_ways(url, "t", excel=True)[0]
        assert excel.startswith(b"\xef\xbb\xbfid,v,") and b',"cr\rhere",' in excel and b"\r\n3,1.25," in excel


def test_engines_export_the_same_bytes(seed_dir, tmp_path):
    """The same archive on SQLite and PostgreSQL (and MariaDB when configured) exports byte for byte the
    same CSV for the views and the tables that hold no load times: dates, decimals and quoting agree."""
    import os

    from tests.conftest import server_database

    urls = [f"sqlite:///{tmp_path / 'a.db'}"]
    servers = [k for k, v in (("postgresql", "ARCHIVE_TEST_POSTGRES_URL"), ("mysql", "ARCHIVE_TEST_MYSQL_URL")) if os.environ.get(v)]
    if not servers:
        pytest.skip("needs ARCHIVE_TEST_POSTGRES_URL or ARCHIVE_TEST_MYSQL_URL")
    gens = [server_database(k) for k in servers]
    urls += [next(g) for g in gens]
    try:
        for url in urls:
            build_archive(url, seed_dir, tmp_path)
        for name in ("v_metric", "v_article", "v_paragraph", "metric", "paragraph", "article", "section", "issue"):
            outputs = []
            for url in urls:
                buf = io.BytesIO()
                with export.open_rows(url, name=name) as rows:
                    for _ in export.export(rows, "csv", buf):
                        pass
                outputs.append(buf.getvalue())
            if "metric" in name:  # metric ids differ: PostgreSQL's sequence went on past the extractor's rows
                outputs = [b"\n".join(line.split(b",", 1)[1] for line in o.split(b"\n")[:-1]) for o in outputs]
            for url, o in zip(urls, outputs):
                assert o.decode().splitlines() == outputs[0].decode().splitlines(), (name, url)
            assert outputs[0].count(b"\n") > 2, name
    finally:
        for g in gens:
            g.close()


ODD_LINES = ["back\\slash", "tab\there", "two\nlines", "cr\rhere", "crlf\r\n", 'say "hi", twice', "a,b", "\\N", "\\",
             "\\\\t\t\n", "\b\f\v\x01\x7f", "\u2028〇𠀀", "", None]


def test_odd_text_exports_the_same_by_every_route(db_url):
    """Texts holding a backslash, a tab, line breaks, carriage returns, quotes, commas, control and odd
    characters, empty and NULL, on every engine, in a table and a view: the fast routes (CSV and --excel)
    write the csv module's bytes, and every format reads back the values stored."""
    from sqlalchemy import create_engine

    eng = create_engine(db_url)
    with eng.begin() as c:
        c.exec_driver_sql("CREATE TABLE odd (id integer PRIMARY KEY, s varchar(100), v numeric(20, 10), d date)")
        rows = [(i, s, None if i % 3 else "58.20", "2020-08-26" if i % 2 else None) for i, s in enumerate(ODD_LINES, 1)]
        c.exec_driver_sql("INSERT INTO odd VALUES (%s, %s, %s, %s)".replace("%s", "?") if db_url.startswith("sqlite")
                          else "INSERT INTO odd VALUES (%s, %s, %s, %s)", rows)
        c.exec_driver_sql("CREATE VIEW v_odd AS SELECT id, s, v, d FROM odd")
    eng.dispose()
    for name in ("odd", "v_odd"):
        for excel in (False, True):
            fast, plain, had_fast = _csv_both_ways(db_url, name, excel=excel)
            assert fast == plain, (name, excel)
            assert had_fast is (not db_url.startswith("mysql") and not (excel and db_url.startswith("sqlite"))), name
        expected = io.StringIO()
        w = csv.writer(expected, lineterminator="\n")
        w.writerow(["id", "s", "v", "d"])
        w.writerows([(i, s, v and "58.2", d) for i, s, v, d in rows])
        assert _csv_both_ways(db_url, name)[0].decode() == expected.getvalue(), name
        buf = io.BytesIO()
        with export.open_rows(db_url, name=name) as exported:
            for _ in export.export(exported, "jsonl", buf):
                pass
        assert [json.loads(x)["s"] for x in buf.getvalue().decode().split("\n")[:-1]] == ODD_LINES, name


def test_postgresql_lines_through_psycopg2_in_batches(db_url, monkeypatch):
    """archive export's CSV on PostgreSQL reads COPY through psycopg2 (copy_expert hands each row's message
    to Python, which writes them a batch at a time): the same bytes as through psycopg and as the csv module,
    across batches, with rows the server cannot write (decimals of more than 28 digits) among them, and for
    an empty table."""
    if not db_url.startswith("postgresql"):
        pytest.skip("psycopg2 reads PostgreSQL")
    pytest.importorskip("psycopg2")
    from sqlalchemy import create_engine

    eng = create_engine(db_url)
    with eng.begin() as c:
        c.exec_driver_sql("CREATE TABLE big (id integer PRIMARY KEY, s text, v numeric(40, 0), d date)")
        c.exec_driver_sql("CREATE TABLE empty (id integer PRIMARY KEY, s text)")
        c.exec_driver_sql(
            "INSERT INTO big SELECT i, CASE WHEN mod(i, 7) = 0 THEN 'a,\"b\"' || i ELSE 'x' || i END, "
            "CASE WHEN mod(i, 1001) = 0 THEN 10::numeric ^ 35 + i WHEN mod(i, 3) = 0 THEN i END, "
            "date '2020-01-01' + i FROM generate_series(1, 2500) i"
        )
    eng.dispose()
    copies = []
    real = export._psycopg2_copy
    monkeypatch.setattr(export, "_psycopg2_copy", lambda *a: copies.append(a[1]) or real(*a))
    for name in ("big", "empty"):
        for excel in (False, True):
            fast, plain, had_fast = _csv_both_ways(db_url, name, excel=excel)
            assert had_fast and fast == plain, (name, excel)
    assert len(copies) == 4  # once a table and form, with csv=True
    assert fast == b"\xef\xbb\xbfid,s\r\n"
    buf = io.BytesIO()
    with export.open_rows(db_url, name="big", csv=True) as rows:
        counts = list(export.export(rows, "csv", buf))
    assert counts == [1000, 1000, 500] and buf.getvalue().count(b"\n") == 2501
    big = export.text_value(Decimal(10**35 + 1001))  # (the csv module's route: normalize() keeps 28 digits)
    assert f'\n1001,"a,""b""1001",{big},'.encode() in buf.getvalue() and b"\n3,x3,3,2020-01-04\n" in buf.getvalue()
