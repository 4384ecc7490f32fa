"""What the user says about files that do not say it themselves: --newspaper, --date, --page, --name-pattern.

A format takes from here only what its file lacks; per file, fields read from the file's name under
the pattern win over the options given for the whole run.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Literal, overload

import parse as parselib

from archive.document import ParseError
from archive.errors import InputError

PATTERN_FIELDS = ("newspaper", "date", "page", "page_name", "ordinal")


class NamePatternError(InputError):
    """A --name-pattern that cannot be used (unknown field, bad syntax)."""


@functools.lru_cache(maxsize=16)
def compile_pattern(pattern: str) -> parselib.Parser:
    try:
        parser = parselib.compile(pattern)
    except (ValueError, KeyError) as exc:
        raise NamePatternError(f"bad --name-pattern {pattern!r}: {exc}") from None
    unknown = set(parser.named_fields) - set(PATTERN_FIELDS)
    if unknown or parser.fixed_fields or not parser.named_fields:
        raise NamePatternError(
            f"bad --name-pattern {pattern!r}: fields must be named, one of {', '.join(PATTERN_FIELDS)}"
            + (f" (not {', '.join(sorted(unknown))})" if unknown else "")
        )
    return parser


@dataclass(frozen=True)
class Metadata:
    newspaper: str | None = None
    date: dt.date | None = None
    page: str | None = None
    page_name: str | None = None
    ordinal: int | None = None
    name_pattern: str | None = None
    # Set by for_path when the file's name did not match name_pattern, to say so in errors.
    unmatched_name: str | None = None

    def __post_init__(self) -> None:
        if self.page is not None:
            object.__setattr__(self, "page", normalise_page(self.page))

    def for_path(self, path: str) -> Metadata:
        """These options with the fields that the file's name gives under name_pattern filled in."""
        if not self.name_pattern:
            return self
        parser = compile_pattern(self.name_pattern)
        depth = self.name_pattern.count("/") + 1
        tail = "/".join(PurePath(path).parts[-depth:])
        found = parser.parse(tail)
        if found is None:
            return replace(self, unmatched_name=tail)
        values = {k: v for k, v in found.named.items() if v not in (None, "")}
        if isinstance(values.get("date"), str):
            try:
                values["date"] = dt.date.fromisoformat(values["date"])
            except ValueError:
                return replace(self, unmatched_name=tail)
        if isinstance(values.get("date"), dt.datetime):
            values["date"] = values["date"].date()
        if "ordinal" in values:
            try:
                values["ordinal"] = int(values["ordinal"])
            except ValueError:
                return replace(self, unmatched_name=tail)
        if "page" in values:
            values["page"] = str(values["page"])
        return replace(self, **values)

    def to_json(self) -> str | None:
        """The per-file values (not the pattern) as JSON, kept with the source so reparse sees them again."""
        values = {k: getattr(self, k) for k in PATTERN_FIELDS if getattr(self, k) is not None}
        if "date" in values:
            values["date"] = values["date"].isoformat()
        return json.dumps(values, ensure_ascii=False, sort_keys=True) if values else None

    @classmethod
    def from_json(cls, text: str | None) -> Metadata | None:
        if not text:
            return None
        values = json.loads(text)
        if "date" in values:
            values["date"] = dt.date.fromisoformat(values["date"])
        return cls(**values)

    @overload
    def require(self, field: Literal["newspaper", "page", "page_name"], line: int = 1) -> str: ...
    @overload
    def require(self, field: Literal["date"], line: int = 1) -> dt.date: ...
    def require(self, field: str, line: int = 1) -> object:
        """The value of `field`, or a ParseError saying how to supply it."""
        value = getattr(self, field)
        if value is not None:
            return value
        option = "--" + field.replace("_", "-")
        hint = f"give {option} or a --name-pattern with {{{field}}}"
        if self.unmatched_name:
            hint += f"; file name {self.unmatched_name!r} does not match --name-pattern {self.name_pattern!r}"
        raise ParseError(line, f"the file does not say its {field.replace('_', ' ')}: {hint}")


def normalise_page(page: str) -> str:
    """A page number as printed without zero padding: 第03版 and 03 -> 3, A03 -> A3."""
    page = page.strip()
    head = page.rstrip("0123456789")
    digits = page[len(head):]
    return head + (str(int(digits)) if digits else "")


SOURCE_PAPER = re.compile(r"《\s*([^》]{2,30}?)\s*》|(?:来源|出处|刊于)\s*[:：]\s*([^\s《》（）()，,]{2,30}?)(?=\s|\d|[（(，,]|$)")
SOURCE_DATE = re.compile(r"(\d{4})\s*(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|-(\d{1,2})-(\d{1,2}))")
SOURCE_PAGE = re.compile(r"(?:第\s*([A-Za-z]?\d{1,3})\s*版|([A-Za-z]?\d{1,3})\s*版)")
URL = re.compile(r"https?://[^\s）)》]+", re.IGNORECASE)


def source_line(text: str) -> dict:
    """What a source line says (`《人民日报》（2020年05月21日 第11版）`, `来源：江城晚报 2021-03-05`):
    newspaper, date, page, source_url — each only when present."""
    found: dict = {}
    if m := SOURCE_PAPER.search(text):
        found["newspaper"] = (m.group(1) or m.group(2)).strip()
    if m := SOURCE_DATE.search(text):
        year, month, day = m.group(1), m.group(2) or m.group(4), m.group(3) or m.group(5)
        try:
            found["date"] = dt.date(int(year), int(month), int(day))
        except ValueError:
            pass
    if m := SOURCE_PAGE.search(text):
        found["page"] = normalise_page(m.group(1) or m.group(2))
    if m := URL.search(text):
        found["source_url"] = m.group(0)
    return found
