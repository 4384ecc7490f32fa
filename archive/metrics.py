"""Extraction of quantitative facts ("metrics") from the text of one paragraph.

The rule book is ``tests/data/METRICS.md``: a metric is a number joined to a measure word, unit,
``%`` or duration unit, said of the people, things or period being reported.  Dates, ordinals,
identifiers, numbers in names/titles/slogans/idioms, ``一`` + classifier used as an article,
reduplication (``一件件``), labels counting a list spelled out next to them and thresholds that
condition another metric are not metrics.

Design: one precompiled regex finds every "number + (range) + (余/多) + (大/小) + unit + (以上…)"
span; named rules (``_RULES``, run in order) read each span and reject the non-metrics; a second pass turns
thresholds into conditions; then qualifier, kind, direction/basis, subject, ``as_of`` and
``period`` are read from the clause and sentence around the span.  Everything is pure Python with
module-level compiled regexes; no per-character loop runs over the whole text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal
from pathlib import Path

from archive.numerals import (
    CN_BIG_UNITS,
    CN_DIGITS,
    CN_SMALL_UNITS,
    NUMBER_PATTERN,
    parse_number,
    parse_number_vague,
)

__all__ = ["Metric", "extract_metrics", "UNITS", "UNIT_TABLE", "subject_key"]


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One metric. Its fields, in this order, are archive.columns.METRIC_FIELDS (the metric table's
    content columns: what the loader writes and `archive show` returns); a test holds the two equal."""

    ordinal: int            # 1-based within the paragraph, in text order
    surface: str            # exact substring, qualifier words included
    char_start: int         # code-point offsets: text[char_start:char_end] == surface
    char_end: int
    value: Decimal
    value_high: Decimal | None   # upper end of a range, else None
    unit: str               # normalised unit; money in 元
    qualifier: str          # exact approx more_than at_least at_most less_than
    kind: str               # count percent change duration money measure score age ratio
    subject: str | None     # phrase from the text, as written
    subject_key: str | None = None   # the subject's normalised head: 全局共有民警 -> 民警
    condition: str | None   # e.g. ">=85分" for a share conditioned by a threshold
    as_of: str | None       # e.g. 截至8月20日
    period: str | None      # e.g. 7月以来
    direction: str | None   # up/down for changes
    basis: str | None       # 同比/环比
    role: str | None = None          # from/to: the two ends of a change stated as a pair


# --- units ------------------------------------------------------------------------------------
# The lexicon is data (archive/data/units.tsv): surface form -> unit, kind, family, factor to the
# family's base unit.  Longest forms are tried first.


@dataclass(frozen=True)
class Unit:
    form: str
    unit: str               # normalised, as stored in metric.unit
    kind: str
    family: str
    factor: Decimal | None  # base units per unit (公里 -> 1000 米), None where none is fixed


def _read_units() -> dict[str, Unit]:
    path = Path(__file__).parent / "data" / "units.tsv"
    out: dict[str, Unit] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t") + [""] * 5
        form, unit, kind, family, factor = cells[:5]
        out[form] = Unit(form, unit, kind, family, Decimal(factor) if factor else None)
    return out


UNIT_TABLE: dict[str, Unit] = _read_units()
#: surface form -> (normalised unit, kind)
UNITS: dict[str, tuple[str, str]] = {f: (u.unit, u.kind) for f, u in UNIT_TABLE.items()}

_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))

# --- qualifiers -------------------------------------------------------------------------------
_PRE_QUALIFIERS = {
    "超过": "more_than", "多于": "more_than", "高于": "more_than", "逾": "more_than", "超": "more_than",
    "将近": "approx", "接近": "approx", "近": "approx", "大约": "approx", "大概": "approx", "约": "approx",
    "至少": "at_least", "不少于": "at_least", "不低于": "at_least",
    "最多": "at_most", "不超过": "at_most", "不高于": "at_most",
    "不到": "less_than", "不足": "less_than", "少于": "less_than", "低于": "less_than",
    "不出": "less_than", "突破": "more_than", "差不多": "approx", "过": "more_than",
}
_PRE_SORTED = sorted(_PRE_QUALIFIERS, key=len, reverse=True)
# a qualifier word that is really the tail of another word
_PRE_BLOCKERS = {
    "近": set("最附邻靠临亲贴逼"),
    "约": set("节预签制邀相特合条违履践契公誓赴"),
    "超": set("赶高"),
    # 过 is a qualifier in 过万元, 人数过千; elsewhere it is a verb (通过, 经过, 度过 …)
    "过": set("通经超度越跨不看去错改难走来胜赛渡闯放记功为路听做说吃用试穿闪跳掠错"),
}
_POST_QUALIFIERS = {
    "及以上": "at_least", "以上": "at_least", "及以下": "at_most", "以下": "at_most",
    "以内": "at_most", "之内": "at_most", "内": "at_most", "左右": "approx",
}
_POST_ALT = "|".join(sorted(_POST_QUALIFIERS, key=len, reverse=True))

_SEP = r"(?:至|到|-|－|—|–|~|～|〜)"

# Round-number words: 上百, 数千, 几十, 数十万, and a bare 千万/百亿 (a single bare 百/千/万/亿 only
# after a qualifier: 近千亩, 过万元); 半 of a duration (不足半年, 半个月).
_ROUND_PATTERN = r"(?:[上数几][十百千万亿]{1,3}|[百千万亿]{1,3})"
_HALF_PATTERN = r"半(?=个?(?:年|天|小时|月|星期))"
_MAGNITUDE = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8}
_PAIR_RE = re.compile(r"(两|[二三四五六七八])([三四五六七八九])([十百千万亿]*)$")
_PAIRS = {"两三", "二三", "三四", "四五", "五六", "六七", "七八", "八九"}

_CAND_RE = re.compile(
    rf"(?P<num>{NUMBER_PATTERN}|{_ROUND_PATTERN}|{_HALF_PATTERN})"
    rf"(?:(?P<sep>{_SEP})(?P<num2>{NUMBER_PATTERN}))?"
    rf"(?P<vague>[余多几来])?"
    rf"(?P<size>[大小])?"
    rf"(?P<unit>{_UNIT_ALT})"
    rf"(?P<post>{_POST_ALT})?"
)
# Every character a _CAND_RE match can start with: NUMBER_PATTERN's first ([0-9０-９], a Chinese
# digit, 十拾), _ROUND_PATTERN's ([上数几], [百千万亿]) and _HALF_PATTERN's (半). re finds no such
# set itself (the pattern opens with groups of classes, not literals) and tries the whole pattern at
# every offset; _candidates tries it only where one of these stands, and finds the same matches.
_CAND_FIRST_RE = re.compile(f"[0-9０-９{CN_DIGITS}十拾上数几百千万亿半]")
_RANGE_TAIL_RE = re.compile(
    rf"{_SEP}(?P<num2>{NUMBER_PATTERN})(?P<unit2>{_UNIT_ALT})(?P<post2>{_POST_ALT})?"
)
_PCT_RE = re.compile(rf"百分之(?P<num>{NUMBER_PATTERN})(?P<post>{_POST_ALT})?")

