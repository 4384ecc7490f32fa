"""When a figure holds: a metric's ``as_of``/``period`` text (or the text before it) as dates.

:func:`resolve_time` turns ``截至8月20日``, ``7月以来``, ``一季度``, ``前三季度``, ``去年``,
``“十三五”期间``, ``1至5月``, ``2016—2018年`` … into a :class:`TimeRef`: ``start`` and ``end``
(``datetime.date``, both inclusive) and a ``precision``:

* ``day``, ``month``, ``quarter``, ``year``: the text names exactly one such calendar unit;
* ``span``: any other stretch (several months or years, a half-year, ``以来``, a five-year plan);
* ``issue``: nothing usable is stated, so the figure is taken to hold on the issue date
  (``start == end == issue_date``).

An ``as_of`` (``截至…``) is a point in time: ``start == end``, its precision that of the date named
(``截至6月底`` is a day, ``截至6月`` the last day of June to month precision).  An open period
(``…以来``, ``…至今``) runs from the start of what it names to the ``as_of`` point, else to the issue
date.  Dates that name no year take the year of the anchor (the ``as_of`` date when one is given,
else the issue date) and step back one year when they would start after it; a day without a month
(``26日``) steps back one month instead.  Relative years (``今年``, ``去年``, ``上年``, ``前年``,
``明年``) count from the issue date.  Expressions right after ``比``/``较``/``与``/``同``/``于`` name a
comparison base (``比去年同期增长``), not the time of the figure, and are skipped.

:func:`per_value_times` splits a list such as ``2016—2018年`` or ``一、二季度`` into one
:class:`TimeRef` per value when the number of values (``分别为 a、b、c``) equals the number of units.

Pure functions: no database, no I/O; patterns are compiled once at import.
"""

from __future__ import annotations

import calendar
from bisect import bisect_left
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache

from archive.numerals import parse_number

__all__ = ["TimeRef", "PRECISIONS", "resolve_time", "find_times", "per_value_times"]

PRECISIONS = ("day", "month", "quarter", "year", "span", "issue")


@dataclass(frozen=True)
class TimeRef:
    start: date
    end: date
    precision: str  # one of PRECISIONS

    def columns(self) -> dict[str, object]:
        """The metric row's columns: ``ref_start``, ``ref_end``, ``ref_precision``."""
        return {"ref_start": self.start, "ref_end": self.end, "ref_precision": self.precision}


# --- number pieces ------------------------------------------------------------------------------
_CN = "零〇○一二三四五六七八九"
_YEAR = rf"(?<![0-9０-９])(?:1[89]|20)[0-9]{{2}}(?![0-9])|[一二][〇零○九][{_CN}]{{2}}"
_MON = r"(?<![0-9])(?:1[0-2]|0?[1-9])(?![0-9])|十[一二]?|[一二三四五六七八九]"
_DAY_DD = (r"(?<![0-9])(?:[12][0-9]|3[01]|0?[1-9])(?![0-9])"
           r"|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?")
_DAY = _DAY_DD + r"|[一二三四五六七八九]"
_Q = r"[一二三四1-4１-４]"
_DASH = r"(?:[—–\-－~～至到]|—{2})"
_REL_YEARS = {"今年": 0, "本年": 0, "当年": 0, "去年": -1, "上年": -1, "上一年": -1, "前年": -2,
              "明年": 1}
_REL = "|".join(sorted(_REL_YEARS, key=len, reverse=True))  # 上一年 before 上年

# A year prefix shared by the forms below it: 2019年 / 二〇一九年 / 今年 / 去年 …
_YP = rf"(?:(?P<y>{_YEAR})年|(?P<rel>{_REL}))(?:的)?"

