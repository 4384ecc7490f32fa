"""What a metric says once resolved: when and where it holds, its value in base units, its series.

Pure, no database: runs in the parser workers next to the extractor (archive/prepare.py), so the
loader only writes the columns. For each metric of a document it gives the columns

* ``ref_start``, ``ref_end``, ``ref_precision`` — archive/timeref.py, against the issue date; the
  values of a 分别 list over a list of years/quarters/months (``2016—2018年…分别为a、b、c``) get one
  unit each (``per_value_times``);
* ``place``, ``place_level`` — archive/places.py: the article's place once per article, then the
  place named nearest before the figure in its paragraph;
* ``value_base``, ``unit_base`` — the value in the base unit of its family (archive/data/units.tsv:
  公里 → 1000 米, 吨 → 1000 千克, 名 → 人, ‰ → 0.1 %); a change that goes down is negative, so that a
  series of 同比 changes reads as numbers;
* ``measure`` — the series key ``subject|kind|family`` (``新增确诊病例|count|case``);
* ``fact_key`` — a digest of measure, place, time, value and unit: the same figure restated in
  several articles has the same key, and ``v_fact`` keeps the first.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from functools import lru_cache
from typing import Any
from decimal import Context, Decimal

from archive.document import Article, Document
from archive.metrics import _SENT_BREAK_RE, UNIT_TABLE, Metric, _sentence_start, _sentence_starts
from archive.places import Gazetteer, Place, article_place, gazetteer, place_at
from archive.timeref import TimeRef, find_times, per_value_times, resolve_time

__all__ = ["document_facts", "metric_facts", "base_value", "measure_of", "fact_key", "FACT_COLUMNS"]

FACT_COLUMNS = ("ref_start", "ref_end", "ref_precision", "place", "place_level",
                "value_base", "unit_base", "measure", "fact_key")

# Same scale as metric.value (Numeric(38, 10)): a base value is stored exactly on every engine.
_SCALE = Decimal("1e-10")
_EXACT = Context(prec=38)


def _unit_bases() -> dict[str, tuple[str, str, Decimal | None]]:
    """Normalised unit -> (family, base unit of the family, factor to it)."""
    base_of: dict[str, str] = {}
    for u in UNIT_TABLE.values():  # the family's first unit with factor 1 is its base (units.tsv)
        if u.factor == 1 and u.family not in base_of:
            base_of[u.family] = u.unit
    out: dict[str, tuple[str, str, Decimal | None]] = {}
    for u in UNIT_TABLE.values():
        if u.unit not in out:
            base = base_of.get(u.family) if u.factor is not None else None
            out[u.unit] = (u.family, base or u.unit, u.factor if base else None)
    return out


UNIT_BASES = _unit_bases()


def unit_factor(unit: str) -> Decimal:
    """What one `unit` is in its family's base unit (公里 -> 1000); 1 for a unit without a fixed factor."""
    factor = UNIT_BASES.get(unit, (None, unit, None))[2]
    return Decimal(1) if factor is None else factor


def base_value(value: Decimal, unit: str, direction: str | None = None) -> tuple[Decimal, str]:
    """(value_base, unit_base): 12 公里 -> (12000, 米); a unit without a fixed factor (年, 美元 of
    its own family, a compound rate 人次/小时) stays as it is. Down-going changes are negative."""
    _family, base, factor = UNIT_BASES.get(unit, (None, unit, None))
    out = _EXACT.multiply(value, factor) if factor is not None else value
    if direction == "down":
        out = -out
    # quantized, not normalized: str() of a normalized 9.9E+13 is what PyMySQL would send
    return out.quantize(_SCALE, context=_EXACT), base


# 新增/累计 tell a daily count from a running total; subject_key drops them (a key gathers both),
# a series must not.
_FLOW_WORDS = ("新增", "累计", "现有", "日均")
_LEAD_JUNK = re.compile(r"^[的，,、]+")


def measure_of(m: Metric, issue: date, gaz: Gazetteer) -> str | None:
    """The series a metric belongs to, ``subject|kind|family``; None without a subject."""
    key = m.subject_key
    if not key:
        return None
    key = _strip_time_and_place(key, issue, gaz)
    for w in _FLOW_WORDS:
        if w in (m.subject or "") and w not in key:
            key = w + key
            break
    kind = "change" if m.direction else m.kind
    family = UNIT_BASES.get(m.unit, (m.unit, m.unit, None))[0] or m.unit
    return f"{key}|{kind}|{family}"[:200]


