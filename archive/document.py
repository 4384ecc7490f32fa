"""The parsed document: plain frozen dataclasses, the hand-over between parser and loader."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


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


class ParseError(Exception):
    """The text is not in a layout the parser knows. Carries the 1-based line where it went wrong."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason
