"""When a figure holds: one test per rule of archive/timeref.py, every date checked exactly."""

from __future__ import annotations

from datetime import date

import pytest

from archive.timeref import TimeRef, find_times, per_value_times, resolve_time

ISSUE = date(2020, 8, 25)  # the made-up issue most cases are read against


def ref(a: str, b: str, precision: str) -> TimeRef:
    return TimeRef(date.fromisoformat(a), date.fromisoformat(b), precision)


def test_nothing_stated_is_the_issue_date():
    assert resolve_time(None, None, ISSUE) == ref("2020-08-25", "2020-08-25", "issue")
    assert resolve_time(None, None, ISSUE, "全市共有医院120家。") == ref(
        "2020-08-25", "2020-08-25", "issue")
    assert resolve_time(None, None, ISSUE).columns() == {
        "ref_start": ISSUE, "ref_end": ISSUE, "ref_precision": "issue"}


def test_as_of_a_day_is_a_point():
    assert resolve_time("截至8月20日", None, ISSUE) == ref("2020-08-20", "2020-08-20", "day")
    assert resolve_time("截至2019年12月31日", None, ISSUE) == ref(
        "2019-12-31", "2019-12-31", "day")
    assert resolve_time("截止到8月20日24时", None, ISSUE) == ref("2020-08-20", "2020-08-20", "day")


def test_as_of_a_day_without_month_takes_the_issue_month_or_the_one_before():
    assert resolve_time("截至24日24时", None, ISSUE) == ref("2020-08-24", "2020-08-24", "day")
    # the 26th is after 25 August: it is 26 July
    assert resolve_time("截至26日24时", None, ISSUE) == ref("2020-07-26", "2020-07-26", "day")
    # across a year boundary
    assert resolve_time("截至30日24时", None, date(2021, 1, 5)) == ref(
        "2020-12-30", "2020-12-30", "day")


def test_as_of_a_month_end_or_a_month():
    assert resolve_time("截至6月底", None, ISSUE) == ref("2020-06-30", "2020-06-30", "day")
    assert resolve_time("截至去年底", None, ISSUE) == ref("2019-12-31", "2019-12-31", "day")
    assert resolve_time("截至2019年末", None, ISSUE) == ref("2019-12-31", "2019-12-31", "day")
    # this year's end is still ahead of the issue: last year's
    assert resolve_time("截至年底", None, ISSUE) == ref("2019-12-31", "2019-12-31", "day")
    assert resolve_time("截至2月底", None, date(2020, 3, 3)) == ref(
        "2020-02-29", "2020-02-29", "day")
    assert resolve_time("截至6月", None, ISSUE) == ref("2020-06-30", "2020-06-30", "month")


def test_as_of_without_a_date_is_the_issue_date():
    assert resolve_time("截至目前", None, ISSUE, "2019年全市新建学校5所") == ref(
        "2020-08-25", "2020-08-25", "issue")
    assert resolve_time("截至记者发稿时", None, ISSUE) == ref("2020-08-25", "2020-08-25", "issue")


def test_since_a_month_runs_to_the_issue_date():
    assert resolve_time(None, "7月以来", ISSUE) == ref("2020-07-01", "2020-08-25", "span")
    # a month after the issue date is last year's
    assert resolve_time(None, "10月以来", ISSUE) == ref("2019-10-01", "2020-08-25", "span")


def test_since_runs_to_the_as_of_point_when_there_is_one():
    assert resolve_time("截至8月20日", "今年以来", ISSUE) == ref(
        "2020-01-01", "2020-08-20", "span")
    assert resolve_time("截至2019年12月31日", "7月以来", ISSUE) == ref(
        "2019-07-01", "2019-12-31", "span")


def test_this_year_and_year_start_since():
    assert resolve_time(None, "今年以来", ISSUE) == ref("2020-01-01", "2020-08-25", "span")
    assert resolve_time(None, "年初以来", ISSUE) == ref("2020-01-01", "2020-08-25", "span")
    assert resolve_time(None, "2018年以来", ISSUE) == ref("2018-01-01", "2020-08-25", "span")
    assert resolve_time(None, "去年至今", ISSUE) == ref("2019-01-01", "2020-08-25", "span")


