"""The read commands' bodies (stats, issues, articles, show, metrics, search): a bind and the options in,
the text the command prints out. Neither click nor SQLAlchemy: `archive.cli` runs them under click, and
`archive.launch` runs their usual forms without it (docs/benchmarks.md, session 7)."""

from __future__ import annotations

import datetime as dt
from archive.output import render, to_json

TYPE_CHECKING = False  # typing.TYPE_CHECKING without `import typing`
if TYPE_CHECKING:
    from archive.readdb import Bind


def stats(bind: Bind, fmt: str) -> str:
    from archive import queries

    data = queries.stats(bind)
    if fmt == "json":
        return to_json(data)
    return (
        render([{"table": k, "rows": v} for k, v in data["rows"].items()], "table")
        + f"newspapers: {', '.join(data['newspapers']) or '-'}\n"
        + f"issues from {data['first_issue'] or '-'} to {data['last_issue'] or '-'}\n"
    )


def issues(bind: Bind, newspaper: str | None, fmt: str) -> str:
    from archive import queries

    return render(queries.list_issues(bind, newspaper), fmt)


def articles(bind: Bind, date: dt.date | None, date_from: dt.date | None, date_to: dt.date | None,
             newspaper: str | None, limit: int | None, fmt: str) -> str:
    from archive import queries

    return render(queries.list_articles(bind, date, newspaper, date_from=date_from, date_to=date_to, limit=limit), fmt)


def show(bind: Bind, article_id: int, fmt: str) -> str:
    from archive import queries

    doc = queries.article_document(bind, article_id)
    return to_json(doc) if fmt == "json" else queries.article_text(doc)


def metrics(bind: Bind, unit: str | None, kind: str | None, subject: str | None, subject_key: str | None,
            newspaper: str | None, date_from: dt.date | None, date_to: dt.date | None, limit: int | None, fmt: str) -> str:
    from archive import queries

    rows = queries.list_metrics(
        bind, unit=unit, kind=kind, subject=subject, subject_key=subject_key, newspaper=newspaper,
        date_from=date_from, date_to=date_to, limit=limit,
    )
    return render(rows, fmt)


def search(bind: Bind, query: str, newspaper: str | None, date_from: dt.date | None, date_to: dt.date | None,
           limit: int, offset: int, order: str, fmt: str) -> str:
    from archive import search as search_mod

    filters = search_mod.Filters(newspaper=newspaper, date_from=date_from, date_to=date_to)
    found = search_mod.search(bind, query, filters=filters, limit=limit, offset=offset, order=order)
    return search_mod.render_hits(found, fmt)