# One alternation; at each position the first alternative that matches wins, so the longer and
# more specific forms come first.  A year prefix (2019年, 今年) is shared by the forms inside a
# year; a bare year is tried only when none of them follows it.
# Every form starts with one of these characters: a lookahead on them lets the engine skip the
# other positions of a paragraph at once (a third of the time the loader spent resolving times).
_FIRST_CHARS = "0-9０-９〇零○一二三四五六七八九十两“前上下第年底末同去今本当明近最过昨"
_TIME_RE = re.compile(
    rf"(?=[{_FIRST_CHARS}])(?:"
    # five-year plans: “十三五”期间, 十四五时期, “十三五”以来, “十二五”末
    rf"“?(?P<fyp>十[一二三四五六七八九]?|[一二三四五六七八九])五”?"
    rf"(?P<fyp_tail>规划期间|规划期|期间|时期|以来|末|初|(?<=”))"
    # year ranges: 2016—2018年, 2016年至2018年
    rf"|(?P<ya>{_YEAR})年?{_DASH}(?P<yb>{_YEAR})年"
    rf"|(?:{_YP})?(?:"
    # 前N个月 (of a year)
    rf"前(?P<firstm>{_MON}|两)个月"
    # month ranges: 1至5月, 1月至5月, 1—5月份
    rf"|(?P<ma>{_MON})月?份?{_DASH}(?P<mb>{_MON})月份?"
    # quarters: 一季度, 第二季度, 前三季度
    rf"|(?P<qfirst>前)?第?(?P<q>{_Q})季度"
    # half-years
    rf"|(?P<half>上|下)半年"
    # month + day: 8月20日, 二〇一九年十二月三十一日
    rf"|(?P<md_m>{_MON})月(?P<md_d>{_DAY})[日号]"
    # month end, 旬
    rf"|(?P<me>{_MON})月份?(?:底|末)"
    rf"|(?P<xm>{_MON})月(?P<xun>上|中|下)旬"
    # a month
    rf"|(?P<mo>{_MON})月份?"
    # year end, year start
    rf"|(?P<yend>年底|年末|(?<=年)[底末])"
    rf"|(?P<ystart>年初)"
    rf")"
    # a year
    rf"|(?P<yy>{_YEAR})年(?!代)|(?P<yrel>{_REL})(?!同期)"
    # the same period (of last year)
    rf"|(?P<same_rel>去年|上年)?(?P<same>同期)"
    # a day of the anchor's month: 26日24时 (a lone Chinese digit + 日 is too often a word: 一日三餐)
    rf"|(?P<dd>{_DAY_DD})[日号](?:[0-9]{{1,2}}时)?"
    # relative spans and words
    rf"|(?P<near>近|最近|过去)(?P<near_n>[0-9]+|[{_CN}十两]+)个?(?P<near_u>年|月)"
    rf"|(?P<word>昨天|昨日|今天|今日|上月|上个月|本月|当月)"
    rf")"
)
_OPEN_RE = re.compile(r"以来|至今")  # right after an expression: an open period
_BASE_BEFORE = ("比", "较", "与", "同", "于")
_ASOF_BEFORE = ("截至", "截止到", "截止", "截止至")


@lru_cache(maxsize=4096)  # the same years, months and days recur on every page
def _num(s: str) -> int:
    return int(parse_number(s))