_NUM_CHARS = set("0123456789０１２３４５６７８９.．" + CN_DIGITS + CN_SMALL_UNITS + CN_BIG_UNITS)
_NUM_START_CHARS = set("0123456789０１２３４５６７８９" + CN_DIGITS + "十拾")
_CN_DIGIT_CHARS = set(CN_DIGITS)
_FINANCIAL_ONLY = set("壹贰貳叁參肆伍陆陸柒捌玖拾佰仟")
_ARTICLE_ONE = {"一", "壹"}
_IDENT_PREV = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-－—–/／·•#＃_×xX*＊:：")
_SCORE_PREV = set("得获打考拿了为是")
_DURATION_KEEP_ONE = ("用", "历时", "耗时", "为期", "历经", "花", "费时")

_TIMEFRAME_AFTER_RE = re.compile(r"多?(?:以来|来|之前|之后|前|后|里|间|中|的?(?:时间|日子|岁月)里)")
_TIMEFRAME_BEFORE = ("未来", "过去", "今后", "此后", "最近", "前", "头", "连续")
_YEAR_AFTER = set("代度级初底末中月制")   # 六年制: a course length in a name

_CLAUSE_BREAK = set("，,。；;：:！!？?、\n…（）()")
_LIST_BREAK = _CLAUSE_BREAK - {"、"}
# the last break of a window (match(text, lo, pos)): _clause_start
_LAST_CLAUSE_BREAK_RE = re.compile(f"(?s:.*)[{re.escape(''.join(sorted(_CLAUSE_BREAK)))}]")
_LAST_LIST_BREAK_RE = re.compile(f"(?s:.*)[{re.escape(''.join(sorted(_LIST_BREAK)))}]")
_SENT_BREAK_RE = re.compile(r"[。；;！!？?\n]")
_FULL_STOP_RE = re.compile(r"[。！!？?\n]")   # as_of carries across ；
_CLAUSE_BREAK_RE = re.compile(r"[，,。；;：:！!？?、\n…（）()]")

_QUOTE_RE = re.compile(r"《[^》\n]{0,80}》|“[^”。！？]{0,15}”|「[^」。！？]{0,15}」|\"[^\"。！？]{0,15}\"")

# four-character idioms and set phrases with numerals that the window check cannot see
_IDIOM_RE = re.compile(
    "十年如一日|一年四季|一年到头|一天到晚|三年五载|三天两头|三天打鱼|两天晒网|四面八方|五湖四海|"
    "三番五次|三令五申|三言两语|三五成群|七嘴八舌|五花八门|四通八达|一举两得|两全其美|一日千里|"
    "百里挑一|十万火急|十拿九稳|十之八九|九死一生|百年大计|百年不遇|千载难逢|一朝一夕|一言一行|"
    "一草一木|一点一滴|一丝一毫|一针一线|一砖一瓦|一心一意|三心二意|一清二楚|接二连三|不三不四|"
    "半斤八两|独一无二|一模一样|万无一失|九牛一毛|十全十美|一五一十|七上八下|千方百计|千家万户"
)
# a duration that names a plan or campaign: 三年行动计划, 五年规划
_PLAN_AFTER_RE = re.compile(r"(?:攻坚)?(?:行动|计划|规划|攻坚|工程|战略|纲要)")

_DIRECTION_RE = re.compile(
    r"(?P<dir>上升|增长|增加|提高|提升|上涨|增幅为|增幅达|增幅|偏高|多出|增|"
    r"下降|减少|降低|下滑|回落|下跌|降幅为|降幅达|降幅|偏低|减|降)"
    r"(?:了)?(?:达到|达|为|逾)?$"
)
_UP = ("上升", "增长", "增加", "提高", "提升", "上涨", "增幅", "偏高", "多出", "增")
_BASIS_RE = re.compile(r"同比|环比")

_AS_OF_RE = re.compile(r"(?:截至|截止到|截止)[^，,。；;！!？?\n]{0,14}")
_PERIOD_RE = re.compile(
    rf"(?:(?<=[，,。；;！!？?：:\n])|^)[^，,。；;！!？?：:\n]{{1,16}}?以来"
    rf"|(?:近|这|过去)?(?:{NUMBER_PATTERN})个?多?(?:年|月|天|周|星期|季度)多?来(?!源|自|看|说)"
    rf"|连续(?:{NUMBER_PATTERN})个?(?:年|月|天|周|星期|季度)"
)

# subject phrase trimming
_SUBJ_TRAIL = (
    "达到了", "达到", "达", "是", "有", "共有", "共计", "共", "累计", "总计", "合计", "计",
    "在", "已", "约", "了", "的", "仅用", "就", "可达", "可", "将", "保持在", "控制在",
    "等", "同比", "环比", "比上年同期", "比去年同期", "较上年同期", "较去年同期", "比上年末", "比上年",
    "比去年", "较上年", "较去年", "分别", "占比为", "占",
)
_SUBJ_LEAD = ("其中", "共", "另有", "此外", "同时", "并")
_AFTER_STOP = set(
    "的了是为在已被以来内之左至到都均共也就即又和与及或等后前时里整上下每不没将可从由于向给让使把对"
    "比较同环增减降提达占约余多并而但还才仍再所得其分合即"
)
_BEFORE_PREF_UNITS = {"人", "人次", "%", "‰", "个百分点"}
_MAX_SUBJ = 24
_INHERIT = "\x00inherit"   # marker: take the previous metric's subject in the sentence


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """Spans whose numbers are no metrics: titles, short quoted names/slogans, idioms."""
    spans = [(m.start(), m.end()) for m in _QUOTE_RE.finditer(text)]
    idioms = [(m.start(), m.end()) for m in _IDIOM_RE.finditer(text)]
    if idioms:
        spans = sorted(spans + [(a - 1, b) for a, b in idioms])   # -1: _inside is exclusive
    return spans


def _inside(spans: list[tuple[int, int]], starts: list[int], pos: int) -> bool:
    i = bisect.bisect_right(starts, pos) - 1
    return i >= 0 and spans[i][0] < pos < spans[i][1]


