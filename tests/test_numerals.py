"""Number normalisation: every form METRICS.md names, plus a round-trip property test."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.numerals import NUMBER_PATTERN, parse_number, parse_number_vague

CASES = [
    # Arabic, half- and full-width, separators, decimals
    ("0", "0"), ("95", "95"), ("4495", "4495"), ("12508", "12508"), ("12,508", "12508"),
    ("1,234,567", "1234567"), ("1，234", "1234"), ("50.12", "50.12"), ("58.2", "58.2"),
    ("１２５０８", "12508"), ("５０．１２", "50.12"), ("１，２３４", "1234"),
    # Chinese numerals
    ("三", "3"), ("两", "2"), ("十", "10"), ("十五", "15"), ("二十", "20"), ("一十五", "15"),
    ("一百一十", "110"), ("一百零五", "105"), ("一千零一", "1001"), ("两千四百五", "2450"),
    ("两千四百五十", "2450"), ("三百五", "350"), ("一万五", "15000"), ("三万五千", "35000"),
    ("一万零五十", "10050"), ("十万", "100000"), ("一亿五", "150000000"),
    ("四亿五千六百四十二万零一十五", "456420015"), ("一万亿", "1000000000000"),
    ("二〇二〇", "2020"), ("二零二零", "2020"), ("三点五", "3.5"), ("三点五万", "35000"),
    ("零", "0"),
    # financial numerals
    ("壹佰伍拾", "150"), ("贰", "2"), ("貳", "2"), ("叁仟", "3000"), ("伍萬", "50000"),
    ("壹億", "100000000"), ("玖拾玖", "99"), ("陆佰柒拾捌", "678"), ("陸拾", "60"), ("肆拾參", "43"),
    ("壹萬零捌佰", "10800"),
    # mixed
    ("2万", "20000"), ("3.5万", "35000"), ("4.78万亿", "4780000000000"), ("5万4千6百", "54600"),
    ("1.2亿", "120000000"), ("3万2500", "32500"), ("3万5", "35000"), ("２万", "20000"),
    # percentages
    ("百分之九十", "90"), ("百分之5.5", "5.5"), ("百分之十五点五", "15.5"), ("95%", "95"),
    ("90％", "90"), ("50.12%", "50.12"),
    # sign
    ("-5", "-5"), ("负三", "-3"),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_parse_number(text: str, expected: str) -> None:
    value = parse_number(text)
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)


@pytest.mark.parametrize(
    "text,expected",
    [("十多万", "100000"), ("二十几万", "200000"), ("九十多", "90"), ("9000余", "9000"),
     ("2万余", "20000"), ("一百多", "100"), ("2000多万", "20000000")],
)
def test_vague_numbers(text: str, expected: str) -> None:
    value, vague = parse_number_vague(text)
    assert value == Decimal(expected) and vague
    with pytest.raises(ValueError):
        parse_number(text)


def test_vague_reader_on_exact_numbers() -> None:
    assert parse_number_vague("2万") == (Decimal(20000), False)


@pytest.mark.parametrize(
    "text",
    ["", "统一", "千家万户", "万", "百", "千", "abc", "一两", "十五十", "1,23", "百余", "老百姓",
     "一线", "3.", "点五", "队伍", "万郡"],
)
def test_not_numbers(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


def test_values_are_exact_decimals() -> None:
    assert parse_number("0.1") + parse_number("0.2") == Decimal("0.3")
    assert str(parse_number("3.5万")) == "35000"


@pytest.mark.parametrize(
    "text,span",
    [("民警4495人参加", "4495"), ("共12,508户", "12,508"), ("四亿五千六百四十二万零一十五元", "四亿五千六百四十二万零一十五"),
     ("达4.78万亿元", "4.78万亿"), ("十多万人", "十多万")],
)
def test_number_pattern_finds_spans(text: str, span: str) -> None:
    m = re.search(NUMBER_PATTERN, text)
    assert m is not None and m.group() == span


# --- writer for the round-trip property -----------------------------------------------------

ORDINARY = "零一二三四五六七八九"
FINANCIAL = "零壹贰叁肆伍陆柒捌玖"
TRAD_FINANCIAL = "零壹貳參肆伍陸柒捌玖"


def _section(n: int, digits: str, units: tuple[str, str, str], liang: bool, leading: bool) -> str:
    """Write 0 < n < 10000 with 零 for gaps; ``leading`` = first section (十五 not 一十五)."""
    out = []
    zero = False
    started = False
    for power, unit in ((1000, units[2]), (100, units[1]), (10, units[0]), (1, "")):
        d = n // power % 10
        if d == 0:
            if started:
                zero = True
            continue
        if zero:
            out.append(digits[0])
            zero = False
        if d == 2 and liang and power >= 100:
            ch = "两"
        elif d == 1 and power == 10 and leading and not started:
            ch = ""          # 十五, not 一十五
        else:
            ch = digits[d]
        out.append(ch + unit)
        started = True
    return "".join(out)


def write_chinese(n: int, style: str = "standard") -> str:
    if n == 0:
        return "零"
    if style == "financial":
        digits, units, big = FINANCIAL, ("拾", "佰", "仟"), ("萬", "億")
    elif style == "trad_financial":
        digits, units, big = TRAD_FINANCIAL, ("拾", "佰", "仟"), ("萬", "億")
    else:
        digits, units, big = ORDINARY, ("十", "百", "千"), ("万", "亿")
    liang = style == "liang"
    parts: list[str] = []
    yi, rest = divmod(n, 10**8)
    wan, low = divmod(rest, 10**4)
    first = True
    if yi:
        # the 亿 section can itself exceed 9999 (万亿)
        parts.append(write_chinese(yi, style) + big[1])
        first = False
    if wan:
        if not first and wan < 1000:
            parts.append(digits[0])
        parts.append(_section(wan, digits, units, liang, first) + big[0])
        first = False
    elif yi and low:
        parts.append(digits[0])
    if low:
        if not first and wan and low < 1000:
            parts.append(digits[0])
        parts.append(_section(low, digits, units, liang, first))
    return "".join(parts)


def write_digits(n: int) -> str:
    return "".join("〇一二三四五六七八九"[int(c)] for c in str(n))


def write_mixed(n: int) -> str:
    """Arabic sections with 亿/万 (4亿5642万零15, 3万2500)."""
    yi, rest = divmod(n, 10**8)
    wan, low = divmod(rest, 10**4)
    out = []
    if yi:
        out.append(f"{yi}亿")
    if wan:
        out.append(f"{wan}万")
    if low:
        out.append(f"零{low}" if out and low < 1000 else str(low))
    elif not out:
        out.append("0")
    return "".join(out)


def write_arabic(n: int, fullwidth: bool, commas: bool) -> str:
    s = f"{n:,}" if commas else str(n)
    if fullwidth:
        s = s.translate(str.maketrans("0123456789,", "０１２３４５６７８９，"))
    return s


@settings(max_examples=400, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**12),
    st.sampled_from(["standard", "liang", "financial", "trad_financial"]),
)
def test_roundtrip_chinese(n: int, style: str) -> None:
    text = write_chinese(n, style)
    assert parse_number(text) == n, text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_roundtrip_digit_by_digit_and_mixed(n: int) -> None:
    if n >= 10:
        assert parse_number(write_digits(n)) == n
    assert parse_number(write_mixed(n)) == n, write_mixed(n)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**12), st.booleans(), st.booleans())
def test_roundtrip_arabic(n: int, fullwidth: bool, commas: bool) -> None:
    assert parse_number(write_arabic(n, fullwidth, commas)) == n


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2),
    st.sampled_from(["万", "亿", "万亿", ""]),
)
def test_roundtrip_decimal_with_unit(d: Decimal, unit: str) -> None:
    mult = {"万": 10**4, "亿": 10**8, "万亿": 10**12, "": 1}[unit]
    text = f"{d}{unit}"
    assert parse_number(text) == d * mult, text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=99999), st.integers(min_value=0, max_value=99),
       st.sampled_from(["", "万", "亿"]))
def test_roundtrip_chinese_decimal(whole: int, frac: int, unit: str) -> None:
    frac_digits = f"{frac:02d}"
    text = write_chinese(whole) + "点" + "".join(ORDINARY[int(c)] for c in frac_digits) + unit
    expected = Decimal(f"{whole}.{frac_digits}") * {"": 1, "万": 10**4, "亿": 10**8}[unit]
    assert parse_number(text) == expected, text


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=99))
def test_roundtrip_percent(n: int) -> None:
    assert parse_number("百分之" + write_chinese(n)) == n
    assert parse_number(f"百分之{n}.5") == Decimal(n) + Decimal("0.5")
