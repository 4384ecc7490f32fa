"""The schema's string lengths, checked on a parsed document before any of it reaches the database.

PostgreSQL and MariaDB refuse a string longer than its column and SQLite stores it: checking here makes
every engine refuse the same file, naming the line it came from, instead of failing mid-transaction.
Every bounded string column is checked against the attribute of the same name; the lengths come from
archive.columns, which a test holds equal to the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from decimal import Decimal
from typing import TypeVar

from archive.columns import METRIC_NUMERIC, STRING_LENGTHS
from archive.document import Document, Paragraph, ParseError
from archive.facts import unit_factor
from archive.metrics import Metric


def _check(obj: object, table: str, where: str, line: int, bounds: tuple[tuple[str, int], ...] | None = None) -> None:
    for name, limit in STRING_LENGTHS[table] if bounds is None else bounds:
        value = getattr(obj, name, None)
        if isinstance(value, str) and len(value) > limit:
            raise ParseError(line, f"{where}: {name} has {len(value)} characters, more than the {limit} stored")


def _first_line(paragraphs: Sequence[Paragraph], default: int) -> int:
    return paragraphs[0].line_start if paragraphs else default


def check_document(doc: Document) -> None:
    """Raise ParseError(line, reason) for the first string of `doc` too long for its column."""
    _check(doc.newspaper, 'newspaper', "newspaper", 1)
    _check(doc.issue, 'issue', "issue", 1)
    for a in doc.articles:
        where, line = f"article {a.ordinal}", _first_line(a.paragraphs, 1)
        _check(a, 'article', where, line)
        for c in a.contributors:
            _check(c, 'article_author', f"{where}: contributor", line)
        for s in a.sections:
            _check(s, 'section', f"{where}: section {s.ordinal}", _first_line(s.paragraphs, line))
        for p in a.paragraphs:
            _check(p, 'paragraph', f"{where}: paragraph {p.ordinal}", p.line_start)


def check_metrics(doc: Document, metrics: dict) -> None:
    """The same for the metrics extracted from each paragraph, keyed (article ordinal, paragraph ordinal)."""
    for a in doc.articles:
        for p in a.paragraphs:
            for m in metrics.get((a.ordinal, p.ordinal), ()):
                _check(m, 'metric', f"article {a.ordinal}: paragraph {p.ordinal}: metric {m.ordinal}", p.line_start,
                       _held_by(type(m), STRING_LENGTHS["metric"]))


_B = TypeVar("_B")
_FIELD_NAMES: dict[type, frozenset[str] | None] = {}


def _field_names(cls: type) -> frozenset[str] | None:
    """The dataclass fields of `cls` (None for any other class), looked up once per class."""
    if cls not in _FIELD_NAMES:
        _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls)) if is_dataclass(cls) else None
    return _FIELD_NAMES[cls]

_NUMERIC_BOUNDS = tuple((name, Decimal(10) ** (precision - scale)) for name, precision, scale in METRIC_NUMERIC)
_BASE_BOUND = dict(_NUMERIC_BOUNDS)["value_base"]


def _held_by(cls: type, bounds: tuple[tuple[str, _B], ...]) -> tuple[tuple[str, _B], ...]:
    """The bounds of the columns `cls` has an attribute for: the metric table's other columns (time,
    place, base value…) are filled from archive.facts, not from the extractor's Metric, so checking
    them on each metric could never fail."""
    names = _field_names(cls)
    return bounds if names is None else tuple(b for b in bounds if b[0] in names)


def storable_metrics(metrics: list[Metric]) -> list[Metric]:
    """The metrics whose numbers fit their columns (NUMERIC(38,10): below 10**28).

    A number that large (`10000000000000000000000000000000亿元`) is no quantity anyone measured, and
    PostgreSQL ("numeric field overflow") and MariaDB ("Out of range value") would refuse the whole
    page for it while SQLite stored it: it is not a metric, on every engine, and the page loads."""
    if not metrics:
        return metrics
    bounds = _held_by(type(metrics[0]), _NUMERIC_BOUNDS)
    return [m for m in metrics if all(_fits(getattr(m, name, None), bound) for name, bound in bounds) and _base_fits(m)]


def _base_fits(m: Metric) -> bool:
    """value_base (the value in its family's base unit: 平方公里 -> 平方米) fits its column too:
    9000万亿亿平方公里 fits `value` but not, times a million, `value_base`."""
    factor = unit_factor(m.unit)
    return factor == 1 or _fits(m.value * factor, _BASE_BOUND)


def _fits(value: Decimal | None, bound: Decimal) -> bool:
    return value is None or (value.is_finite() and abs(value) < bound)