_RATE_BEFORE_RE = re.compile(r"每(?:小时|分钟|天|日|年|月|周|人|户|次|平方米|平方公里|公里|亩)$")


def _pre_qualifier(text: str, start: int) -> tuple[str | None, int]:
    """The qualifier word right before ``start`` (超过, 近, 约 …) and where it starts; a rate
    phrase may stand between (超过每小时3000辆)."""
    rate = _RATE_BEFORE_RE.search(text, max(0, start - 5), start)
    if rate is not None:
        q, s = _pre_qualifier_word(text, rate.start())
        if q is not None:
            return q, s
    return _pre_qualifier_word(text, start)


_PRE_BY_LAST: dict[str, list[str]] = {}
for _w in _PRE_SORTED:
    _PRE_BY_LAST.setdefault(_w[-1], []).append(_w)


def _pre_qualifier_word(text: str, start: int) -> tuple[str | None, int]:
    if start == 0:
        return None, start
    for word in _PRE_BY_LAST.get(text[start - 1], ()):   # longest first, as in _PRE_SORTED
        s = start - len(word)
        if s >= 0 and text.startswith(word, s):
            blockers = _PRE_BLOCKERS.get(word)
            if blockers and s > 0 and text[s - 1] in blockers:
                continue
            return _PRE_QUALIFIERS[word], s
    return None, start


def _clause_start(text: str, pos: int, last_break: re.Pattern[str] = _LAST_CLAUSE_BREAK_RE) -> int:
    """Where the clause holding ``pos`` starts: after the last break before it, at most 60 back."""
    lo = max(0, pos - 60)
    m = last_break.match(text, lo, pos)   # as far as it goes, then back to the last break: in C
    return m.end() if m is not None else lo


def _clause_end(text: str, pos: int) -> int:
    # bounded like _clause_start: a subject is short, and an unbounded search from every metric
    # made a page of numbers without punctuation quadratic (issue 19: 2.9 MB took 529 s)
    lo = min(len(text), pos + 80)
    m = _CLAUSE_BREAK_RE.search(text, pos, lo)
    return m.start() if m else lo


def _sentence_starts(text: str) -> list[int]:
    """Start offsets of the sentences of ``text`` (after 。；！？ and line breaks)."""
    return [0] + [m.end() for m in _SENT_BREAK_RE.finditer(text)]


def _sentence_start(starts: list[int], pos: int) -> int:
    return starts[bisect.bisect_right(starts, pos) - 1]


def _trim_before(phrase: str) -> str:
    changed = True
    while changed and phrase:
        changed = False
        if phrase.endswith(_SUBJ_TRAIL):  # one C call when no ending applies, the usual case
            for w in _SUBJ_TRAIL:
                if phrase.endswith(w) and len(phrase) > 0:
                    phrase = phrase[: -len(w)]
                    changed = True
                    break
        if phrase.endswith("为") and not phrase.endswith(("行为", "作为", "认为", "成为", "因为", "以为", "视为")):
            phrase = phrase[:-1]
            changed = True
        m = _DIRECTION_RE.search(phrase)
        if m:
            phrase = phrase[: m.start()]
            changed = True
    for w in _SUBJ_LEAD:
        if phrase.startswith(w):
            phrase = phrase[len(w):]
    return phrase


@dataclass
class _Cand:
    start: int
    end: int
    num_start: int
    value: Decimal
    value_high: Decimal | None
    unit: str
    kind: str
    qualifier: str
    post: str | None
    condition: str | None = None
    direction: str | None = None
    basis: str | None = None


# Written numbers repeat (years, small counts, 1万, 两三个): each read once per worker process.
# The values are immutable; a string that is no number raises again each time (nothing cached).
_number_vague = lru_cache(maxsize=1 << 14)(parse_number_vague)

_TO_HALF = str.maketrans("０１２３４５６７８９", "0123456789")
_ZERO = Decimal(0)


def _is_year(num: str, value: Decimal) -> bool:
    """2020年 is a year, not a duration (四位 Arabic digits 1000–2999)."""
    digits = num.translate(_TO_HALF)
    return digits.isdigit() and len(digits) == 4 and 1000 <= value <= 2999


def _candidates(text: str) -> list[_Cand]:
    spans = _quote_spans(text)
    starts = [s for s, _ in spans]
    out: list[_Cand] = []
    found: list[tuple[int, re.Match[str], bool]] = []
    # _CAND_RE.finditer(text), tried only where a match can start: half the time
    match, pos = _CAND_RE.match, 0
    for first in _CAND_FIRST_RE.finditer(text):
        start = first.start()
        if start < pos:
            continue
        m = match(text, start)
        if m is not None:
            found.append((start, m, False))
            pos = m.end()
    if "百分之" in text:
        for m in _PCT_RE.finditer(text):
            found.append((m.start(), m, True))
        found.sort(key=lambda t: t[0])
    last_end = -1
    for start, m, is_pct in found:
        if start < last_end:
            continue
        c = _check(text, m, is_pct, spans, starts)
        if c is not None:
            out.append(c)
            last_end = c.end
    return out


class _Reading:
    """One span the candidate regex found, as the rules read it: the _read_* rules fill in the fields
    that later rules look at, the others only look."""

    __slots__ = (
        "text", "m", "is_pct", "spans", "starts", "num", "ns", "prev", "value", "inner_vague", "round_word",
        "pair_high", "end", "post", "unit", "kind", "surface_unit", "vague", "value_high", "unit_end", "nxt",
        "more_after", "q_pre", "q_start", "qualifier", "start",
    )

    def __init__(self, text: str, m: re.Match[str], is_pct: bool, spans: list[tuple[int, int]], starts: list[int]):
        self.text, self.m, self.is_pct = text, m, is_pct
        self.spans, self.starts = spans, starts   # titles and quotes (_quote_spans) and their starts
        self.num = m.group("num")
        self.ns = ns = m.start("num")             # where the number starts
        at = m.start() if is_pct else ns
        self.prev = text[at - 1] if at > 0 else ""   # before the number (before 百分之 for a percentage)
        self.value: Decimal = _ZERO
        self.inner_vague = False                  # the number itself says "more than" (数千, 几十)
        self.round_word = False                   # 上百, 数千, 万: magnitude words, no digits
        self.pair_high: Decimal | None = None     # 三四千: the higher of two neighbouring digits
        self.end = 0
        self.post: str | None = None              # the qualifier after the unit (以上, 以内…)
        self.unit = self.kind = ""
        self.surface_unit = ""                    # the unit as written; "" for a percentage
        self.vague: str | None = None             # 余, 多, 几, 来 between number and unit
        self.value_high: Decimal | None = None
        self.unit_end = 0
        self.nxt = ""                             # the character after the unit, once the unit is read
        self.more_after = False                   # 两倍多, 3年多
        self.q_pre: str | None = None             # the qualifier before the number (超过, 近…) and where it starts
        self.q_start = 0
        self.qualifier = "exact"
        self.start = 0

    def candidate(self) -> _Cand:
        # money: 万/亿 are part of the number, so the value is already in 元
        return _Cand(
            start=self.start, end=self.end, num_start=self.ns, value=self.value, value_high=self.value_high,
            unit=self.unit, kind=self.kind, qualifier=self.qualifier, post=self.post,
        )