def test_relative_years():
    assert resolve_time(None, None, ISSUE, "去年，全省粮食产量达到500万吨") == ref(
        "2019-01-01", "2019-12-31", "year")
    assert resolve_time(None, None, ISSUE, "上年全市接待游客3000万人次") == ref(
        "2019-01-01", "2019-12-31", "year")
    assert resolve_time(None, None, ISSUE, "今年计划新建学校5所") == ref(
        "2020-01-01", "2020-12-31", "year")
    assert resolve_time(None, None, ISSUE, "前年的产量为400万吨") == ref(
        "2018-01-01", "2018-12-31", "year")


def test_a_stated_year_arabic_and_chinese():
    assert resolve_time(None, None, ISSUE, "2019年，全国GDP接近100万亿元") == ref(
        "2019-01-01", "2019-12-31", "year")
    assert resolve_time(None, None, ISSUE, "二〇一九年全县脱贫1200户") == ref(
        "2019-01-01", "2019-12-31", "year")
    # 90年代 is no year of its own
    assert resolve_time(None, None, ISSUE, "2000年代以后建成") == ref(
        "2020-08-25", "2020-08-25", "issue")


def test_quarters():
    assert resolve_time(None, "一季度", ISSUE) == ref("2020-01-01", "2020-03-31", "quarter")
    assert resolve_time(None, None, ISSUE, "第二季度，全省进出口总额下降3%") == ref(
        "2020-04-01", "2020-06-30", "quarter")
    # 四季度 of 2020 starts after the issue date: last year's
    assert resolve_time(None, None, ISSUE, "四季度销售额为80亿元") == ref(
        "2019-10-01", "2019-12-31", "quarter")
    assert resolve_time(None, None, ISSUE, "2019年三季度利润10亿元") == ref(
        "2019-07-01", "2019-09-30", "quarter")
    assert resolve_time(None, None, ISSUE, "今年1季度营收增长") == ref(
        "2020-01-01", "2020-03-31", "quarter")


def test_first_quarters_run_from_january():
    assert resolve_time(None, "前三季度", date(2020, 10, 20)) == ref(
        "2020-01-01", "2020-09-30", "span")
    assert resolve_time(None, None, ISSUE, "去年前三季度，全国GDP增长6.2%") == ref(
        "2019-01-01", "2019-09-30", "span")
    assert resolve_time(None, "前两季度", ISSUE) == ref("2020-08-25", "2020-08-25", "issue")


def test_half_years():
    assert resolve_time(None, "上半年", ISSUE) == ref("2020-01-01", "2020-06-30", "span")
    assert resolve_time(None, None, ISSUE, "下半年，出口增长5%") == ref(
        "2020-07-01", "2020-12-31", "span")
    # read in June, the second half of this year has not begun: last year's
    assert resolve_time(None, None, date(2020, 6, 10), "下半年，出口增长5%") == ref(
        "2019-07-01", "2019-12-31", "span")
    assert resolve_time(None, None, ISSUE, "2018年下半年出口增长5%") == ref(
        "2018-07-01", "2018-12-31", "span")


def test_month_ranges():
    assert resolve_time(None, "1至5月", ISSUE) == ref("2020-01-01", "2020-05-31", "span")
    assert resolve_time(None, None, ISSUE, "1—7月，全省实现利润200亿元") == ref(
        "2020-01-01", "2020-07-31", "span")
    assert resolve_time(None, None, ISSUE, "2019年1月至2月，销量下降") == ref(
        "2019-01-01", "2019-02-28", "span")
    assert resolve_time(None, None, ISSUE, "前7个月，外贸进出口增长") == ref(
        "2020-01-01", "2020-07-31", "span")
    assert resolve_time(None, None, ISSUE, "今年前两个月，销量下降") == ref(
        "2020-01-01", "2020-02-29", "span")


