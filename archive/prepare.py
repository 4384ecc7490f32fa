"""The pure half of loading: a file's bytes to a parsed document with its metrics. No database here.

Runs in worker processes, so everything it returns is plain picklable data.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field, replace
from datetime import date
from operator import attrgetter
from typing import NamedTuple

from archive.columns import METRIC_DATES, METRIC_FIELDS, METRIC_NUMERIC
from archive.decode import DecodeError, decode
from archive.facts import FACT_COLUMNS, document_facts
from archive.document import Document, ParseError
from archive.errors import InputError
from archive.formats import parse_text
from archive.formats.metadata import Metadata
from archive.inputs import path_text
from archive.limits import check_metrics, storable_metrics
from archive.searchtext import token_text
from archive.metrics import Metric, extract_metrics

PARSER_VERSION = "1"
# A newspaper page is tens of kilobytes; anything this large is not one page, and it is refused
# before it is read (it would also exceed MariaDB's default 16 MB max_allowed_packet).
MAX_FILE_BYTES = 8 * 1024 * 1024


class FileError(InputError):
    """A file that cannot be loaded; str() is the one-line `path:line: reason` users see."""

    def __init__(self, path: str, line: int, reason: str, format: str | None = None):
        # all fields in args: a worker process sends it back pickled, and unpickling calls __init__(*args)
        super().__init__(path, line, reason, format)
        self.path = path
        self.line = line
        self.reason = reason
        self.format = format  # the format the file was read as, when parsing got that far

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Parsed:
    """A document and the metrics of each paragraph, keyed by (article ordinal, paragraph ordinal)."""

    document: Document
    metrics: dict[tuple[int, int], list[Metric]]
    format: str
    # Search-index token text of every text index_texts lists, in its order: made here, in the parser
    # workers, so that the single writer only inserts it.
    index_tokens: tuple[str, ...] = ()
    # Each metric's resolved columns (when, where, base unit, series: archive/facts.py), keyed and
    # ordered like `metrics`.
    facts: dict[tuple[int, int], list[dict]] = field(default_factory=dict)


# The columns of each table's rows in Rows, ids and parent ids left out (the writer hands those out).
NEWSPAPER_COLUMNS = ("name", "cn_serial", "postal_code", "website", "email", "hotline")
ISSUE_COLUMNS = ("date", "weekday", "number")
ARTICLE_COLUMNS = ("ordinal", "title", "subtitle", "byline", "kicker", "page", "page_name", "source_url",
                   "char_count", "paragraph_count")
AUTHOR_COLUMNS = ("ordinal", "role", "name")
SECTION_COLUMNS = ("ordinal", "heading")
PARAGRAPH_COLUMNS = ("ordinal", "lead", "text", "char_count", "line_start", "line_end")
METRIC_COLUMNS = (*METRIC_FIELDS, *FACT_COLUMNS)
_metric_values = attrgetter(*METRIC_FIELDS)  # a Metric's values in METRIC_FIELDS' order, as one tuple


class Rows(NamedTuple):
    """A parsed document as the rows the loader inserts, in plain tuples: what a worker process sends the
    writer. Pickling the document's object graph cost the writer more than building these rows costs a
    worker (docs/benchmarks.md). Each child row starts with the index of its parent in its parent's list."""

    newspaper: tuple  # NEWSPAPER_COLUMNS
    issue: tuple  # ISSUE_COLUMNS
    articles: list[tuple]  # ARTICLE_COLUMNS
    authors: list[tuple]  # (article index, AUTHOR_COLUMNS)
    sections: list[tuple]  # (article index, SECTION_COLUMNS)
    paragraphs: list[tuple]  # (section index, PARAGRAPH_COLUMNS), in section order
    metrics: list[tuple]  # (paragraph index, METRIC_COLUMNS)
    index_fields: list[tuple[str, int]]  # index_texts' (field, position), their texts left out
    index_tokens: tuple[str, ...]  # the token text of each
    format: str
    without_body: int
    # True when the metric rows' NUMERIC and DATE values are already as SQLite stores them (sqlite_values)
    sqlite_values: bool = False