# The rules, in the order _RULES runs them. Each takes the reading and returns True when the span is
# no metric (the reading stops there). The _read_* rules fill in what later rules look at and refuse
# only a number that does not read.


def _inside_a_title_or_quote(r: _Reading) -> bool:
    """Numbers inside titles and short quoted names/slogans."""
    return bool(r.spans) and _inside(r.spans, r.starts, r.ns)


def _suffix_of_a_number_or_identifier(r: _Reading) -> bool:
    """A suffix of a longer number or an identifier (A12, 3-5号)."""
    before = r.text[r.ns - 1] if r.ns > 0 else ""
    return bool(before) and (before in _NUM_CHARS or before in _IDENT_PREV) and not (
        r.is_pct and before in CN_SMALL_UNITS
    )


def _ordinal_or_rate(r: _Reading) -> bool:
    """An ordinal, a rate denominator, a vague 几十/若干 (第三, 每5人, 周三, 初三, 编号…)."""
    # 数 stays out of this list: 天数170天, 人数1.6万人 (数十 is read as a round word from 数)
    return r.prev in ("第", "每", "几", "若", "周", "逐", "初", "编", "号", "序")


def _identifier_across_a_space(r: _Reading) -> bool:
    return r.prev == " " and r.ns >= 2 and r.text[r.ns - 2] in _IDENT_PREV


def _financial_numeral_alone(r: _Reading) -> bool:
    """壹, 拾 alone: a financial numeral stands in an amount written out, not by itself."""
    return len(r.num) == 1 and r.num in _FINANCIAL_ONLY


def _half_of_something(r: _Reading) -> bool:
    """上半年, 一半, 大半天: no count of halves."""
    return r.num == "半" and bool(r.prev) and r.prev in "上下前后一大多好"


def _read_value(r: _Reading) -> bool:
    """The number's value: a half, a round word (上百, 数千), a pair of digits (三四千: a range) or a
    written number; refuses one that does not read."""
    num = r.num
    if num == "半":
        r.value = Decimal("0.5")
    elif num[0] in "上数几百千万亿":  # only _ROUND_PATTERN makes these: magnitude characters follow
        value = Decimal(1)
        for ch in num.lstrip("上数几"):
            value *= _MAGNITUDE[ch]
        r.value, r.round_word = value, True
        r.inner_vague = num[0] in "上数几"       # 上百, 数千, 几十: the round value, more than it
    else:
        pair = _PAIR_RE.match(num)
        try:
            if pair is not None and pair.group(1) + pair.group(2) in _PAIRS:
                # 三四千元, 两三成, 三四个小时: an approximate range; 一两 (one or two) is no count
                r.value = parse_number(pair.group(1) + pair.group(3))
                r.pair_high = parse_number(pair.group(2) + pair.group(3))
            else:
                r.value, r.inner_vague = _number_vague(num)
        except ValueError:
            return True
    return False


def _digits_read_one_by_one(r: _Reading) -> bool:
    """Chinese digits read one by one (一两天, 二〇二〇年) are no counted metric (a pair, 三四千, is a range)."""
    num = r.num
    return r.pair_high is None and num[0] in _CN_DIGIT_CHARS and len(num) > 1 and not any(
        ch in CN_SMALL_UNITS or ch in CN_BIG_UNITS or ch == "点" for ch in num
    )


def _identifier_or_phone_number(r: _Reading) -> bool:
    """Digits with a leading zero (0025), or seven and more (phone numbers, serials)."""
    num = r.num
    digits_only = num.isdigit() or all(ch in "0123456789０１２３４５６７８９" for ch in num)
    return digits_only and ((len(num) > 1 and num[0] in "0０") or len(num) >= 7)


def _read_unit(r: _Reading) -> bool:
    """The unit and its kind, the vague word before it (余, 多…) and the qualifier after it."""
    m = r.m
    r.end, r.post = m.end(), m.group("post")
    if r.is_pct:
        r.unit, r.kind, r.unit_end = "%", "percent", m.end("num")
    else:
        r.surface_unit = m.group("unit")
        r.unit, r.kind = UNITS[r.surface_unit]
        r.vague = m.group("vague")
        r.unit_end = m.end("unit")
    return False


def _read_range(r: _Reading) -> bool:
    """3至5天: refused when the second number does not read, is vague or is not above the first."""
    if r.is_pct or not r.m.group("num2"):
        return False
    try:
        r.value_high, vague = _number_vague(r.m.group("num2"))
    except ValueError:
        return True
    return r.value_high <= r.value or vague


def _read_post_qualifier(r: _Reading) -> bool:
    """内 qualifies durations only; 以下率 is a word, not a bound."""
    if r.post:
        post_end = r.m.end("post")
        if r.post == "内" and r.kind != "duration":
            r.post, r.end = None, r.m.start("post")
        elif r.post in ("以下", "及以下") and r.text[post_end:post_end + 1] == "率":
            r.post, r.end = None, r.m.start("post")
    return False


def _read_range_repeating_the_unit(r: _Reading) -> bool:
    """5%-10%, 3天至5天."""
    if r.is_pct or r.value_high is not None or r.m.group("post"):
        return False
    rt = _RANGE_TAIL_RE.match(r.text, r.unit_end)
    if rt and rt.group("unit2") == r.surface_unit:
        try:
            v2, vague2 = _number_vague(rt.group("num2"))
        except ValueError:
            v2, vague2 = r.value, True
        if v2 > r.value and not vague2:
            r.value_high, r.post, r.end, r.unit_end = v2, rt.group("post2"), rt.end(), rt.end("unit2")
            if r.post == "内" and r.kind != "duration":
                r.post, r.end = None, rt.start("post2")
    return False


def _read_half_in_the_unit(r: _Reading) -> bool:
    """三个半月: the half belongs to the value."""
    if "半" in r.surface_unit:
        r.value += Decimal("0.5")
    return False