def test_year_ranges():
    assert resolve_time(None, "2016—2018年", ISSUE) == ref("2016-01-01", "2018-12-31", "span")
    assert resolve_time(None, None, ISSUE, "2016年至2018年，累计投资30亿元") == ref(
        "2016-01-01", "2018-12-31", "span")


def test_five_year_plans():
    assert resolve_time(None, "“十三五”期间", ISSUE) == ref("2016-01-01", "2020-12-31", "span")
    assert resolve_time(None, None, ISSUE, "十四五时期将新增就业1000万人") == ref(
        "2021-01-01", "2025-12-31", "span")
    assert resolve_time(None, None, ISSUE, "“十二五”期间，全市GDP年均增长9%") == ref(
        "2011-01-01", "2015-12-31", "span")
    assert resolve_time(None, None, ISSUE, "“十五”期间建成公路500公里") == ref(
        "2001-01-01", "2005-12-31", "span")
    # the 3rd plan came after the 1963–65 adjustment
    assert resolve_time(None, None, ISSUE, "“三五”时期") == ref("1966-01-01", "1970-12-31", "span")
    assert resolve_time(None, None, ISSUE, "“一五”期间") == ref("1953-01-01", "1957-12-31", "span")
    assert resolve_time(None, "“十三五”以来", ISSUE) == ref("2016-01-01", "2020-08-25", "span")
    assert resolve_time(None, None, ISSUE, "到“十三五”末，覆盖率达到90%") == ref(
        "2020-01-01", "2020-12-31", "year")


def test_days_and_months_in_text():
    assert resolve_time(None, None, ISSUE, "8月20日，全市新增确诊病例3例") == ref(
        "2020-08-20", "2020-08-20", "day")
    assert resolve_time(None, None, ISSUE, "二〇一九年十二月三十一日，人口为1100万人") == ref(
        "2019-12-31", "2019-12-31", "day")
    assert resolve_time(None, None, ISSUE, "5月份，CPI上涨2.4%") == ref(
        "2020-05-01", "2020-05-31", "month")
    assert resolve_time(None, None, ISSUE, "十二月，出口增长3%") == ref(
        "2019-12-01", "2019-12-31", "month")
    assert resolve_time(None, None, ISSUE, "24日，全省新增病例2例") == ref(
        "2020-08-24", "2020-08-24", "day")
    assert resolve_time(None, None, ISSUE, "7月下旬，降雨量达200毫米") == ref(
        "2020-07-21", "2020-07-31", "span")


def test_relative_words_and_recent_spans():
    assert resolve_time(None, None, ISSUE, "昨天，全市新增病例1例") == ref(
        "2020-08-24", "2020-08-24", "day")
    assert resolve_time(None, None, ISSUE, "上月，全市销售汽车1万辆") == ref(
        "2020-07-01", "2020-07-31", "month")
    assert resolve_time(None, "近3年来", ISSUE) == ref("2017-08-26", "2020-08-25", "span")
    assert resolve_time(None, None, ISSUE, "近两个月，出口回升") == ref(
        "2020-06-26", "2020-08-25", "span")


def test_comparison_bases_are_skipped():
    assert resolve_time(None, None, ISSUE, "上半年GDP比去年同期增长5%", at=12) == ref(
        "2020-01-01", "2020-06-30", "span")
    assert resolve_time(None, None, ISSUE, "销售额较2019年增长20%") == ref(
        "2020-08-25", "2020-08-25", "issue")
    assert resolve_time(None, None, ISSUE, "与上年同期相比，一季度产量下降3%", at=14) == ref(
        "2020-01-01", "2020-03-31", "quarter")


def test_same_period_follows_the_previous_expression():
    text = "一季度，湖北GDP下降39.2%；同期，全国下降6.8%"
    assert resolve_time(None, None, ISSUE, text, at=text.index("6.8")) == ref(
        "2020-01-01", "2020-03-31", "quarter")
    text = "今年一季度销售额100亿元，去年同期为80亿元"
    assert resolve_time(None, None, ISSUE, text, at=text.index("80")) == ref(
        "2019-01-01", "2019-03-31", "quarter")
    assert resolve_time(None, None, ISSUE, text, at=text.index("100")) == ref(
        "2020-01-01", "2020-03-31", "quarter")


