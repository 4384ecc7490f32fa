"""The schema's string lengths, checked on a parsed document before any of it reaches the database.

PostgreSQL and MariaDB refuse a string longer than its column and SQLite stores it: checking here makes
every engine refuse the same file, naming the line it came from, instead of failing mid-transaction.
Every bounded string column is checked against the attribute of the same name, so a column added to the
models is covered without touching this file.
"""

from __future__ import annotations

from sqlalchemy import String, Table

from archive.document import Document, ParseError
from archive.models import Article, ArticleAuthor, Issue, Metric, Newspaper, Paragraph, Section


def _check(obj, table: Table, where: str, line: int) -> None:
    for column in table.columns:
        limit = getattr(column.type, "length", None) if isinstance(column.type, String) else None
        value = getattr(obj, column.name, None) if limit else None
        if isinstance(value, str) and len(value) > limit:
            raise ParseError(line, f"{where}: {column.name} has {len(value)} characters, more than the {limit} stored")


def _first_line(paragraphs, default: int) -> int:
    return paragraphs[0].line_start if paragraphs else default


def check_document(doc: Document) -> None:
    """Raise ParseError(line, reason) for the first string of `doc` too long for its column."""
    _check(doc.newspaper, Newspaper.__table__, "newspaper", 1)
    _check(doc.issue, Issue.__table__, "issue", 1)
    for a in doc.articles:
        where, line = f"article {a.ordinal}", _first_line(a.paragraphs, 1)
        _check(a, Article.__table__, where, line)
        for c in a.contributors:
            _check(c, ArticleAuthor.__table__, f"{where}: contributor", line)
        for s in a.sections:
            _check(s, Section.__table__, f"{where}: section {s.ordinal}", _first_line(s.paragraphs, line))
        for p in a.paragraphs:
            _check(p, Paragraph.__table__, f"{where}: paragraph {p.ordinal}", p.line_start)


def check_metrics(doc: Document, metrics: dict) -> None:
    """The same for the metrics extracted from each paragraph, keyed (article ordinal, paragraph ordinal)."""
    for a in doc.articles:
        for p in a.paragraphs:
            for m in metrics.get((a.ordinal, p.ordinal), ()):
                _check(m, Metric.__table__, f"article {a.ordinal}: paragraph {p.ordinal}: metric {m.ordinal}", p.line_start)