def _read_more_after_the_unit(r: _Reading) -> bool:
    """两倍多, 3年多: a trailing 多/余 on a ratio or duration; 2吨多, 300元多 on a measure or money
    (not 5吨多次)."""
    if r.is_pct or r.post or r.vague:
        return False
    text, unit_end = r.text, r.unit_end
    after = text[unit_end:unit_end + 1]
    if (r.unit == "倍" or r.kind == "duration") and after in ("多", "余") and not _TIMEFRAME_AFTER_RE.match(text, unit_end):
        r.more_after, r.end = True, unit_end + 1
    elif r.kind in ("measure", "money") and after == "多" and (
        unit_end + 1 == len(text) or text[unit_end + 1] in _CLAUSE_BREAK or text[unit_end + 1] == "的"
    ):
        r.more_after, r.end = True, unit_end + 1
    return False


def _read_compound_rate(r: _Reading) -> bool:
    """8400人次/小时, 28微克/立方米, 5600立方米/秒."""
    if not r.is_pct and not r.post and not r.more_after and r.text[r.unit_end:r.unit_end + 1] in ("/", "／"):
        den = _DENOMINATOR_RE.match(r.text, r.unit_end + 1)
        if den is not None:
            r.unit, r.kind = f"{r.unit}/{UNITS[den.group()][0]}", "rate"
            r.unit_end = r.end = den.end()
    r.nxt = r.text[r.unit_end:r.unit_end + 1]  # the unit's end moves no more
    return False


def _read_pair_as_a_range(r: _Reading) -> bool:
    if r.pair_high is not None and r.value_high is None:
        r.value_high = r.pair_high
    return False


def _anniversary(r: _Reading) -> bool:
    return r.kind == "anniversary"


def _reduplication(r: _Reading) -> bool:
    """一件件, 一项项 (but 20列列车)."""
    if r.is_pct:
        return False
    nxt = r.nxt
    return bool(nxt) and nxt == r.surface_unit[-1] and not (r.surface_unit == "列" and r.text.startswith("列车", r.unit_end))


def _unit_part_of_a_word(r: _Reading) -> bool:
    """三轮车, 四周, 两头 (see _unit_misread)."""
    return not r.is_pct and _unit_misread(r.text, r.num, r.surface_unit, r.unit_end, r.nxt, r.ns)


def _character_not_counted(r: _Reading) -> bool:
    """字 counts characters only for written-out sizes (30万字), not in 十字路口, 八字."""
    return r.surface_unit == "字" and not any(ch in "0123456789０１２３４５６７８９百千万" for ch in r.num)


def _score_misread(r: _Reading) -> bool:
    """三分之一, 9时30分; 十分重要 ("very"), 七分熟: Chinese-numeral scores only after 得/获/打/考/拿/了."""
    if r.kind != "score":
        return False
    prev, ns, text = r.prev, r.ns, r.text
    if r.nxt == "之" or (prev in ("时", "点") and ns >= 2 and text[ns - 2] in _NUM_CHARS):
        return True
    return (r.num[0] in _CN_DIGIT_CHARS or r.num[0] in "十拾") and prev not in _SCORE_PREV


def _year_not_a_duration(r: _Reading) -> bool:
    """2020年 is a year; 80年代, 2020年度, 六年制 are not durations either."""
    return r.kind == "duration" and r.surface_unit == "年" and (_is_year(r.num, r.value) or r.nxt in _YEAR_AFTER)


def _day_or_week_in_a_word(r: _Reading) -> bool:
    """天津, 天安门, 周末, 周刊…"""
    return r.surface_unit in ("天", "周") and r.nxt in ("津", "安", "然", "边", "末", "刊", "报")


def _duration_in_a_name(r: _Reading) -> bool:
    """三年行动计划, 五年规划: part of a name."""
    return r.kind == "duration" and not r.post and _PLAN_AFTER_RE.match(r.text, r.unit_end) is not None


def _duration_as_a_time_frame(r: _Reading) -> bool:
    """一个月来, 3年前, 两年多来; 未来三年, 过去五年 (but 提前三年)."""
    if r.kind != "duration" or r.post:
        return False
    text = r.text
    if _TIMEFRAME_AFTER_RE.match(text, r.unit_end):
        return True
    _, b = _pre_qualifier(text, r.ns)
    for w in _TIMEFRAME_BEFORE:
        if text.startswith(w, b - len(w)) and b - len(w) >= 0:
            if w == "前" and b >= 2 and text[b - 2] == "提":
                continue
            return True
    return False


def _round_the_clock(r: _Reading) -> bool:
    """24小时 + noun is "round-the-clock" (24小时网上警局, 24小时急诊), not a duration."""
    if not (r.kind == "duration" and r.unit == "小时" and r.value == 24 and not r.post and r.prev not in ("用",)):
        return False
    nxt = r.nxt
    return bool(nxt) and nxt not in _CLAUSE_BREAK and nxt not in "的时后前里" and not nxt.isspace()


def _read_pre_qualifier(r: _Reading) -> bool:
    """超过, 近, 约… before the number; 过 qualifies round numbers only: 过万元, 过千人."""
    start = r.m.start()
    r.q_pre, r.q_start = _pre_qualifier(r.text, start)
    if r.q_pre and r.text[r.q_start:start] == "过" and not (r.round_word or r.num[-1] in _MAGNITUDE):
        r.q_pre, r.q_start = None, start
    return False


def _bare_round_word(r: _Reading) -> bool:
    """A bare 万/千 only after a qualifier: 万人空巷."""
    return r.round_word and len(r.num) == 1 and not r.q_pre


def _near_as_a_time_frame(r: _Reading) -> bool:
    """近三年: a time frame, not a duration (but 用了近三年)."""
    q_start = r.q_start
    return (r.q_pre == "approx" and r.text[q_start:r.m.start()] == "近" and r.kind == "duration"
            and not (q_start > 0 and r.text[q_start - 1] in _NEAR_DURATION_VERB))


def _threshold_base_or_class(r: _Reading) -> bool:
    """A threshold on a base: 超过12万元的部分; a class: 10万吨级."""
    return r.text.startswith("的部分", r.end) or r.text.startswith("级", r.end)


def _read_qualifier(r: _Reading) -> bool:
    r.start = r.q_start
    if r.q_pre:
        r.qualifier = r.q_pre
    elif r.pair_high is not None:
        r.qualifier = "approx"
    elif r.inner_vague or r.vague in ("余", "多", "几") or r.more_after or "多" in r.surface_unit:
        r.qualifier = "more_than"
    elif r.vague == "来":
        r.qualifier = "approx"
    elif r.post:
        r.qualifier = _POST_QUALIFIERS[r.post]
    return False