def test_nearest_expression_before_the_figure():
    text = "2019年，全市GDP为1000亿元。今年上半年，全市GDP为450亿元。"
    assert resolve_time(None, None, ISSUE, text, at=text.index("1000")) == ref(
        "2019-01-01", "2019-12-31", "year")
    assert resolve_time(None, None, ISSUE, text, at=text.index("450")) == ref(
        "2020-01-01", "2020-06-30", "span")
    # without a position the first expression counts
    assert resolve_time(None, None, ISSUE, text) == ref("2019-01-01", "2019-12-31", "year")
    # nothing before the figure
    assert resolve_time(None, None, ISSUE, "全市有医院120家，2019年新建5家", at=4) == ref(
        "2020-08-25", "2020-08-25", "issue")


def test_metric_texts_beat_the_sentence():
    text = "2019年以来，全省累计投资30亿元，截至8月20日"
    assert resolve_time("截至8月20日", "7月以来", ISSUE, text, at=10) == ref(
        "2020-07-01", "2020-08-20", "span")
    # an unreadable period does not fall back to an unrelated date in the text
    assert resolve_time(None, "疫情发生以来", ISSUE, "2019年全市有医院120家") == ref(
        "2020-08-25", "2020-08-25", "issue")


def test_impossible_dates_are_skipped():
    assert resolve_time(None, None, ISSUE, "2月30日，产量增长") == ref(
        "2020-08-25", "2020-08-25", "issue")
    assert resolve_time("截至31日24时", None, date(2020, 5, 10)) == ref(
        "2020-05-10", "2020-05-10", "issue")  # 30 April has no 31st


def test_find_times_reports_offsets():
    text = "截至8月20日，今年以来全市新增就业5万人"
    found = find_times(text, ISSUE)
    assert [(s, e) for s, e, _ in found] == [(2, 7), (8, 12)]
    assert [text[s:e] for s, e, _ in found] == ["8月20日", "今年以来"]


@pytest.mark.parametrize(
    ("period", "count", "expected"),
    [
        ("2016—2018年", 3, [("2016-01-01", "2016-12-31", "year"),
                           ("2017-01-01", "2017-12-31", "year"),
                           ("2018-01-01", "2018-12-31", "year")]),
        ("2016年至2018年", 3, [("2016-01-01", "2016-12-31", "year"),
                             ("2017-01-01", "2017-12-31", "year"),
                             ("2018-01-01", "2018-12-31", "year")]),
        ("2018年、2019年和2020年", 3, [("2018-01-01", "2018-12-31", "year"),
                                   ("2019-01-01", "2019-12-31", "year"),
                                   ("2020-01-01", "2020-12-31", "year")]),
        ("2018、2019年", 2, [("2018-01-01", "2018-12-31", "year"),
                            ("2019-01-01", "2019-12-31", "year")]),
        ("一、二季度", 2, [("2020-01-01", "2020-03-31", "quarter"),
                          ("2020-04-01", "2020-06-30", "quarter")]),
        ("2019年一季度、二季度", 2, [("2019-01-01", "2019-03-31", "quarter"),
                                 ("2019-04-01", "2019-06-30", "quarter")]),
        ("1—3月", 3, [("2020-01-01", "2020-01-31", "month"), ("2020-02-01", "2020-02-29", "month"),
                     ("2020-03-01", "2020-03-31", "month")]),
        ("6月、7月", 2, [("2020-06-01", "2020-06-30", "month"),
                        ("2020-07-01", "2020-07-31", "month")]),
    ],
)
def test_per_value_times_one_unit_per_value(period, count, expected):
    assert per_value_times(period, count, ISSUE) == [ref(*e) for e in expected]


def test_per_value_times_needs_matching_counts():
    assert per_value_times("2016—2018年", 2, ISSUE) is None
    assert per_value_times("2016—2018年", 4, ISSUE) is None
    assert per_value_times("上半年", 1, ISSUE) is None
    assert per_value_times("2019年", 1, ISSUE) is None
