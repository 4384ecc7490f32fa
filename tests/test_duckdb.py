"""The analysts' path: `archive export … --format parquet` is what DuckDB (and pandas, Power BI) read,
with types intact, on every engine. Needs the `analytics` extra (DuckDB); skips with a reason without it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.bi_data import METRICS, archive, cli  # noqa: F401  (fixture)

duckdb = pytest.importorskip("duckdb", reason="the DuckDB check needs the analytics extra: pip install -e '.[analytics]'")
pytest.importorskip("pyarrow", reason="parquet export needs pyarrow (extra: parquet)")


def _export(url, name, target):
    result = cli(url, "export", name, "--format", "parquet", "-o", str(target))
    assert result.exit_code == 0, result.output
    return str(target)


def test_duckdb_reads_the_views_with_their_types(archive, tmp_path):
    url, facts = archive
    con = duckdb.connect()  # in memory: DuckDB reads the files where they lie
    metrics = _export(url, "v_metric", tmp_path / "v_metric.parquet")
    articles = _export(url, "v_article", tmp_path / "v_article.parquet")
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM '{metrics}'").fetchall()}
    assert types["date"] == "DATE"
    assert types["value"] == "DECIMAL(38,10)"
    assert types["metric_id"] == "BIGINT" and types["unit"] == "VARCHAR"
    # An analyst's question answered in DuckDB: the same numbers the archive holds, to the last decimal.
    rows = con.execute(f"SELECT unit, count(*), sum(value) FROM '{metrics}' GROUP BY unit ORDER BY unit").fetchall()
    want = {}
    for _needle, _surface, value, unit, _kind, _q in METRICS:
        n, total = want.get(unit, (0, Decimal(0)))
        want[unit] = (n + 1, total + value)
    assert {u: (n, Decimal(t)) for u, n, t in rows} == want
    assert con.execute(f"SELECT min(value) FROM '{metrics}'").fetchone()[0] == Decimal("0.0000000001")
    # Joined across two exported views by key, as a BI model would.
    n, = con.execute(
        f"SELECT count(*) FROM '{metrics}' m JOIN '{articles}' a USING (article_id) WHERE a.date = DATE '2020-08-26'"
    ).fetchone()
    assert n == len(METRICS)
    dates = {r[0] for r in con.execute(f"SELECT date FROM '{articles}'").fetchall()}
    assert dt.date(2020, 8, 26) in dates and len(dates) == 2
    assert con.execute(f"SELECT count(*) FROM '{articles}'").fetchone()[0] == facts["articles"]