def _one_as_an_article(r: _Reading) -> bool:
    """一 + classifier is an article or partitive (一名民警, 一次, 中的一项); one duration is kept
    only when qualified or measured (一周内, 不到一天, 仅用一天); 增长一倍 is a doubling."""
    if not (r.num in _ARTICLE_ONE and r.value_high is None and not r.vague and r.qualifier == "exact" and r.unit != "倍"):
        return False
    if r.kind != "duration":
        return True
    before = r.text[max(0, r.ns - 2):r.ns]
    return not any(before.endswith(w) for w in _DURATION_KEEP_ONE)


def _idiom_of_two_numerals(r: _Reading) -> bool:
    """四面八方, 三天两头, 一所一策, 三番五次."""
    num, ns, text = r.num, r.ns, r.text
    if not (len(num) == 1 and num in _CN_DIGIT_CHARS and not r.is_pct):
        return False
    w = text[ns:ns + 4]
    if len(w) == 4 and w[2] in _CN_DIGIT_CHARS and w[3] not in _NUM_CHARS and w[1] not in _NUM_CHARS:
        return True
    if ns >= 2:
        w = text[ns - 2:ns + 2]
        return w[0] in _CN_DIGIT_CHARS and (ns == 2 or text[ns - 3] not in _NUM_CHARS) and w[1] not in _NUM_CHARS
    return False


def _label_counting_a_list(r: _Reading) -> bool:
    """安全生产、环境保护、信访维稳三项工作; 三项措施：…"""
    value = r.value
    if not (r.kind == "count" and value == value.to_integral_value() and 2 <= value <= 10):
        return False
    cs = _clause_start(r.text, r.q_start, _LAST_LIST_BREAK_RE)
    items = r.text[cs:r.q_start].count("、") + 1
    if items == value and items >= 2:
        return True
    tail = r.text[r.unit_end:r.unit_end + 12]
    colon = tail.find("：")
    return colon >= 0 and not any(ch in _CLAUSE_BREAK for ch in tail[:colon])


def _read_below_zero(r: _Reading) -> bool:
    """零下5℃: a temperature below zero."""
    if r.kind == "measure" and r.unit == "℃" and r.text[max(0, r.start - 2):r.start] == "零下":
        r.start -= 2
        r.value = -r.value
    return False


_RULES = (
    # where the number stands (a title or quote: a sixth of the spans), what stands right before it
    _inside_a_title_or_quote,
    _suffix_of_a_number_or_identifier, _ordinal_or_rate, _identifier_across_a_space, _financial_numeral_alone,
    _half_of_something, _read_value, _digits_read_one_by_one, _identifier_or_phone_number,
    # the unit, a range, what follows the unit
    _read_unit, _read_range, _read_post_qualifier, _read_range_repeating_the_unit, _read_half_in_the_unit,
    _read_more_after_the_unit, _read_compound_rate, _read_pair_as_a_range, _anniversary,
    # the unit as part of a word or a name
    _reduplication, _unit_part_of_a_word, _character_not_counted, _score_misread, _year_not_a_duration,
    _day_or_week_in_a_word, _duration_in_a_name, _duration_as_a_time_frame, _round_the_clock,
    # the qualifier, and what the whole phrase is
    _read_pre_qualifier, _bare_round_word, _near_as_a_time_frame, _threshold_base_or_class, _read_qualifier,
    _one_as_an_article, _idiom_of_two_numerals, _label_counting_a_list, _read_below_zero,
)


def _check(
    text: str, m: re.Match[str], is_pct: bool, spans: list[tuple[int, int]], starts: list[int]
) -> _Cand | None:
    """The candidate a span makes, or None when a rule finds it is no metric."""
    r = _Reading(text, m, is_pct, spans, starts)
    for rule in _RULES:
        if rule(r):
            return None
    return r.candidate()


_DENOMINATOR_RE = re.compile(
    "|".join(re.escape(u) for u in sorted(
        (f for f, u in UNIT_TABLE.items() if u.kind in ("duration", "measure") or f in ("人", "户", "次")),
        key=len, reverse=True))
)
_NEAR_DURATION_VERB = set("时用了经续期达长历花为有是约")
_ANIMALS = set("牛猪羊马驴骡鹿象驼")
# numeral + unit + word: names, labels and ordinary words, not counts
_NAME_AFTER = {
    "节": ("气",),                                   # 二十四节气
    "轮": ("车", "胎", "驱"),                         # 三轮车
    "次": ("会议", "全会", "大会", "党代会", "创业", "元", "方"),   # 二次会议, 三次全会
    "面": ("环", "临", "朝", "向", "旗帜"),            # 三面环山
    "车": ("道", "厢", "间", "位", "型", "队", "库", "祸"),
    "成": ("员", "本", "果", "就", "绩", "效", "功", "立", "交", "长", "型", "熟", "色"),
    "方": ("面", "式", "案", "向", "法", "针", "位", "便", "圆", "块", "言", "阵", "志", "舱"),
    "项": ("规定", "制度", "原则", "纪律", "准则", "禁令", "注意"),   # 八项规定, 两项制度
    "类": ("严重暴力",),                              # 八类严重暴力案件
}


def _unit_misread(text: str, num: str, unit: str, unit_end: int, nxt: str, ns: int) -> bool:
    """The unit character is really part of a name or an ordinary word (三轮车, 四周, 两头)."""
    words = _NAME_AFTER.get(unit)
    if words and any(text.startswith(w, unit_end) for w in words):
        # Arabic or vague counts stay facts (出台12项制度, 召开20余次会议); the names are written
        # in bare Chinese numerals (八项规定, 二次会议)
        if unit not in ("项", "类", "次"):
            return True
        return num[0] not in "0123456789０１２３４５６７８９" and text[ns + len(num)] == unit[0]
    if unit == "方" and not (num[-1] in "0123456789０１２３４５６７８９万亿"):
        return True                               # 双方, 三方: parties, not cubic metres
    if unit == "头" and nxt not in _ANIMALS and not any(ch in _ANIMALS for ch in text[max(0, ns - 6):ns]):
        return True                               # 两头 (both ends), 带头
    if unit == "周" and num == "四" and not text.startswith(("内", "后", "时间"), unit_end) \
            and not text[max(0, ns - 2):ns].endswith(("用", "历时", "为期", "经过", "持续", "了")):
        return True                               # 四周: the surroundings
    if nxt == "“" and num[0] in _CN_DIGIT_CHARS:
        return True                               # 两座“大山”: a metaphor or label
    return False


def _threshold(c: _Cand, ops: dict[str, str]) -> str:
    """The condition a bounded number sets: >=18岁. A range bounded by 以上/以下 (七八万元以下: its
    qualifier says approx) is bounded at the end the word names: <=80000元."""
    below = c.post is not None and c.post.endswith("以下")
    op = ops.get(c.qualifier or "") or ("<=" if below else ">=")
    value = c.value_high if below and c.value_high is not None and c.qualifier not in ops else c.value
    return f"{op}{value.normalize():f}{c.unit}"