def _last_day(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _year_of(m: re.Match[str], issue: date) -> int | None:
    """The year a prefix names (None when there is no prefix)."""
    if m.group("y"):
        return _num(m.group("y"))
    if m.group("rel"):
        return issue.year + _REL_YEARS[m.group("rel")]
    return None


def _in_year(year: int | None, anchor: date, make: Callable[[int], TimeRef]) -> TimeRef | None:
    """``make(year)``; with no stated year, the anchor's year or, if that starts after it, the one
    before."""
    try:
        if year is not None:
            return make(year)
        ref = make(anchor.year)
        return make(anchor.year - 1) if ref.start > anchor else ref
    except ValueError:  # 2月30日 and the like
        return None


def _plan_years(n: int) -> tuple[int, int]:
    # The 1st and 2nd plans ran 1953–57 and 1958–62; 1963–65 was an adjustment period, so the
    # 3rd plan starts in 1966 and every later one five years after.
    first = 1953 + 5 * (n - 1) if n <= 2 else 1966 + 5 * (n - 3)
    return first, first + 4


def _ref_of(m: re.Match[str], issue: date, anchor: date, prev: TimeRef | None) -> TimeRef | None:
    """The dates one match names (open periods are handled by the caller)."""
    g = m.group
    if g("fyp"):
        a, b = _plan_years(_num(g("fyp")))
        if g("fyp_tail") == "末":
            return TimeRef(date(b, 1, 1), date(b, 12, 31), "year")
        if g("fyp_tail") == "初":
            return TimeRef(date(a, 1, 1), date(a, 12, 31), "year")
        return TimeRef(date(a, 1, 1), date(b, 12, 31), "span")
    if g("ya"):
        a, b = _num(g("ya")), _num(g("yb"))
        return TimeRef(date(a, 1, 1), date(b, 12, 31), "span") if a < b else None
    year = _year_of(m, issue)
    if g("firstm"):
        n = _num(g("firstm"))
        return _in_year(year, anchor, lambda y: TimeRef(date(y, 1, 1), _last_day(y, n), "span"))
    if g("ma"):
        a, b = _num(g("ma")), _num(g("mb"))
        if a >= b:
            return None
        return _in_year(year, anchor, lambda y: TimeRef(date(y, a, 1), _last_day(y, b), "span"))
    if g("q"):
        q = _num(g("q").translate(_FW))
        first = 1 if g("qfirst") else 3 * q - 2
        prec = "span" if g("qfirst") and q > 1 else "quarter"
        return _in_year(year, anchor,
                        lambda y: TimeRef(date(y, first, 1), _last_day(y, 3 * q), prec))
    if g("half"):
        a, b = (1, 6) if g("half") == "上" else (7, 12)
        return _in_year(year, anchor, lambda y: TimeRef(date(y, a, 1), _last_day(y, b), "span"))
    if g("md_m"):
        mo, d = _num(g("md_m")), _num(g("md_d"))
        return _in_year(year, anchor, lambda y: TimeRef(date(y, mo, d), date(y, mo, d), "day"))
    if g("me"):
        mo = _num(g("me"))
        return _in_year(year, anchor,
                        lambda y: TimeRef(_last_day(y, mo), _last_day(y, mo), "day"))
    if g("xm"):
        mo = _num(g("xm"))
        a, b = {"上": (1, 10), "中": (11, 20), "下": (21, 31)}[g("xun")]
        # 下旬 runs to the month's last day, whatever its length
        return _in_year(year, anchor, lambda y: TimeRef(
            date(y, mo, a), date(y, mo, b) if b < 31 else _last_day(y, mo), "span"))
    if g("mo"):
        mo = _num(g("mo"))
        return _in_year(year, anchor,
                        lambda y: TimeRef(date(y, mo, 1), _last_day(y, mo), "month"))
    if g("yend"):
        return _in_year(year, anchor,
                        lambda y: TimeRef(date(y, 12, 31), date(y, 12, 31), "day"))
    if g("ystart"):
        return _in_year(year, anchor, lambda y: TimeRef(date(y, 1, 1), date(y, 1, 1), "day"))
    if g("yy") or g("yrel"):
        y = _num(g("yy")) if g("yy") else issue.year + _REL_YEARS[g("yrel")]
        return TimeRef(date(y, 1, 1), date(y, 12, 31), "year")
    if g("same"):
        if prev is None:
            return None
        if not g("same_rel"):
            return prev
        return _shift_year(prev, -1)
    if g("dd"):
        return _day_of_month(_num(g("dd")), anchor)
    if g("near"):
        n = _num(g("near_n"))
        if g("near_u") == "年":
            start = _shift_date(issue, years=-n)
        else:
            start = _shift_date(issue, months=-n)
        return TimeRef(start + timedelta(days=1), issue, "span")
    word = g("word")
    if word in ("昨天", "昨日"):
        yesterday = issue - timedelta(days=1)
        return TimeRef(yesterday, yesterday, "day")
    if word in ("今天", "今日"):
        return TimeRef(issue, issue, "day")
    if word in ("上月", "上个月"):
        last_month = (issue.replace(day=1) - timedelta(days=1)).replace(day=1)
        return TimeRef(last_month, _last_day(last_month.year, last_month.month), "month")
    if word in ("本月", "当月"):
        return TimeRef(issue.replace(day=1), _last_day(issue.year, issue.month), "month")
    return None


_FW = str.maketrans("１２３４", "1234")


def _shift_date(d: date, years: int = 0, months: int = 0) -> date:
    total = d.year * 12 + d.month - 1 + years * 12 + months
    y, mo = divmod(total, 12)
    return date(y, mo + 1, min(d.day, calendar.monthrange(y, mo + 1)[1]))


def _shift_year(ref: TimeRef, years: int) -> TimeRef:
    return replace(ref, start=_shift_date(ref.start, years=years),
                   end=_shift_date(ref.end, years=years) if ref.end.month != 2
                   else _last_day(ref.end.year + years, 2) if ref.end.day >= 28
                   else _shift_date(ref.end, years=years))


def _day_of_month(day: int, anchor: date) -> TimeRef | None:
    """``26日``: that day of the anchor's month, or of the month before when it is later."""
    y, mo = anchor.year, anchor.month
    if day > anchor.day:
        y, mo = (y - 1, 12) if mo == 1 else (y, mo - 1)
    if day > calendar.monthrange(y, mo)[1]:
        return None
    return TimeRef(date(y, mo, day), date(y, mo, day), "day")


def _is_base(text: str, start: int) -> bool:
    """An expression right after 比/较/与/同/于 is what the figure is compared with."""
    return text[max(0, start - 1):start] in _BASE_BEFORE or text[max(0, start - 2):start] == "相比"


def _is_as_of(text: str, start: int) -> bool:
    return any(text[max(0, start - len(w)):start] == w for w in _ASOF_BEFORE)


def _open_after(text: str, end: int) -> int | None:
    """The end of ``以来``/``至今`` right after ``end`` (近3年来 also), else None."""
    m = _OPEN_RE.match(text, end)
    return m.end() if m else None


def find_times(text: str, issue_date: date, anchor: date | None = None
               ) -> list[tuple[int, int, TimeRef]]:
    """Every time expression in ``text`` as ``(start, end, TimeRef)``, comparison bases skipped.

    Open periods (``以来``, ``至今``) run to ``anchor`` (default: the issue date); an expression after
    ``截至`` becomes a point at its end.
    """
    anchor = anchor or issue_date
    out: list[tuple[int, int, TimeRef]] = []
    prev: TimeRef | None = None
    for m in _TIME_RE.finditer(text):
        if not m.group():
            continue
        ref = _ref_of(m, issue_date, anchor, prev)
        if ref is None:
            continue
        if _is_base(text, m.start()):
            prev = ref
            continue
        end = m.end()
        if _is_as_of(text, m.start()):
            ref = replace(ref, start=ref.end)
        elif m.group("fyp_tail") == "以来" or _open_after(text, end) or (
                m.group("near") and text[end:end + 1] == "来"):
            ref = TimeRef(ref.start, max(ref.start, anchor), "span")
            end = _open_after(text, end) or end
        out.append((m.start(), end, ref))
        prev = ref
    return out


@lru_cache(maxsize=4096)  # a paragraph's 截至… phrase is resolved for each of its figures
def _as_of_point(as_of: str | None, issue_date: date) -> TimeRef | None:
    if not as_of:
        return None
    found = find_times(as_of, issue_date)
    if not found:
        return None  # 截至目前 and the like name no date: the issue date is all there is
    ref = found[-1][2]
    # the end of a half-year or month range is known to the month
    return TimeRef(ref.end, ref.end, ref.precision if ref.precision != "span" else "month")


def resolve_time(
    as_of: str | None,
    period: str | None,
    issue_date: date,
    text: str | None = None,
    at: int | None = None,
    times: list[tuple[int, int, TimeRef]] | None = None,
) -> TimeRef:
    """When a figure holds.

    ``as_of``/``period``: the metric's texts (``截至8月20日``, ``7月以来``).  When both are empty the
    nearest time expression before ``at`` (the figure's offset) in ``text`` (its paragraph or
    sentence) is used — or the first one in ``text`` when ``at`` is None.  Nothing found: the issue
    date with precision ``issue``.  ``times``: ``find_times(text, issue_date)`` when the caller
    has it already (one paragraph, many figures: found once instead of once per figure).
    """
    point = _as_of_point(as_of, issue_date)
    anchor = point.end if point else issue_date
    if period:
        found = find_times(period, issue_date, anchor)
        if found:
            return found[0][2]
    if point:
        return point
    if period or as_of:
        # stated but not readable (疫情发生以来, 截至目前): the issue date is all there is, and
        # an unrelated date elsewhere in the text would be worse
        return TimeRef(issue_date, issue_date, "issue")
    if text or times:
        found = times if times is not None else find_times(text or "", issue_date)
        if at is not None:
            before = bisect_left(found, at, key=lambda f: f[0])  # found is in text order
            if before:
                return found[before - 1][2]
        elif found:
            return found[0][2]
    return TimeRef(issue_date, issue_date, "issue")


# --- one date per value ---------------------------------------------------------------------------
_SEP = r"[、，,和及与]"
_YEAR_LIST_RE = re.compile(rf"(?P<items>(?:(?:{_YEAR})年?{_SEP})+(?:{_YEAR}))年")
_QUARTER_LIST_RE = re.compile(rf"(?P<items>(?:第?{_Q}(?:季度)?{_SEP})+第?{_Q})季度")
_MONTH_LIST_RE = re.compile(rf"(?P<items>(?:(?:{_MON})月?份?{_SEP})+(?:{_MON}))月")


def per_value_times(period: str, count: int, issue_date: date) -> list[TimeRef] | None:
    """One TimeRef per value of a list (``分别为 a、b、c``) when ``period`` names as many units.

    ``2016—2018年`` with 3 values → the years 2016, 2017, 2018; ``2018年、2019年`` with 2 → two
    years; ``一、二、三季度`` → three quarters; ``1—3月`` or ``1月、2月`` → months.  None when the
    counts differ or ``period`` is no list.
    """
    refs = _units(period, issue_date)
    if refs is None or len(refs) != count:
        return None
    return refs


def _units(period: str, issue: date) -> list[TimeRef] | None:
    m = _YEAR_LIST_RE.search(period)
    if m:
        years = [_num(x) for x in re.findall(_YEAR, m.group("items"))]
        return [TimeRef(date(y, 1, 1), date(y, 12, 31), "year") for y in years]
    m = _QUARTER_LIST_RE.search(period)
    if m:
        qs = [_num(x.translate(_FW)) for x in re.findall(_Q, m.group("items"))]
        year = _list_year(period, m.start(), issue, date(issue.year, 3 * qs[0] - 2, 1))
        return [TimeRef(date(year, 3 * q - 2, 1), _last_day(year, 3 * q), "quarter") for q in qs]
    for m in _TIME_RE.finditer(period):
        if m.group("ya"):
            a, b = _num(m.group("ya")), _num(m.group("yb"))
            if a < b:
                return [TimeRef(date(y, 1, 1), date(y, 12, 31), "year") for y in range(a, b + 1)]
        if m.group("ma"):
            a, b = _num(m.group("ma")), _num(m.group("mb"))
            if a < b:
                return _months(list(range(a, b + 1)), _year_of(m, issue), issue)
    m = _MONTH_LIST_RE.search(period)
    if m:
        months = [_num(x) for x in re.findall(_MON, m.group("items"))]
        year = _list_year(period, m.start(), issue, date(issue.year, months[0], 1))
        return _months(months, year, issue)
    return None


def _list_year(period: str, start: int, issue: date, first: date) -> int:
    m = re.search(rf"(?:(?P<y>{_YEAR})年|(?P<rel>{_REL}))$", period[:start])
    if m:
        return _year_of(m, issue)  # type: ignore[return-value]
    return issue.year - 1 if first > issue else issue.year


def _months(months: list[int], year: int | None, issue: date) -> list[TimeRef]:
    if year is None:
        year = issue.year - 1 if date(issue.year, months[0], 1) > issue else issue.year
    return [TimeRef(date(year, mo, 1), _last_day(year, mo), "month") for mo in months]