# Where a metric row (METRIC_COLUMNS) holds NUMERIC and DATE values.
_NUMERIC_AT = tuple(METRIC_COLUMNS.index(c) for c, _, _ in METRIC_NUMERIC)
_DATE_AT = tuple(METRIC_COLUMNS.index(c) for c in METRIC_DATES)
_iso_date = date.isoformat  # YYYY-MM-DD, of a datetime too: SQLAlchemy's SQLite DATE keeps the date's fields alone


def sqlite_values(row: tuple) -> tuple:
    """A metric row (METRIC_COLUMNS) with its values as the loader's SQLite driver takes them, made
    here in the parser workers rather than by SQLAlchemy's bind processors in the single writer:
    NUMERIC as float (SQLAlchemy's Numeric on SQLite: float(value)), DATE as YYYY-MM-DD text
    (its SQLite DATE format). tests/test_types.py checks them against the processors themselves."""
    out = list(row)
    for i in _NUMERIC_AT:
        x = out[i]
        if x is not None:
            out[i] = float(x)
    for i in _DATE_AT:
        x = out[i]
        if x is not None:
            out[i] = _iso_date(x)
    return tuple(out)


def rows_of(parsed: Parsed) -> Rows:
    """The rows of a parsed document; its token text made here when the Parsed came without it."""
    doc = parsed.document
    paper, issue = doc.newspaper, doc.issue
    articles: list[tuple] = []
    authors: list[tuple] = []
    sections: list[tuple] = []
    paragraphs: list[tuple] = []
    metrics: list[tuple] = []
    no_facts = (None,) * len(FACT_COLUMNS)
    for a_index, a in enumerate(doc.articles):
        body = a.paragraphs
        articles.append((a.ordinal, a.title, a.subtitle, a.byline, a.kicker, a.page, a.page_name, a.source_url,
                         sum(len(p.text) for p in body), len(body)))
        authors += [(a_index, (i, c.role, c.name)) for i, c in enumerate(a.contributors, start=1)]
        for s in a.sections:
            s_index = len(sections)
            sections.append((a_index, (s.ordinal, s.heading)))
            for p in s.paragraphs:
                p_index = len(paragraphs)
                paragraphs.append((s_index, (p.ordinal, p.lead, p.text, len(p.text), p.line_start, p.line_end)))
                found = parsed.metrics.get((a.ordinal, p.ordinal))
                if not found:
                    continue
                facts = parsed.facts.get((a.ordinal, p.ordinal))
                for i, m in enumerate(found):
                    cols = tuple(facts[i][c] for c in FACT_COLUMNS) if facts else no_facts
                    metrics.append((p_index, _metric_values(m) + cols))
    entries = index_texts(doc)
    tokens = parsed.index_tokens
    if len(tokens) != len(entries):
        tokens = tuple(token_text(t) for _, _, t in entries)
    return Rows(
        (paper.name, paper.cn_serial, paper.postal_code, paper.website, paper.email, paper.hotline),
        (issue.date, issue.weekday, issue.number),
        articles, authors, sections, paragraphs, metrics,
        [(f, i) for f, i, _ in entries], tokens, parsed.format, doc.without_body,
    )


@dataclass(frozen=True)
class Prepared:
    path: str
    sha256: str
    byte_count: int
    encoding: str
    text: str
    parsed: Parsed | None  # None once flattened: `rows` holds it
    meta: Metadata | None = None  # what the options and file name said about this file
    rows: Rows | None = None

    def _parsed_document(self) -> Parsed:
        """`parsed`, which is set whenever `rows` is not (flat() sets the one as it clears the other)."""
        assert self.parsed is not None, "a Prepared holds its parsed document or its rows"
        return self.parsed

    def table_rows(self) -> Rows:
        return self.rows if self.rows is not None else rows_of(self._parsed_document())

    @property
    def format(self) -> str:
        return self.rows.format if self.rows is not None else self._parsed_document().format

    @property
    def without_body(self) -> int:
        return self.rows.without_body if self.rows is not None else self._parsed_document().document.without_body

    def flat(self, sqlite: bool = False) -> Prepared:
        """This file as a worker sends it to the writer: rows, not the document's objects; with
        `sqlite`, for a SQLite writer (its metric rows' values as SQLite stores them: sqlite_values)."""
        rows = self.table_rows()
        if sqlite and not rows.sqlite_values:
            rows = rows._replace(metrics=[(p, sqlite_values(m)) for p, m in rows.metrics], sqlite_values=True)
        return replace(self, parsed=None, rows=rows)


