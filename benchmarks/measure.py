"""What every benchmark shares: a result row, the table it prints in, and the machine it ran on."""

from __future__ import annotations

import os
import platform
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

MB = 1_000_000


@dataclass
class Row:
    """One figure: its value, the floor it is judged against (same unit), and the target it must meet.

    `ratio` is value/floor for costs (seconds, MB) and floor/value for rates, so it always reads as
    "times slower (or bigger) than the floor"; `ok` is None when there is no target.
    """

    group: str
    name: str
    value: float | None
    unit: str
    floor: float | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""


def rate_ratio(value: float, floor: float) -> float | None:
    return floor / value if value else None


def fmt(x: float | None) -> str:
    if x is None:
        return "—"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def render(rows: list[Row]) -> str:
    header = ("group", "measure", "value", "unit", "floor", "× floor", "target", "verdict", "note")
    body = [
        (
            r.group,
            r.name,
            fmt(r.value),
            r.unit,
            fmt(r.floor),
            fmt(r.ratio),
            r.target,
            {True: "ok", False: "MISSED", None: ""}[r.ok],
            r.note,
        )
        for r in rows
    ]
    widths = [max(_width(x) for x in col) for col in zip(header, *body)]
    lines = [" | ".join(_pad(c, w) for c, w in zip(row, widths)).rstrip() for row in (header, *body)]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(rows: list[Row]) -> str:
    header = "| group | measure | value | unit | floor | × floor | target | verdict | note |"
    out = [header, "|" + "---|" * 9]
    for r in rows:
        verdict = {True: "ok", False: "**MISSED**", None: ""}[r.ok]
        cells = (r.group, r.name, fmt(r.value), r.unit, fmt(r.floor), fmt(r.ratio), r.target, verdict, r.note)
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out)


def _width(s: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(c) > 0x2E7F else 1 for c in s)


def _pad(s: str, w: int) -> str:
    return s + " " * (w - _width(s))


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as t: ...` leaves the elapsed seconds in t[0]."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> str:
    """One paragraph on the hardware and software the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, ValueError, IndexError):
        pass
    import sqlalchemy

    return (
        f"{os.cpu_count()} cores ({cpu}), {mem} RAM, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, SQLAlchemy {sqlalchemy.__version__}; "
        f"load average at start {load_average()}"
    )


def child_env() -> dict:
    """The environment for a child Python: it must import this checkout's archive and benchmarks."""
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
