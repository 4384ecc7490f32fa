"""Readers over v_fact: one measure's figures in time order, the measures there are, and a picture.

A series reads v_fact, not v_series: a figure restated in several articles is one point.
"""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal
from pathlib import Path

from sqlalchemy import ColumnElement, Connection, Date, Integer, column, func, select, table

from archive.errors import UnavailableError
from archive.models import Metric
from archive.output import decimal_number

_COLUMNS = ("measure", "place", "place_level", "ref_start", "ref_end", "ref_precision", "value_base",
            "unit_base", "restated", "date", "newspaper", "article_id", "paragraph_id", "surface")
_TYPED = {**{c.name: c.type for c in Metric.__table__.columns}, "date": Date(), "article_id": Integer(),
          "paragraph_id": Integer(), "restated": Integer()}
# typed like the table columns they copy, so that SQLite's text dates and numbers come back as
# dates and exact decimals
V_FACT = table("v_fact", *(column(c, _TYPED.get(c)) for c in _COLUMNS), column("fact_key"))

SERIES_COLUMNS = ("measure", "place", "ref_start", "ref_end", "ref_precision", "value_base", "unit_base",
                  "restated", "date", "newspaper", "article_id", "paragraph_id")


class PlotUnavailable(UnavailableError):
    """matplotlib (the `plot` extra) is not installed."""


def _measure_filter(measure: str) -> ColumnElement[bool]:
    """A full key (新增确诊病例|count|patient_case) matches itself; a bare subject every measure of it."""
    c = V_FACT.c.measure
    return c == measure if "|" in measure else c.like(measure.replace("%", r"\%").replace("_", r"\_") + "|%", escape="\\")


def _plain(v: object) -> object:
    if isinstance(v, Decimal):
        return decimal_number(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def series(conn: Connection, measure: str, place: str | None = None,
           date_from: dt.date | None = None, date_to: dt.date | None = None) -> list[dict]:
    """Each fact of `measure` (a full key or a bare subject) once, in time order, optionally at one place
    and overlapping [date_from, date_to] (by the dates the figures hold for, not the issue dates)."""
    v = V_FACT.c
    q = select(*(v[c] for c in SERIES_COLUMNS)).where(_measure_filter(measure))
    if place:
        q = q.where(v.place == place)
    if date_from:
        q = q.where(v.ref_end >= date_from)
    if date_to:
        q = q.where(v.ref_start <= date_to)
    q = q.order_by(v.measure, v.place, v.ref_end, v.ref_start, v.date, v.article_id)
    return [{k: _plain(x) for k, x in r._mapping.items()} for r in conn.execute(q)]


def measures(conn: Connection, contains: str | None = None) -> list[dict]:
    """Every measure with its number of facts and printings, places and the span of dates it covers."""
    v = V_FACT.c
    q = select(
        v.measure,
        func.count().label("facts"),
        func.sum(v.restated).label("printings"),
        func.count(func.distinct(v.place)).label("places"),
        func.min(v.ref_start).label("first"),
        func.max(v.ref_end).label("last"),
    ).group_by(v.measure).order_by(func.count().desc(), v.measure)
    if contains:
        q = q.where(v.measure.contains(contains, autoescape=True))
    return [{k: _plain(x) for k, x in r._mapping.items()} for r in conn.execute(q)]


# CJK fonts tried in turn (matplotlib falls back glyph by glyph); without any, Chinese labels show boxes.
CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "DejaVu Sans"]


def plot(rows: list[dict], path: str | Path, title: str | None = None) -> Path:
    """Draw `series()` rows to a PNG or SVG file: points in time order, one line per measure and place."""
    try:
        import matplotlib
    except ImportError:
        raise PlotUnavailable("plotting needs matplotlib: pip install 'archive[plot]'") from None
    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot as plt

    path = Path(path)
    lines: dict[tuple, list[tuple[dt.date, float]]] = {}
    for r in rows:
        # a point at the day the figure holds to: a 截至 count on its day, a year at its last day
        when = dt.date.fromisoformat(r["ref_end"])
        lines.setdefault((r["measure"], r["place"] or "?", r["unit_base"]), []).append((when, float(r["value_base"])))
    measures_shown = {m for m, _, _ in lines}
    with warnings.catch_warnings(), matplotlib.rc_context({"font.sans-serif": CJK_FONTS, "font.family": "sans-serif"}):
        warnings.filterwarnings("ignore", message="Glyph .* missing")
        warnings.filterwarnings("ignore", message="findfont")
        units = sorted({u for _, _, u in lines})
        # one panel per base unit: 元 and % on one axis would flatten the smaller one
        fig, axes = plt.subplots(len(units) or 1, 1, figsize=(8, 3 + 1.5 * len(units)), squeeze=False)
        for (measure, place, unit), points in sorted(lines.items()):
            points.sort()
            ax = axes[units.index(unit)][0]
            label = place if len(measures_shown) == 1 else f"{measure} {place}"
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
            ax.set_ylabel(unit)
            ax.legend()
        axes[0][0].set_title(title or "、".join(sorted(measures_shown)))
        fig.autofmt_xdate()
        fig.savefig(path)
        plt.close(fig)
    return path
