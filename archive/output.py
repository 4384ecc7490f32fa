"""Rendering rows for the terminal and for other programs: table, csv, json, jsonl."""

from __future__ import annotations

import io
import unicodedata

TYPE_CHECKING = False  # typing.TYPE_CHECKING without `import typing` (~2 ms of a read command's start)
if TYPE_CHECKING:
    from decimal import Decimal
    from typing import Any, Sequence

FORMATS = ("table", "csv", "json")


def decimal_number(v: Decimal) -> int | float | str:
    """A Decimal as an int when whole, else as its shortest exact decimal string's float."""
    n = v.normalize()
    if n == n.to_integral_value():
        return int(n)
    return float(n) if len(n.as_tuple().digits) <= 15 else str(n)


def width(s: str) -> int:
    """Display width in a terminal: CJK and full-width characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _cell(v: Any, limit: int | None = 40) -> str:
    """The cell's text; past `limit` columns, its longest start that fits in limit - 1 columns, then "…".
    One pass that stops past the limit (a snippet or paragraph may be thousands of characters)."""
    s = "" if v is None else str(v).replace("\n", " ")
    if limit:
        used, fits = 0, len(s)
        for i, c in enumerate(s):
            used += 2 if unicodedata.east_asian_width(c) in "WF" else 1
            if used > limit - 1 and fits == len(s):
                fits = i  # s[:i] is the longest start within limit - 1 columns
            if used > limit:
                return s[:fits] + "…"
    return s


def table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "(no rows)\n"
    columns = list(columns or rows[0].keys())
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(width(c), *(width(row[i]) for row in cells)) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - width(v)) for v, w in zip(values, widths)).rstrip()

    out = [line(columns), line(["-" * w for w in widths])] + [line(row) for row in cells]
    return "\n".join(out) + "\n"


def to_csv(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    import csv

    buf = io.StringIO()
    if not rows and not columns:
        return ""
    columns = list(columns or rows[0].keys())
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return buf.getvalue()


def to_json(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def render(rows: Sequence[dict], fmt: str, columns: Sequence[str] | None = None) -> str:
    if fmt == "csv":
        return to_csv(rows, columns)
    if fmt == "json":
        return to_json(list(rows))
    return table(rows, columns)