def _apply_thresholds(text: str, cands: list[_Cand]) -> list[_Cand]:
    """A bounded number followed in the same clause by another metric conditions that metric."""
    keep: list[_Cand] = []
    ops = {"at_least": ">=", "at_most": "<=", "more_than": ">", "less_than": "<"}
    for i, c in enumerate(cands):
        # thresholds bound an attribute (age, score, income, temperature, seniority…); a bounded
        # count (培训5000人以上并发放证书300本) is a fact of its own
        if c.post in ("以上", "及以上", "以下", "及以下") and c.kind != "count" and i + 1 < len(cands):
            nxt = cands[i + 1]
            between = text[c.end:nxt.start]
            if not any(ch in _CLAUSE_BREAK for ch in between) and not any(
                w in between for w in ("和", "与", "及", "或", "、")
            ):
                nxt.condition = _threshold(c, ops)
                continue
        keep.append(c)
    return keep


def _direction(text: str, c: _Cand, prev: _Cand | None) -> None:
    lo = max(0, c.start - 12)
    head = text[lo:c.start]
    cs = _clause_start(text, c.start)
    clause_head = text[cs:c.start]
    m = _DIRECTION_RE.search(head)
    if m is not None and m.group("dir") == "增" and m.start() > 0 and head[m.start() - 1] == "新":
        m = None
    if m is not None:
        d = m.group("dir")
        c.direction = "up" if d.startswith(_UP) else "down"
        b = _BASIS_RE.findall(clause_head)
        c.basis = b[-1] if b else None
    elif prev is not None and prev.direction and text[prev.end:c.start] in ("和", "、", "及", "与", "，"):
        c.direction, c.basis = prev.direction, prev.basis
    if c.direction and (c.unit in ("%", "‰", "个百分点", "倍") or c.basis):
        c.kind = "change"
    if c.unit == "个百分点":
        c.kind = "change"


def _subject(text: str, c: _Cand, next_c: _Cand | None, prev_c: _Cand | None) -> str | None:
    # phrase after the metric
    after_start = c.end
    if text[after_start:after_start + 1] == "的":
        after_start += 1
        via_de = True
    else:
        via_de = False
    after_end = _clause_end(text, after_start)
    if next_c is not None and next_c.start < after_end:
        after_end = next_c.start
    after = text[after_start:after_end]
    if not via_de:
        de = after.find("的")
        if de > 0:
            after = after[:de]
    if after.startswith("《") and "》" in after:
        after = after[: after.index("》") + 1]
    else:
        after = after[:12]
    after = after.rstrip("和与及或")
    after_ok = len(after) >= 2 and (after[0] not in _AFTER_STOP) and after[0] not in _NUM_START_CHARS
    chained = text[c.end:c.end + 1] in _NUM_START_CHARS and next_c is not None and next_c.start == c.end

    if after.count("“") > after.count("”"):
        after = after[: after.rindex("“")]
        after_ok = len(after) >= 2

    # phrase before the metric; a metric chained to the previous one (16页100余小项) shares the
    # phrase before the chain
    head = c.start
    if prev_c is not None and prev_c.end == head:
        head = prev_c.start
    cs = _clause_start(text, head)
    cs = max(cs, head - _MAX_SUBJ)
    raw_before = text[cs:head]
    before = _trim_before(raw_before)
    # only linking words (达到, 同比增长, 共计…, 比2015年提高) before the number: the subject is the
    # previous one's
    if before.startswith(("比", "较")):
        before = ""
    linking_only = bool(raw_before) and not before
    if len(before) < 2:
        before = ""

    if via_de and after_ok:
        return after
    if c.unit not in _BEFORE_PREF_UNITS and c.kind not in ("duration", "percent", "change"):
        if after_ok and text[c.end:c.end + 1] not in _CLAUSE_BREAK:
            return after
    if chained:
        return None  # filled from the next metric
    if before:
        return before
    if after_ok:
        return after
    if linking_only:
        # remember the previous clause of the sentence, for when no metric precedes in it
        if cs > 0 and text[cs - 1] in "，,":
            pcs = max(_clause_start(text, cs - 1), cs - 1 - _MAX_SUBJ)
            prev_clause = _trim_before(text[pcs:cs - 1])
            if len(prev_clause) >= 2:
                return _INHERIT + prev_clause
        return _INHERIT
    return None


# --- pairs, 分别 lists and the subject key ---------------------------------------------------------
_PAIR_FROM_RE = re.compile(r"(?:由|从)(?:[^，,。；;！!？?]{0,10}的)?$")
_PAIR_TO_RE = re.compile(r"^[^，,。；;！!？?\d]{0,6}?(?:至|到|为)(?:[^，,。；;！!？?]{0,10}的)?$")
_RESPECTIVELY_RE = re.compile(r"分别(?:为|是|达到|达|有|增长|下降|提高|减少|占)?")
_LIST_SPLIT_RE = re.compile(r"、|和|及|与")
_KEY_LEAD_RE = re.compile(
    r"^(?:全[市省县区镇国局球乡村校院年]|本[市省县区]|该[市省县区镇村院校局馆]|该公司|当地|各地|今年|去年|目前|"
    r"其中|累计|共有|现有|新增|另有|已|共|各类|日均|年|"
    r"破获|侦破|抓获|查处|接待|举办|发放|投入|改造|新建|建成|调解|解决|出动|采集|发现|完成|实现|开行|发送|"
    r"保障|审结|招聘|抽检|接种|转移|代购|清运|调集|发展|带动|惠及|拉动|投放|吸引|挽回|受理|办结|走访|培训|"
    r"召开|开展|组织|收到|检查|排查|报告|帮助群众|帮助|紧急|为群众|为居民|户均)+"
)
_KEY_VERB_RE = re.compile(
    r"完成|出动|发展|清运|保障|采集|举办|接待|抽检|拥有|新建|新增|累计|上映|发送|开行|破获|侦破|抓获|"
    r"改造|解决|调解|实现|接种|转移|收割的|以上的?|以下的?"
)
_KEY_CUT_RE = re.compile(r"参考|参加|参赛|参与|回港|暂停|下沉|来自|同步|昼夜|获得|发往|首次|稳定在|被|在")


def _after_last_verb(phrase: str) -> str:
    """What follows the last verb inside the phrase (宁波舟山港完成集装箱吞吐量 -> 集装箱吞吐量)."""
    last = None
    for last in _KEY_VERB_RE.finditer(phrase):
        pass
    if last is not None and len(phrase) - last.end() >= 2:
        return phrase[last.end():]
    return phrase


