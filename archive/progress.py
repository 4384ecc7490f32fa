"""A one-line progress bar for a terminal: files done, percent, time left; messages print above it.

click's bar estimates time left from the time since it was made, sampled once a second and averaged
over seven samples: the seconds a load spends starting its parser processes before the first file
arrives were taken for the pace of every file, so the first estimates were hours for a minute's work.
Here the pace is measured from the first file done, and nothing is guessed before there is a pace.
"""

from __future__ import annotations

import time
from typing import Callable, TextIO

CLEAR_LINE = "\r\x1b[K"


class Progress:
    def __init__(self, total: int, label: str, file: TextIO, clock: Callable[[], float] = time.monotonic, width: int = 30):
        self.total, self.label, self.file, self.clock, self.width = total, label, file, clock, width
        self.done = 0
        self._first: tuple[float, int] | None = None  # (when, how many) at the first update

    def eta(self) -> float | None:
        """Seconds left at the pace since the first file was done; None until that pace is known."""
        if self._first is None:
            return None
        since, at = self._first
        elapsed, count = self.clock() - since, self.done - at
        if count <= 0 or elapsed <= 0:
            return None
        return (self.total - self.done) * elapsed / count

    def line(self) -> str:
        filled = self.width * self.done // self.total if self.total else self.width
        percent = 100 * self.done // self.total if self.total else 100
        eta = self.eta()
        left = "--:--" if eta is None else _clock_time(eta)
        return f"{self.label} [{'#' * filled}{'-' * (self.width - filled)}] {self.done}/{self.total} {percent:3d}%  eta {left}"

    def update(self, n: int = 1) -> None:
        if self._first is None:
            self._first = (self.clock(), self.done + n)
        self.done += n
        self._draw()

    def message(self, text: str) -> None:
        """Print a line above the bar (not through it), then draw the bar again below it."""
        self.file.write(f"{CLEAR_LINE}{text}\n")
        self._draw()

    def start(self) -> None:
        self._draw()

    def close(self) -> None:
        self.file.write(CLEAR_LINE)
        self.file.flush()

    def _draw(self) -> None:
        self.file.write(CLEAR_LINE + self.line())
        self.file.flush()


def _clock_time(seconds: float) -> str:
    s = int(seconds + 0.5)
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"
