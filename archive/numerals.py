"""Exact conversion of written numbers (Arabic, Chinese, financial, mixed) to ``Decimal``.

Forms read (see ``tests/data/METRICS.md``):

* Arabic digits, half- or full-width, with ``,``/``，`` thousands separators and a decimal point
  (``12,508``, ``１２５０８``, ``50.12``);
* Chinese numerals (``三``, ``十五``, ``一百一十``, ``一千零一``, ``两千四百五`` = 2450 — a trailing digit
  right after a unit counts one unit lower —, ``四亿五千六百四十二万零一十五``), digit-by-digit
  readings (``二〇二〇``) and a decimal point ``点`` (``三点五``);
* financial numerals (``壹佰伍拾``, ``贰``/``貳``, ``拾佰仟``, ``萬億``);
* mixed forms (``2万``, ``4.78万亿``, ``5万4千6百``, ``3.5万``);
* ``百分之九十`` / ``百分之5.5`` (the value of the percentage: 90, 5.5) and a trailing ``%``.

``余``/``多``/``几`` inside a number (``十多万``, ``二十几万``) are accepted only by
:func:`parse_number_vague`, which returns the round value and a flag.

Values are always ``Decimal``; nothing goes through ``float``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple

__all__ = [
    "parse_number",
    "parse_number_vague",
    "NUMBER_PATTERN",
    "CN_DIGITS",
    "CN_SMALL_UNITS",
    "CN_BIG_UNITS",
    "ARABIC_PATTERN",
]

# --- character tables -------------------------------------------------------------------------

_DIGIT_VALUES: dict[str, int] = {}
for _chars, _v in (
    ("0０零〇○", 0),
    ("1１一壹幺", 1),
    ("2２二两兩贰貳", 2),
    ("3３三叁參", 3),
    ("4４四肆", 4),
    ("5５五伍", 5),
    ("6６六陆陸", 6),
    ("7７七柒", 7),
    ("8８八捌", 8),
    ("9９九玖", 9),
):
    for _c in _chars:
        _DIGIT_VALUES[_c] = _v

#: Chinese (ordinary and financial) digit characters, 零 included.
CN_DIGITS = "零〇○一壹二两兩贰貳三叁參四肆五伍六陆陸七柒八捌九玖"
#: units below 万
CN_SMALL_UNITS = "十拾百佰千仟"
#: 万 and 亿 (multiplying section units)
CN_BIG_UNITS = "万萬亿億"

_UNIT_VALUES = {
    "十": 10, "拾": 10,
    "百": 100, "佰": 100,
    "千": 1000, "仟": 1000,
    "万": 10**4, "萬": 10**4,
    "亿": 10**8, "億": 10**8,
}

_FULLWIDTH = str.maketrans("０１２３４５６７８９．，％－", "0123456789.,%-")

_HW = "0-9０-９"
#: an Arabic number: digits, optional groups of three after a comma, optional decimals
ARABIC_PATTERN = rf"[{_HW}]+(?:[,，][{_HW}]{{3}}(?![{_HW}]))*(?:[.．][{_HW}]+)?"

#: Regex fragment for one number span as it occurs in running text: starts with an Arabic number,
#: a Chinese digit or 十/拾; continues with digits, units, Arabic numbers, ``点`` + digit, and
#: ``余``/``多``/``几`` only when a 万/亿 follows (``十多万``).  Candidates still need
#: :func:`parse_number` to confirm them.  The span is atomic (the longest run is taken and never
#: shortened) and never starts inside another number, so scanning is linear in the text length.
_NOT_AFTER_NUMBER = rf"(?<![{_HW}.．{CN_DIGITS}{CN_SMALL_UNITS}{CN_BIG_UNITS}].)"
NUMBER_PATTERN = (
    # first character, then a check that the character before it is no part of a number
    rf"(?>(?:[{_HW}]{_NOT_AFTER_NUMBER}[{_HW}]*(?:[,，][{_HW}]{{3}}(?![{_HW}]))*(?:[.．][{_HW}]+)?"
    rf"|[{CN_DIGITS}十拾]{_NOT_AFTER_NUMBER})"
    rf"(?:{ARABIC_PATTERN}|[{CN_DIGITS}{CN_SMALL_UNITS}{CN_BIG_UNITS}]"
    rf"|点(?=[{CN_DIGITS}])|[余多几](?=[{CN_BIG_UNITS}]))*)"
)

_ARABIC_RE = re.compile(ARABIC_PATTERN)
_ARABIC_FULL_RE = re.compile(r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?")
_PERCENT_PREFIX = "百分之"


def _arabic(s: str) -> Decimal:
    t = s.translate(_FULLWIDTH)
    if not _ARABIC_FULL_RE.fullmatch(t):
        raise ValueError(f"not an Arabic number: {s!r}")
    return Decimal(t.replace(",", ""))


class Token(NamedTuple):
    """One piece of a written number: kind is 'num' (an Arabic number), 'digit', 'zero', 'unit'
    (十…亿), 'point' (点) or 'vague' (余/多/几); value is the number, unit or digit it stands for
    (0 for point and vague)."""

    kind: str
    value: Decimal


_ZERO = Decimal(0)


def _tokens(s: str) -> list[Token]:
    """Split a number into tokens (see Token)."""
    out: list[Token] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c in "0123456789０１２３４５６７８９":
            m = _ARABIC_RE.match(s, i)
            assert m is not None
            out.append(Token("num", _arabic(m.group())))
            i = m.end()
            continue
        if c in _DIGIT_VALUES:
            v = _DIGIT_VALUES[c]
            out.append(Token("zero" if v == 0 else "digit", Decimal(v)))
        elif c in _UNIT_VALUES:
            out.append(Token("unit", Decimal(_UNIT_VALUES[c])))
        elif c == "点":
            out.append(Token("point", _ZERO))
        elif c in "余多几":
            out.append(Token("vague", _ZERO))
        else:
            raise ValueError(f"not a number: {s!r} (at {c!r})")
        i += 1
    return out


def _digit_run(tokens: list[Token], s: str) -> Decimal:
    """A run of plain digits read one by one (二〇二〇 → 2020)."""
    if "两" in s or "兩" in s:
        raise ValueError(f"两 is no digit of a digit-by-digit number: {s!r}")
    return Decimal("".join(str(t.value) for t in tokens))


def _read(tokens: list[Token], s: str) -> tuple[Decimal, bool]:
    if not tokens:
        raise ValueError(f"empty number: {s!r}")
    vague = any(k == "vague" for k, _ in tokens)
    # Decimal point in Chinese: digits 点 digits, optionally followed by units (三点五万).
    if any(k == "point" for k, _ in tokens):
        idx = next(i for i, (k, _) in enumerate(tokens) if k == "point")
        head, rest = tokens[:idx], tokens[idx + 1:]
        frac: list[int] = []
        j = 0
        while j < len(rest) and rest[j][0] in ("digit", "zero"):
            frac.append(int(rest[j].value))
            j += 1
        if not frac or not head:
            raise ValueError(f"bad decimal: {s!r}")
        whole, v1 = _read(head, s)
        point_value = whole + Decimal("0." + "".join(map(str, frac)))
        tail = rest[j:]
        if tail:
            if not all(k == "unit" and v >= 10**4 for k, v in tail):
                raise ValueError(f"bad decimal: {s!r}")
            tokens = [Token("num", point_value)] + tail
        else:
            return point_value, v1 or vague

    kinds = [k for k, _ in tokens]
    if all(k in ("digit", "zero") for k in kinds) and len(kinds) > 1:
        return _digit_run(tokens, s), vague
    if kinds[0] == "vague":
        raise ValueError(f"not a number: {s!r}")

    total = Decimal(0)     # finished 亿 sections
    section = Decimal(0)   # finished 万 part inside the current 亿 section
    part = Decimal(0)      # part below 万
    num: Decimal | None = None
    last_unit = 0          # value of the unit right before the pending digit (colloquial 两千四百五)
    after_zero = False
    prev: str | None = None
    small_limit = 10**4    # small units must decrease inside a section: 千 > 百 > 十
    seen_any = False
    single = False
    for idx, (kind, v) in enumerate(tokens):
        if kind in ("num", "digit"):
            if prev in ("num", "digit"):
                raise ValueError(f"adjacent digits in {s!r}")
            num = v
            # only a lone digit is read one unit lower (三万五); 3万2500 is 32500
            single = kind == "digit" or (num == num.to_integral_value() and 0 < num < 10
                                         and num.as_tuple().exponent == 0)
            seen_any = True
        elif kind == "zero":
            if prev in ("num", "digit"):
                raise ValueError(f"misplaced 零 in {s!r}")
            after_zero = True
            seen_any = True
            if prev is None and len(tokens) == 1:
                num = Decimal(0)
        elif kind == "vague":
            # 十多万 / 2000多万: only right before 万/亿 (a trailing one is cut off earlier)
            if prev not in ("unit", "num", "digit") or idx + 1 >= len(tokens) or not (
                tokens[idx + 1].kind == "unit" and tokens[idx + 1].value >= 10**4
            ):
                raise ValueError(f"misplaced 余/多/几 in {s!r}")
        elif kind == "unit":
            u = int(v)
            if u < 10**4:
                if u >= small_limit:
                    raise ValueError(f"units out of order in {s!r}")
                if num is None:
                    if u == 10 and prev in (None, "zero"):
                        num = Decimal(1)        # 十五, 一百零十 is not written but 零十 is tolerated
                    else:
                        raise ValueError(f"unit without digit in {s!r}")
                part += num * u
                small_limit = u
            else:
                if num is None and part == 0 and prev not in ("unit", "vague"):
                    raise ValueError(f"unit without digit in {s!r}")
                if num is not None:
                    part += num
                if u == 10**4:
                    section = (section + part) * u
                else:  # 亿
                    total = (total + section + part) * u
                    section = Decimal(0)
                part = Decimal(0)
                small_limit = 10**4
            num = None
            last_unit = u
            after_zero = False
            seen_any = True
        prev = kind
    if not seen_any:
        raise ValueError(f"not a number: {s!r}")
    if num is not None:
        if prev in ("num", "digit") and last_unit >= 100 and not after_zero and single:
            # colloquial: 两千四百五 = 2450, 三万五 = 35000, 一亿五 = 1.5亿
            num = num * (Decimal(last_unit) / 10)
        part += num
    return total + section + part, vague


def _clean(d: Decimal) -> Decimal:
    """Drop a meaningless fractional zero tail: 3.5万 → 35000, not 35000.0."""
    integral = d.to_integral_value()
    return integral if d == integral else d.normalize()


def _prepare(s: str) -> tuple[str, bool]:
    if not isinstance(s, str):
        raise ValueError(f"not a string: {s!r}")
    t = s.strip()
    negative = False
    if t[:1] in ("-", "－", "负"):
        negative = True
        t = t[1:]
    if t.startswith(_PERCENT_PREFIX):
        t = t[len(_PERCENT_PREFIX):]
    elif t.endswith(("%", "％")):
        t = t[:-1]
    if not t:
        raise ValueError(f"not a number: {s!r}")
    return t, negative


def parse_number_vague(s: str) -> tuple[Decimal, bool]:
    """Like :func:`parse_number` but also reads ``余``/``多``/``几`` inside a number.

    Returns ``(value, vague)``: ``十多万`` → ``(100000, True)``.
    """
    t, negative = _prepare(s)
    if t[-1] in "余多几":          # 九十多, 百余 are qualifiers on the last unit
        t_core = t[:-1]
        if not t_core:
            raise ValueError(f"not a number: {s!r}")
        value, _ = _read(_tokens(t_core), s)
        vague = True
    else:
        value, vague = _read(_tokens(t), s)
    value = _clean(value)
    return (-value if negative else value), vague


def parse_number(s: str) -> Decimal:
    """Convert one written number to ``Decimal``; raise ``ValueError`` if ``s`` is not one."""
    t, negative = _prepare(s)
    toks = _tokens(t)
    if any(k == "vague" for k, _ in toks):
        raise ValueError(f"vague number (use parse_number_vague): {s!r}")
    value, _ = _read(toks, s)
    value = _clean(value)
    return -value if negative else value
