"""Placeholder until the metric extractor lands (branch `metrics`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Metric:
    ordinal: int
    surface: str
    char_start: int
    char_end: int
    value: Decimal
    value_high: Decimal | None
    unit: str
    qualifier: str
    kind: str
    subject: str | None
    condition: str | None
    as_of: str | None
    period: str | None
    direction: str | None
    basis: str | None


def extract_metrics(text: str) -> list[Metric]:
    return []