@lru_cache(maxsize=8192)  # subjects recur (民警, 国内生产总值): stripped once per worker and issue date
def _strip_time_and_place(key: str, issue: date, gaz: Gazetteer) -> str:
    """2019年全国国内生产总值 -> 国内生产总值: time and place are columns of their own."""
    while True:
        before = key
        times = find_times(key, issue)
        if times and times[0][0] == 0:
            key = key[times[0][1]:]
        mentions = gaz.mentions(key)
        if mentions and mentions[0].start == 0:
            key = key[mentions[0].end:]
        key = _LEAD_JUNK.sub("", key)
        if key == before or len(key) < 2:
            return key if len(key) >= 2 else before


def fact_key(measure: str | None, place: str | None, ref: TimeRef, value_base: Decimal, unit_base: str) -> str | None:
    """Digest of what makes two metrics one fact; None without a measure (no series, no fact)."""
    if measure is None:
        return None
    text = "|".join((measure, place or "", ref.start.isoformat(), ref.end.isoformat(), format(value_base.normalize(_EXACT), "f"), unit_base))
    return hashlib.sha1(text.encode()).hexdigest()[:20]


_RESPECTIVELY = re.compile(r"分别")


def _list_times(text: str, metrics: list[Metric], issue: date) -> dict[int, tuple[TimeRef, int]]:
    """Metric index -> its own time and the list's first metric, for the values of a 分别 list over a
    list of periods (2016—2018年…分别为a、b、c: one measure, three years)."""
    out: dict[int, tuple[TimeRef, int]] = {}
    starts = None
    for r in _RESPECTIVELY.finditer(text):
        end = _SENT_BREAK_RE.search(text, r.end())
        stop = end.start() if end else len(text)
        group = [i for i, m in enumerate(metrics) if r.end() <= m.char_start < stop]
        if len(group) < 2:
            continue
        first = metrics[group[0]]
        starts = starts or _sentence_starts(text)
        start = _sentence_start(starts, r.start())
        refs = per_value_times(first.period or text[start:r.start()], len(group), issue)
        if refs:
            out.update((i, (ref, group[0])) for i, ref in zip(group, refs))
    return out


def metric_facts(text: str, metrics: list[Metric], issue: date, article: Place | None,
                 gaz: Gazetteer) -> list[dict]:
    """The fact columns of each of a paragraph's metrics, in their order."""
    if not metrics:
        return []
    times = find_times(text, issue)
    # place_at reads the mentions that end before a metric, so none need be found past the last one
    mentions = gaz.mentions(text, article, stop=max(m.char_start for m in metrics))
    listed = _list_times(text, metrics, issue) if "分别" in text else {}
    out: list[dict] = []
    for i, m in enumerate(metrics):
        if i in listed:
            ref, first = listed[i]
            # the extractor gives the list's later values no subject (or a wrong one): the list has one
            measure = out[first]["measure"] if first < i else measure_of(m, issue, gaz)
        else:
            ref = resolve_time(m.as_of, m.period, issue, text, m.char_start, times=times)
            measure = measure_of(m, issue, gaz)
        place = place_at(mentions, article, m.char_start)
        value_base, unit_base = base_value(m.value, m.unit, m.direction)
        cols: dict[str, Any] = {**ref.columns(), "place": None, "place_level": None, "value_base": value_base,
                "unit_base": unit_base, "measure": measure}
        if place is not None:
            cols.update(place.columns())
        cols["fact_key"] = fact_key(measure, cols["place"], ref, value_base, unit_base)
        out.append(cols)
    return out


def _body_start(article: Article, chars: int = 200) -> str:
    """The article's first characters, where a dateline is printed (本报武汉3月5日电)."""
    out, n = [], 0
    for p in article.paragraphs:
        out.append(p.text)
        n += len(p.text)
        if n >= chars:
            break
    return "\n".join(out)


def document_facts(document: Document, metrics: dict[tuple[int, int], list[Metric]]) -> dict[tuple[int, int], list[dict]]:
    """The fact columns of every metric, keyed like the metrics: (article ordinal, paragraph ordinal)."""
    if not any(metrics.values()):
        return {}
    gaz = gazetteer()
    issue = document.issue.date
    out: dict[tuple[int, int], list[dict]] = {}
    for a in document.articles:
        place: Place | None = None
        looked = False
        for p in a.paragraphs:
            found = metrics.get((a.ordinal, p.ordinal))
            if not found:
                continue
            if not looked:  # once per article, and only for one with figures
                place, looked = article_place(_body_start(a), a.title, gaz), True
            out[(a.ordinal, p.ordinal)] = metric_facts(p.text, found, issue, place, gaz)
    return out
