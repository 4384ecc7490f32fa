"""`archive export`: tables, views and queries to csv, jsonl, parquet and xlsx, streamed, on every engine."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import tracemalloc
import zipfile
from decimal import Decimal

import pytest

from archive import export
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


def _peak_bytes(url, rows: int, fmt: str, tmp_path) -> int:
    q = (f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) "
         "SELECT i, 'paragraph text 段落文字 ' || i AS text, i * 0.5 AS half FROM n")
    tracemalloc.start()
    with export.open_rows(url, query=q) as r, open(tmp_path / f"out.{fmt}", "wb") as out:
        written = sum(export.export(r, fmt, out))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert written == rows
    return peak


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_memory_does_not_grow_with_rows(sqlite_url, seed_dir, tmp_path, fmt):
    if fmt == "parquet":
        pytest.importorskip("pyarrow", reason="parquet export needs pyarrow (extra: parquet)")
    build_archive(sqlite_url, seed_dir, tmp_path)
    small = _peak_bytes(sqlite_url, 4_000, fmt, tmp_path)
    large = _peak_bytes(sqlite_url, 40_000, fmt, tmp_path)
    # Ten times the rows: a buffering export would need ~10x the memory; a streamed one about the same.
    assert large < small * 2, (small, large)