def parse_document(text: str, fmt: str | None = None, meta: Metadata | None = None) -> Parsed:
    """Parse text (format chosen automatically unless given) and extract every paragraph's metrics."""
    name, document = parse_text(text, fmt, meta)
    metrics = document_metrics(document)
    return Parsed(document, metrics, name, index_tokens(document), document_facts(document, metrics))


def index_texts(document: Document) -> list[tuple[str, int, str]]:
    """What the search index holds of a document, in a fixed order: (field, position, text), position
    counting articles (title, subtitle, kicker), sections (heading) or paragraphs through the document.
    The loader pairs the positions with the ids it hands out (archive.searchquery.stored_docs reads the
    same texts back from the database)."""
    out: list[tuple[str, int, str]] = []
    sections = [s for a in document.articles for s in a.sections]
    paragraphs = [p for a in document.articles for p in a.paragraphs]
    for i, a in enumerate(document.articles):
        out.append(("title", i, a.title))
        out += [(f, i, v) for f, v in (("subtitle", a.subtitle), ("kicker", a.kicker)) if v]
    out += [("heading", i, s.heading) for i, s in enumerate(sections) if s.heading]
    out += [("paragraph", i, p.text) for i, p in enumerate(paragraphs)]
    return out


def index_tokens(document: Document) -> tuple[str, ...]:
    return tuple(token_text(t) for _, _, t in index_texts(document))


def document_metrics(document: Document) -> dict[tuple[int, int], list[Metric]]:
    """Every paragraph's metrics, keyed by (article ordinal, paragraph ordinal)."""
    metrics = {
        (article.ordinal, p.ordinal): storable_metrics(extract_metrics(p.text))
        for article in document.articles
        for p in article.paragraphs
    }
    check_metrics(document, metrics)
    return metrics


def prepare_bytes(
    path: str, data: bytes, encoding: str | None = None, fmt: str | None = None, meta: Metadata | None = None
) -> Prepared:
    """Decode and parse one file's bytes; raise FileError(path, line, reason) on anything unusable.

    `meta` is what the user said about the files (options, file-name pattern), read against `path`."""
    meta = meta.for_path(path) if meta else None
    try:
        decoded = decode(data, encoding)
        parsed = parse_document(decoded.text, fmt, meta)
    except DecodeError as exc:
        raise FileError(path, exc.line, exc.reason) from None
    except ParseError as exc:
        raise FileError(path, exc.line, exc.reason, exc.format) from None
    return Prepared(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        byte_count=len(data),
        encoding=decoded.encoding,
        text=decoded.text,
        parsed=parsed,
        meta=meta,
    )


def prepare_file(path: str, encoding: str | None = None, fmt: str | None = None, meta: Metadata | None = None) -> Prepared:
    """Read and prepare the file at the file system path `path`; the Prepared and any FileError name it
    as the archive stores it (inputs.path_text: a name that is not UTF-8 is escaped, never an error)."""
    name = path_text(path)
    try:
        # O_NONBLOCK: a FIFO opens at once instead of waiting for a writer, and is then refused
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise FileError(name, 1, "not a regular file (a FIFO, socket or device is not read)")
            if info.st_size > MAX_FILE_BYTES:
                raise FileError(name, 1, f"file is {info.st_size:,} bytes, more than the {MAX_FILE_BYTES:,} a page can be")
            data = f.read()
    except OSError as exc:
        raise FileError(name, 1, f"cannot read: {exc.strerror or exc}") from None
    return prepare_bytes(name, data, encoding, fmt, meta)
