"""The parsed document: plain frozen dataclasses, the hand-over between parser and loader."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from typing import Iterator

from archive.errors import InputError


@dataclass(frozen=True)
class NewspaperInfo:
    name: str
    cn_serial: str | None = None
    postal_code: str | None = None
    website: str | None = None
    email: str | None = None
    hotline: str | None = None


@dataclass(frozen=True)
class IssueInfo:
    date: dt.date
    weekday: str | None = None
    number: int | None = None


@dataclass(frozen=True)
class Contributor:
    role: str | None
    name: str


@dataclass(frozen=True)
class Paragraph:
    ordinal: int
    text: str
    line_start: int
    line_end: int
    lead: str | None = None


@dataclass(frozen=True)
class Section:
    ordinal: int
    heading: str | None
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Article:
    ordinal: int
    title: str
    subtitle: str | None
    byline: str | None
    contributors: tuple[Contributor, ...]
    sections: tuple[Section, ...]
    # Known only to some formats: the 引题 above the title, the page (版次) and its name (版名), the URL
    # a crawl saved it from.
    kicker: str | None = None
    page: str | None = None
    page_name: str | None = None
    source_url: str | None = None

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [p for s in self.sections for p in s.paragraphs]


@dataclass(frozen=True)
class Document:
    newspaper: NewspaperInfo
    issue: IssueInfo
    articles: tuple[Article, ...] = field(default_factory=tuple)

    @property
    def without_body(self) -> int:
        """Articles that are a title alone (an advertisement, a photo): stored, and counted apart."""
        return sum(1 for a in self.articles if not a.paragraphs)


class ParseError(InputError):
    """The text is not in a layout the parser knows: the 1-based line where it went wrong, why, and the
    format that refused it (set by `refused_as`; None for a refusal before any format read the text)."""

    def __init__(self, line: int, reason: str, format: str | None = None):
        super().__init__(line, reason, format)  # every field in args: it pickles whole
        self.line = line
        self.reason = reason
        self.format = format

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@contextlib.contextmanager
def refused_as(fmt: str) -> Iterator[None]:
    """Name `fmt` as the format of every ParseError raised inside that names none yet; also a decorator,
    `@refused_as(NAME)` on a format's parse, so that helpers shared by formats need not know the caller."""
    try:
        yield
    except ParseError as exc:
        if exc.format is None:
            exc.format = fmt
        raise