def subject_key(subject: str | None) -> str | None:
    """The subject's head, so that one measure gathers across articles: 全局共有民警 -> 民警,
    民警参考 -> 民警.  Scope words (全市, 该县), leading verbs (破获, 接待) and a trailing verb
    phrase are dropped; a long phrase keeps what follows its last 的."""
    if not subject:
        return None
    key = _KEY_LEAD_RE.sub("", subject)
    key = _after_last_verb(key)
    m = _KEY_CUT_RE.search(key, 2)
    if m is not None:
        key = key[: m.start()]
    if len(key) > 8 and "的" in key[:-1]:
        key = key[key.rindex("的") + 1:]
    key = key.strip("的")
    return key if len(key) >= 1 else subject


def _pairs_and_lists(text: str, cands: list[_Cand], subjects: list[str | None],
                     sentence_starts: list[int]) -> list[str | None]:
    """Roles and subjects of from-to pairs (由9个简化为5个) and of 分别 lists (A、B和C分别为x、y和z)."""
    roles: list[str | None] = [None] * len(cands)
    for i in range(len(cands) - 1 if ("由" in text or "从" in text) else 0):
        a, b = cands[i], cands[i + 1]
        lo = max(0, a.start - 14)
        fm = _PAIR_FROM_RE.search(text, lo, a.start)
        if fm is None or not _PAIR_TO_RE.match(text[a.end:b.start]) or a.unit != b.unit:
            continue
        roles[i], roles[i + 1] = "from", "to"
        cs = max(_clause_start(text, fm.start()), fm.start() - _MAX_SUBJ)
        subj = _trim_before(text[cs:fm.start()])
        if len(subj) >= 2:
            subjects[i] = subj
        subjects[i + 1] = subjects[i]
    i = 0 if "分别" in text else len(cands)
    while i < len(cands):
        c = cands[i]
        ss = _sentence_start(sentence_starts, c.start)
        lo = max(ss, c.start - 10)
        rm = None
        for rm in _RESPECTIVELY_RE.finditer(text, lo, c.start):
            pass
        if rm is None or text[rm.end():c.start].strip("了") != "":
            i += 1
            continue
        run = [i]
        while run[-1] + 1 < len(cands) and text[cands[run[-1]].end:cands[run[-1] + 1].start] in ("、", "和", "及", "与", "，和"):
            run.append(run[-1] + 1)
        n = len(run)
        if n < 2:
            i += 1
            continue
        cs = _clause_start(text, rm.start(), _LAST_LIST_BREAK_RE)
        items = [x for x in _LIST_SPLIT_RE.split(text[cs:rm.start()]) if x]
        if len(items) == n:
            for k, j in enumerate(run):
                item = _trim_before(items[k])
                item = _KEY_LEAD_RE.sub("", item) or item
                subjects[j] = item
        else:
            before = [j for j in range(run[0]) if cands[j].start >= ss and subjects[j]]
            if len(before) >= n:
                for k, j in enumerate(run):
                    subjects[j] = subjects[before[-n + k]]
        i = run[-1] + 1
    return roles


def extract_metrics(text: str) -> list[Metric]:
    """All metrics of one paragraph's text, in text order."""
    if not text:
        return []
    cands = _candidates(text)
    if not cands:
        return []
    cands = _apply_thresholds(text, cands)

    as_of_spans = (
        [(m.start(), m.group()) for m in _AS_OF_RE.finditer(text)]
        if ("截至" in text or "截止" in text) else []
    )
    period_spans = (
        [(m.start(), m.end(), m.group()) for m in _PERIOD_RE.finditer(text)]
        if ("来" in text or "连续" in text) else []
    )

    sentence_starts = _sentence_starts(text)
    full_starts = [0] + [m.end() for m in _FULL_STOP_RE.finditer(text)] if as_of_spans else []
    as_of_starts = [s for s, _ in as_of_spans]
    period_ends = [e for _, e, _ in period_spans]
    prev: _Cand | None = None
    subjects: list[str | None] = []
    for c in cands:
        _direction(text, c, prev)
        prev = c
    for i, c in enumerate(cands):
        nxt = cands[i + 1] if i + 1 < len(cands) else None
        subjects.append(_subject(text, c, nxt, cands[i - 1] if i else None))
    # chained metrics (6大类20项任务) share the next one's subject; a share or change without a
    # subject of its own inherits the previous metric's within the sentence (…5000余人，超过50.12%)
    for i in range(len(cands) - 2, -1, -1):
        if subjects[i] is None and cands[i + 1].start == cands[i].end:
            subjects[i] = subjects[i + 1]
    for i, c in enumerate(cands):
        subj = subjects[i]
        fallback = None
        inherit = subj is None and c.kind in ("percent", "change")
        if subj is not None and subj.startswith(_INHERIT):
            inherit, fallback, subj = True, subj[len(_INHERIT):] or None, None
        if inherit and i > 0:
            ss = _sentence_start(sentence_starts, c.start)
            if cands[i - 1].start >= ss and subjects[i - 1] is not None:
                subj = subjects[i - 1]
        subjects[i] = subj or fallback
    roles = _pairs_and_lists(text, cands, subjects, sentence_starts)
    # a padded subject keeps its tail after the last verb (still text as written)
    subjects = [_after_last_verb(x) if x and len(x) > 12 else x for x in subjects]

    out: list[Metric] = []
    for i, c in enumerate(cands):
        # the last as_of / period of the sentence before the metric, by bisection (linear overall)
        as_of = None
        if as_of_spans:
            k = bisect.bisect_left(as_of_starts, c.start) - 1
            if k >= 0 and as_of_starts[k] >= _sentence_start(full_starts, c.start):
                as_of = as_of_spans[k][1]
        period = None
        if period_spans:
            ss = _sentence_start(sentence_starts, c.start)
            k = bisect.bisect_right(period_ends, c.start) - 1
            if k >= 0 and period_spans[k][0] >= ss:
                period = period_spans[k][2]
        out.append(
            Metric(
                ordinal=i + 1,
                surface=text[c.start:c.end],
                char_start=c.start,
                char_end=c.end,
                value=c.value,
                value_high=c.value_high,
                unit=c.unit,
                qualifier=c.qualifier,
                kind=c.kind,
                subject=subjects[i] or None,
                condition=c.condition,
                as_of=as_of,
                period=period,
                direction=c.direction,
                basis=c.basis,
                subject_key=subject_key(subjects[i]),
                role=roles[i],
            )
        )
    return out
