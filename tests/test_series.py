"""Issue 15 wired in: each metric's when/where/base unit/series columns, v_series and v_fact, and the
`archive series` / `archive measures` commands, over made-up pages (tests/data/series; no real text)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from archive import db
from archive.facts import FACT_COLUMNS, base_value
from archive.models import Metric
from tests.conftest import DATA
from tests.test_load import run

SERIES = DATA / "series"
LOAD = ("load", "--format", "article", "--newspaper", "示例日报", "--name-pattern", "{date:%Y%m%d}-{ordinal}.txt")


@pytest.fixture
def series_dir(tmp_path):
    out = tmp_path / "series"
    shutil.copytree(SERIES, out)
    return out


def _load(url, folder):
    run(url, *LOAD, str(folder))
    return db.make_engine(url)


def _metrics(eng) -> dict[str, dict]:
    with Session(eng) as s:
        rows = s.scalars(select(Metric).order_by(Metric.id)).all()
        out = {}
        for m in rows:
            out.setdefault(m.surface, {c: getattr(m, c) for c in FACT_COLUMNS})
    return out


def test_loaded_metrics_carry_time_place_base_unit_and_measure(db_url, series_dir):
    eng = _load(db_url, series_dir)
    m = _metrics(eng)
    eng.dispose()
    day = dt.date
    # 截至2月10日24时 in an issue of 2020-02-11, datelined 武汉
    assert {k: m["2097例"][k] for k in FACT_COLUMNS[:-1]} == {
        "ref_start": day(2020, 2, 10), "ref_end": day(2020, 2, 10), "ref_precision": "day",
        "place": "湖北省", "place_level": "province", "value_base": Decimal("2097"), "unit_base": "例",
        "measure": "新增确诊病例|count|patient_case"}
    assert m["31728例"]["measure"] == "累计确诊病例|count|patient_case"  # 新增 and 累计 are two series
    assert m["1552例"]["place"] == "武汉市" and m["1552例"]["place_level"] == "prefecture"
    # 截至11日24时 in the issue of 2020-02-12
    assert (m["1638例"]["ref_start"], m["1638例"]["ref_precision"]) == (day(2020, 2, 11), "day")
    # a year, national, 亿元 already in 元; 亿斤 -> 千克 (1 斤 = 0.5 千克)
    gdp = m["990865亿元"]
    assert (gdp["ref_start"], gdp["ref_end"], gdp["ref_precision"]) == (day(2019, 1, 1), day(2019, 12, 31), "year")
    assert (gdp["place"], gdp["place_level"], gdp["value_base"], gdp["unit_base"]) == ("全国", "country", Decimal("99086500000000"), "元")
    assert gdp["measure"] == "国内生产总值|money|money_cny"  # 2019年 and 全国 are columns, not the key
    assert (m["13277亿斤"]["value_base"], m["13277亿斤"]["unit_base"]) == (Decimal("663850000000"), "千克")
    # 1至5月 … 同比下降18.2%: a span, 湖北省 from 全省 in a 武汉 article, negative as it goes down
    fall = m["18.2%"]
    assert (fall["ref_start"], fall["ref_end"], fall["ref_precision"]) == (day(2020, 1, 1), day(2020, 5, 31), "span")
    assert (fall["place"], fall["value_base"], fall["unit_base"], fall["measure"]) == ("湖北省", Decimal("-18.2"), "%", "工业增加值|change|percent")
    assert all(len(v["fact_key"]) == 20 for v in m.values() if v["measure"])


def test_the_same_figure_in_two_articles_is_one_fact(db_url, series_dir):
    eng = _load(db_url, series_dir)
    with eng.connect() as c:
        keys = c.execute(select(Metric.fact_key, Metric.article_id).where(Metric.surface == "1638例")).all()
        assert len(keys) == 2 and keys[0][0] == keys[1][0] and keys[0][1] != keys[1][1]
        n_series = c.execute(text("SELECT count(*) FROM v_series WHERE measure = '新增确诊病例|count|patient_case'")).scalar()
        facts = c.execute(text(
            "SELECT value_base, restated, article_id FROM v_fact WHERE measure = '新增确诊病例|count|patient_case' "
            "AND place = '湖北省' ORDER BY ref_end")).all()
        all_series = c.execute(text("SELECT count(*) FROM v_series")).scalar()
        all_metrics = c.execute(select(Metric.id).where(Metric.measure.is_not(None))).all()
    eng.dispose()
    assert n_series == 5  # four days' figures for 湖北省 and 武汉市, one printed twice
    assert [(int(v), r) for v, r, _ in facts] == [(2097, 1), (1638, 2), (14840, 1)]
    assert facts[1][2] == keys[0][1]  # the first article printing it wins
    assert all_series == len(all_metrics)


def test_base_units_from_the_unit_table():
    assert base_value(Decimal("12"), "公里") == (Decimal("12000"), "米")
    assert base_value(Decimal("3"), "吨") == (Decimal("3000"), "千克")
    assert base_value(Decimal("5"), "名") == (Decimal("5"), "人")
    assert base_value(Decimal("4"), "成") == (Decimal("40"), "%")
    assert base_value(Decimal("5"), "‰", "down") == (Decimal("-0.5"), "%")
    assert base_value(Decimal("3"), "年") == (Decimal("3"), "年")  # no fixed factor
    assert base_value(Decimal("8400"), "人次/小时") == (Decimal("8400"), "人次/小时")


def test_series_command_table_csv_json(sqlite_url, series_dir):
    _load(sqlite_url, series_dir).dispose()
    out = run(sqlite_url, "series", "新增确诊病例|count|patient_case", "--place", "湖北省").output
    lines = out.splitlines()
    assert lines[0].split() == ["measure", "place", "ref_start", "ref_end", "ref_precision", "value_base", "unit_base",
                                "restated", "date", "newspaper", "article_id", "paragraph_id"]
    assert [ln.split()[2:8] for ln in lines[2:]] == [
        ["2020-02-10", "2020-02-10", "day", "2097", "例", "1"],
        ["2020-02-11", "2020-02-11", "day", "1638", "例", "2"],
        ["2020-02-12", "2020-02-12", "day", "14840", "例", "1"]]
    rows = list(csv.DictReader(io.StringIO(run(sqlite_url, "series", "国内生产总值", "--format", "csv").output)))
    assert [(r["measure"], r["ref_start"], r["value_base"]) for r in rows] == [
        ("国内生产总值|change|percent", "2019-01-01", "6.1"), ("国内生产总值|change|percent", "2020-01-01", "2.3"),
        ("国内生产总值|money|money_cny", "2019-01-01", "99086500000000"),
        ("国内生产总值|money|money_cny", "2020-01-01", "101598600000000")]
    data = json.loads(run(sqlite_url, "series", "工业增加值", "--from", "2020-06-01", "--format", "json").output)
    assert [(r["ref_end"], r["value_base"]) for r in data] == [("2020-06-30", -15.8)]
    assert run(sqlite_url, "series", "no-such-measure").output == "(no rows)\n"


def test_measures_command(sqlite_url, series_dir):
    _load(sqlite_url, series_dir).dispose()
    rows = json.loads(run(sqlite_url, "measures", "--format", "json").output)
    first = rows[0]
    assert first == {"measure": "新增确诊病例|count|patient_case", "facts": 4, "printings": 5, "places": 2,
                     "first": "2020-02-10", "last": "2020-02-12"}
    assert {r["measure"] for r in rows} >= {"国内生产总值|money|money_cny", "工业增加值|change|percent", "粮食总产量|measure|mass"}
    assert [r["measure"] for r in json.loads(run(sqlite_url, "measures", "--contains", "累计", "--format", "json").output)] == [
        "累计确诊病例|count|patient_case"]


def test_series_plot(sqlite_url, series_dir, tmp_path):
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")
    _load(sqlite_url, series_dir).dispose()
    for name in ("s.png", "s.svg"):
        run(sqlite_url, "series", "新增确诊病例", "--plot", str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in (tmp_path / "s.svg").read_bytes()[:500]


def test_reparse_fills_the_new_columns_of_old_rows(db_url, series_dir):
    eng = _load(db_url, series_dir)
    with eng.begin() as c:  # rows as a database loaded before migration 0010 holds them
        c.execute(update(Metric).values(**{k: None for k in FACT_COLUMNS}))
    run(db_url, "reparse")
    after = _metrics(eng)
    eng.dispose()
    assert after["2097例"]["ref_start"] == dt.date(2020, 2, 10) and after["2097例"]["place"] == "湖北省"
    assert after["2097例"]["fact_key"] and after["990865亿元"]["measure"] == "国内生产总值|money|money_cny"
