"""The schema's string lengths, checked on a parsed document before any of it reaches the database.

PostgreSQL and MariaDB refuse a string longer than its column and SQLite stores it: checking here makes
every engine refuse the same file, naming the line it came from, instead of failing mid-transaction.
"""

from __future__ import annotations

from sqlalchemy import String, Table

from archive.document import Document, ParseError
from archive.models import Article, ArticleAuthor, Issue, Metric, Newspaper, Paragraph, Section


def _check(obj, table: Table, line: int) -> None:
    """Every bounded string column of `table` that `obj` has an attribute for fits its length."""
    for column in table.columns:
        limit = getattr(column.type, "length", None) if isinstance(column.type, String) else None
        value = getattr(obj, column.name, None) if limit else None
        if isinstance(value, str) and len(value) > limit:
            raise ParseError(
                line, f"{table.name}.{column.name} would be {len(value):,} characters, more than the {limit} it holds: {value[:20]!r}…"
            )


def check_document(doc: Document, metrics: dict) -> None:
    """Raise ParseError(line, reason) for the first string in `doc` or its metrics too long to store."""
    _check(doc.newspaper, Newspaper.__table__, 1)
    _check(doc.issue, Issue.__table__, 1)
    for article in doc.articles:
        first = article.paragraphs[0].line_start if article.paragraphs else 1
        _check(article, Article.__table__, first)
        for contributor in article.contributors:
            _check(contributor, ArticleAuthor.__table__, first)
        for section in article.sections:
            _check(section, Section.__table__, section.paragraphs[0].line_start if section.paragraphs else first)
        for p in article.paragraphs:
            _check(p, Paragraph.__table__, p.line_start)
            for m in metrics.get((article.ordinal, p.ordinal), ()):
                _check(m, Metric.__table__, p.line_start)
