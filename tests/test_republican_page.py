"""A Republican-era page, written for the tests: a masthead dated in the 民国 calendar in traditional
characters and financial numerals, traditional text below it."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.document import ParseError
from archive.formats import page, parse_text
from archive.formats.blocks import is_masthead_date

PAGE = """新華日報
中華民國貳拾捌年四月廿一日
星期五
本市各界踴躍捐輸
本報記者●王大明
　　昨日本市各界人士踴躍捐輸，成績甚佳。
　　當局表示將繼續辦理救濟事宜。
"""


def test_a_minguo_masthead_and_traditional_text():
    name, doc = parse_text(PAGE)
    a = doc.articles[0]
    assert name == "page"
    assert (doc.newspaper.name, doc.issue.date, doc.issue.weekday) == ("新華日報", dt.date(1939, 4, 21), "星期五")
    assert (a.title, [(c.role, c.name) for c in a.contributors]) == ("本市各界踴躍捐輸", [("本報記者", "王大明")])
    assert [p.text for p in a.paragraphs] == ["昨日本市各界人士踴躍捐輸，成績甚佳。", "當局表示將繼續辦理救濟事宜。"]


@pytest.mark.parametrize(
    "line, date",
    [
        ("中華民國貳拾捌年四月廿一日", dt.date(1939, 4, 21)),
        ("中华民国二十八年四月二十一日", dt.date(1939, 4, 21)),
        ("民國元年一月一日", dt.date(1912, 1, 1)),
        ("中華民國卅五年五月十五日　禮拜三", dt.date(1946, 5, 15)),
        ("民國38年9月30日", dt.date(1949, 9, 30)),
    ],
)
def test_minguo_dates(line, date):
    assert is_masthead_date(line)
    text = PAGE.replace("中華民國貳拾捌年四月廿一日\n星期五", line)
    assert page.parse(text).issue.date == date


def test_a_minguo_weekday_is_checked_and_an_impossible_date_refused():
    with pytest.raises(ParseError, match="weekday 星期六 does not match the date 1939-04-21"):
        page.parse(PAGE.replace("星期五", "星期六"))
    with pytest.raises(ParseError, match="impossible date"):
        page.parse(PAGE.replace("四月廿一日", "二月卅日"))
    assert not is_masthead_date("民國二十八年四月，本市各界踴躍捐輸。")
