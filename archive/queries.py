"""Readers: what the read commands show, built from the database alone.

Plain SQL text on any bind that runs it: the lean DB-API Reader (archive.readdb) the commands use, or a
SQLAlchemy session or connection. Values come back as the driver gives them (a SQLite date is its ISO
text, a SQLite NUMERIC a float) and are made the same on every engine here."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from archive import columns
from archive.errors import NotFound
from archive.output import decimal_number
from archive.readdb import text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without `import typing` (~2 ms of a read command's start)
if TYPE_CHECKING:
    from typing import Any

    from archive.readdb import Bind

TABLES = ("newspaper", "issue", "source", "source_path", "article", "article_author", "section", "paragraph", "metric")


def _iso(v: dt.date | str | None) -> str | None:
    return v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v


def _numeric(v: Decimal | float | None) -> Decimal | None:
    """A NUMERIC value as a Decimal on every engine (SQLite's driver gives a float: made as SQLAlchemy's
    Numeric(38, 10) makes it)."""
    if v is None or isinstance(v, Decimal):
        return v
    return Decimal("%.10f" % v)


def _rows(bind: Bind, sql: str, params: dict | None = None) -> list[tuple]:
    return list(bind.execute(text(sql), params or {}))


def stats(bind: Bind) -> dict:
    counts = {t: _rows(bind, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}
    first, last = _rows(bind, "SELECT min(date), max(date) FROM issue")[0]
    return {
        "rows": counts,
        "newspapers": [r[0] for r in _rows(bind, "SELECT name FROM newspaper ORDER BY name")],
        "first_issue": _iso(first) or None,
        "last_issue": _iso(last) or None,
    }


def list_issues(bind: Bind, newspaper: str | None = None) -> list[dict]:
    sql = (
        "SELECT issue.id, newspaper.name, issue.date, issue.weekday, issue.number, "
        "(SELECT count(article.id) FROM article WHERE article.issue_id = issue.id) "
        "FROM issue JOIN newspaper ON newspaper.id = issue.newspaper_id"
        + (" WHERE newspaper.name = :newspaper" if newspaper else "")
        + " ORDER BY issue.date, newspaper.name"
    )
    keys = ("id", "newspaper", "date", "weekday", "number", "articles")
    return [_plain(dict(zip(keys, r))) for r in _rows(bind, sql, {"newspaper": newspaper} if newspaper else {})]


# an article row joined to its issue and newspaper (the readers' common FROM)
WITH_ISSUE = " JOIN issue ON article.issue_id = issue.id JOIN newspaper ON issue.newspaper_id = newspaper.id"

# The first page of `articles` and `metrics` on SQLite. Written as JOINs, SQLite's planner scans every
# article (or metric), joins each to its issue and sorts them all before it takes 20 (`SCAN metric … USE
# TEMP B-TREE FOR ORDER BY`: 44 ms at 2,000 pages, 680 ms at 20,000). Both lists are in issue
# date order first, so loop over the issues along ix_issue_date and over each issue's articles (and their
# metrics) along their issue_id (article_id) index: SQLite then sorts only the rows of one date at a time
# on the rest of the ORDER BY (`USE TEMP B-TREE FOR RIGHT PART OF ORDER BY`) and stops once the LIMIT is
# met. CROSS JOIN is how SQLite is told the order of the loops (its planner never reorders one);
# INDEXED BY keeps it from building an automatic index over the whole inner table instead (without ANALYZE
# statistics it believes the outer loop to be huge). INDEXED BY is SQLite's own syntax and CROSS JOIN
# takes no ON clause elsewhere, so the other engines keep the JOINs, which their planners order
# themselves. Only a page (a LIMIT) is walked: every row is read as fast by SQLite's own plan (and a
# filter on the metric walks a few issues first: list_metrics). The rows and their order are the same
# either way (tests/test_query_plans.py holds the plans, the work and the order).
ISSUE_JOIN = "newspaper.id = issue.newspaper_id"
IN_ISSUE_ORDER_JOINS = (ISSUE_JOIN, "article.issue_id = issue.id")


def issues_in_order(newspaper: str | None) -> str:
    """The issues in date order, as SQLite is to loop over them. One newspaper's come in date order from
    the unique index on (newspaper_id, date): its issues alone are read, not every issue."""
    return "newspaper CROSS JOIN issue" if newspaper else "issue CROSS JOIN newspaper"


def in_issue_order(newspaper: str | None) -> str:
    """The tables of a page of articles in the order SQLite is to loop over them (joined by IN_ISSUE_ORDER_JOINS)."""
    return issues_in_order(newspaper) + " CROSS JOIN article INDEXED BY ix_article_issue_id"


def is_sqlite(bind: Bind) -> bool:
    """Whether `bind` (a Reader, a SQLAlchemy connection, or a session) reads a SQLite database."""
    holder: Any = bind.get_bind() if hasattr(bind, "get_bind") else bind
    return bool(holder.dialect.name == "sqlite")


def list_articles(
    bind: Bind,
    date: dt.date | None = None,
    newspaper: str | None = None,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int | None = None,
) -> list[dict]:
    """Articles in issue order (date, newspaper, file, position in it), with the page each is on."""
    conditions = (
        ("issue.date = :date", date), ("issue.date >= :date_from", date_from), ("issue.date <= :date_to", date_to),
        ("newspaper.name = :newspaper", newspaper),
    )
    if limit is not None and is_sqlite(bind):  # a page: walk the issues in date order and stop at the limit (in_issue_order)
        where, params = _where(*conditions, joins=IN_ISSUE_ORDER_JOINS)
        tables = in_issue_order(newspaper)
    else:
        where, params = _where(*conditions)
        tables = "article" + WITH_ISSUE
    # article.id last: (source, position in it) already names one article; the id keeps the order total regardless
    sql = (
        "SELECT article.id, newspaper.name, issue.date, article.page, article.page_name, article.ordinal, "
        "article.title, article.byline, article.paragraph_count, article.char_count FROM "
        + tables + where + " ORDER BY issue.date, newspaper.name, article.source_id, article.ordinal, article.id"
    )
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = int(limit)
    keys = ("id", "newspaper", "date", "page", "page_name", "ordinal", "title", "byline", "paragraphs", "chars")
    return [_plain(dict(zip(keys, r))) for r in _rows(bind, sql, params)]


def _where(*conditions: tuple[str, object], joins: tuple[str, ...] = ()) -> tuple[str, dict]:
    """' WHERE a AND b' for the join conditions and the conditions whose value is given, and their
    parameters by name."""
    used = [(c, v) for c, v in conditions if v]
    params = {_parameter(c): v for c, v in used}
    clauses = [*joins, *(c for c, _ in used)]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _parameter(condition: str) -> str:
    """The name of the `:name` parameter a condition is written with (every condition has one)."""
    m = re.search(r":(\w+)", condition)
    assert m is not None, f"condition without a parameter: {condition}"
    return m.group(1)


def _plain(d: dict) -> dict:
    """JSON-ready values: ISO dates, exact decimals as numbers without trailing zeros."""
    out = {}
    for k, v in d.items():
        if isinstance(v, (dt.date, dt.datetime)):
            v = v.isoformat()
        elif isinstance(v, Decimal):
            v = decimal_number(v)
        out[k] = v
    return out


METRIC_FIELDS = ("id", *columns.METRIC_FIELDS)


_NUMERIC_METRIC_FIELDS = {"value", "value_high"}


def article_document(bind: Bind, article_id: int) -> dict:
    """{"newspaper", "issue", "article"} for one article, rebuilt from the database (metrics included)."""
    found = _rows(
        bind,
        "SELECT article.id, article.source_id, article.ordinal, article.title, article.subtitle, article.byline, "
        "article.kicker, article.page, article.page_name, article.source_url, article.char_count, "
        "article.paragraph_count, issue.id, issue.date, issue.weekday, issue.number, newspaper.id, newspaper.name, "
        "newspaper.cn_serial, newspaper.postal_code, newspaper.website, newspaper.email, newspaper.hotline "
        "FROM article" + WITH_ISSUE + " WHERE article.id = :id",
        {"id": int(article_id)},
    )
    if not found:
        raise NotFound(f"no article with id {article_id}")
    (aid, source_id, ordinal, title, subtitle, byline, kicker, page, page_name, source_url, char_count,
     paragraph_count, issue_id, date, weekday, number, paper_id, *paper) = found[0]
    params = {"id": aid}
    metrics: dict[int, list[dict]] = {}
    fields = ", ".join(f"metric.{f}" for f in METRIC_FIELDS)  # qualified: `condition` is a word MySQL reserves
    for paragraph_id, *values in _rows(
        bind,
        f"SELECT metric.paragraph_id, {fields} FROM metric WHERE metric.article_id = :id ORDER BY metric.paragraph_id, metric.ordinal",
        params,
    ):
        m = {f: _numeric(v) if f in _NUMERIC_METRIC_FIELDS else v for f, v in zip(METRIC_FIELDS, values)}
        metrics.setdefault(paragraph_id, []).append(_plain(m))
    paragraphs: dict[int, list[dict]] = {}
    for pid, section_id, p_ordinal, line_start, line_end, lead, body, p_chars in _rows(
        bind,
        "SELECT p.id, p.section_id, p.ordinal, p.line_start, p.line_end, p.lead, p.text, p.char_count FROM paragraph p "
        "WHERE p.section_id IN (SELECT s.id FROM section s WHERE s.article_id = :id) ORDER BY p.section_id, p.ordinal, p.id",
        params,
    ):
        paragraphs.setdefault(section_id, []).append(
            {"id": pid, "ordinal": p_ordinal, "line_start": line_start, "line_end": line_end, "lead": lead,
             "text": body, "char_count": p_chars, "metrics": metrics.get(pid, [])}
        )
    sections = [
        {"id": sid, "ordinal": s_ordinal, "heading": heading, "paragraphs": paragraphs.get(sid, [])}
        for sid, s_ordinal, heading in _rows(
            bind, "SELECT s.id, s.ordinal, s.heading FROM section s WHERE s.article_id = :id ORDER BY s.ordinal, s.id", params
        )
    ]
    authors = _rows(bind, "SELECT a.role, a.name FROM article_author a WHERE a.article_id = :id ORDER BY a.ordinal", params)
    return {
        "newspaper": {"id": paper_id, **dict(zip(("name", "cn_serial", "postal_code", "website", "email", "hotline"), paper))},
        "issue": {"id": issue_id, "date": _iso(date), "weekday": weekday, "number": number},
        "article": {
            "id": aid,
            "source_id": source_id,
            "ordinal": ordinal,
            "title": title,
            "subtitle": subtitle,
            "byline": byline,
            "kicker": kicker,
            "page": page,
            "page_name": page_name,
            "source_url": source_url,
            "contributors": [{"role": role, "name": name} for role, name in authors],
            "char_count": char_count,
            "paragraph_count": paragraph_count,
            "sections": sections,
        },
    }


def mark_metrics(text: str, metrics: list[dict]) -> str:
    """The paragraph text with each metric's surface in brackets: 民警[4495人]."""
    out, pos = [], 0
    for m in sorted(metrics, key=lambda m: m["char_start"]):
        if m["char_start"] < pos:
            continue
        out += [text[pos : m["char_start"]], "[", text[m["char_start"] : m["char_end"]], "]"]
        pos = m["char_end"]
    out.append(text[pos:])
    return "".join(out)


def article_text(doc: dict) -> str:
    """The article as a reader reads it: masthead line, title block, headings, paragraphs (metrics marked)."""
    paper, issue, art = doc["newspaper"], doc["issue"], doc["article"]
    head = [paper["name"], f"{issue['date']} {issue['weekday'] or ''}".rstrip()]
    head += [f"第{issue['number']}期"] if issue["number"] else []
    head += [f"第{art['page']}版 {art['page_name'] or ''}".rstrip()] if art.get("page") else []
    lines = ["  ".join(head), ""]
    if art.get("kicker"):
        lines.append(art["kicker"])
    lines.append(art["title"])
    if art["subtitle"]:
        lines.append(f"——{art['subtitle']}")
    if art["byline"]:
        lines.append(art["byline"])
    for s in art["sections"]:
        if s["heading"]:
            lines += ["", f"【{s['heading']}】"]
        for p in s["paragraphs"]:
            lines += ["", "\u3000\u3000" + mark_metrics(p["text"], p["metrics"])]
    return "\n".join(lines) + "\n"


def list_metrics(
    bind: Bind,
    *,
    unit: str | None = None,
    kind: str | None = None,
    subject: str | None = None,
    subject_key: str | None = None,
    newspaper: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int | None = None,
) -> list[dict]:
    """Metrics with where they were stated: date, newspaper, article, subject, value, unit, qualifier."""
    of_metric = (
        ("metric.unit = :unit", unit), ("metric.kind = :kind", kind),
        ("metric.subject LIKE :subject ESCAPE '/'", subject and "%" + _like_escaped(subject) + "%"),
        ("metric.subject_key = :subject_key", subject_key),
    )
    of_issue = (("newspaper.name = :newspaper", newspaper), ("issue.date >= :date_from", date_from), ("issue.date <= :date_to", date_to))
    if limit is None or not is_sqlite(bind):
        return _metric_rows(bind, PLANNED_METRICS, _where(*of_metric, *of_issue), limit)
    walk, joins = in_issue_order(newspaper) + METRICS_IN_ISSUE_ORDER, (*IN_ISSUE_ORDER_JOINS, *METRICS_IN_ISSUE_ORDER_JOINS)
    if not any(v for _, v in of_metric):  # a page: see in_issue_order
        return _metric_rows(bind, walk, _where(*of_metric, *of_issue, joins=joins), limit)
    # A filter on the metric itself may match few metrics, or none, and then the walk would visit every
    # metric to find them, slower than SQLite's own plan (a scan, or ix_metric_subject_key) and a sort of
    # the matches (at 20,000 pages, `--unit` that matches nothing: 287 ms against 111). So walk the first
    # FIRST_ISSUES issues only; when they hold less than the page, SQLite's plan finds it.
    where, params = _where(*of_issue, joins=(ISSUE_JOIN,))
    last = _rows(bind, f"SELECT issue.date FROM {issues_in_order(newspaper)}{where} ORDER BY issue.date LIMIT 1 OFFSET {FIRST_ISSUES - 1}", params)
    if not last:  # no more issues than that: walk them all
        return _metric_rows(bind, walk, _where(*of_metric, *of_issue, joins=joins), limit)
    # every issue up to that one's date (all of that date's): their metrics come first in the order
    page = _metric_rows(bind, walk, _where(*of_metric, *of_issue, ("issue.date <= :first_issues_end", last[0][0]), joins=joins), limit)
    if len(page) == limit:
        return page
    return _metric_rows(bind, PLANNED_METRICS, _where(*of_metric, *of_issue), limit)


# SQLite's own plan for metrics, and the other engines' (see in_issue_order)
PLANNED_METRICS = "metric JOIN article ON metric.article_id = article.id JOIN paragraph ON metric.paragraph_id = paragraph.id" + WITH_ISSUE
# in_issue_order's loops carried on to each article's metrics and their paragraphs.
METRICS_IN_ISSUE_ORDER = " CROSS JOIN metric INDEXED BY ix_metric_article_id CROSS JOIN paragraph"
METRICS_IN_ISSUE_ORDER_JOINS = ("metric.article_id = article.id", "paragraph.id = metric.paragraph_id")
FIRST_ISSUES = 64  # issues walked for a page of metrics filtered on the metric, before SQLite's plan is tried
_METRIC_KEYS = ("id", "date", "newspaper", "article_id", "title", "subject", "subject_key", "value", "value_high",
                "unit", "qualifier", "kind", "surface")


def _metric_rows(bind: Bind, tables: str, where: tuple[str, dict], limit: int | None) -> list[dict]:
    """list_metrics' rows from these tables (joined by `where`, with its parameters), in its order."""
    condition, params = where
    # metric.id last: (article, paragraph's position, metric's position) already names one metric; the id
    # keeps the order total regardless
    sql = (
        "SELECT metric.id, issue.date, newspaper.name, article.id, article.title, metric.subject, metric.subject_key, "
        "metric.value, metric.value_high, metric.unit, metric.qualifier, metric.kind, metric.surface FROM "
        + tables + condition + " ORDER BY issue.date, article.id, paragraph.ordinal, metric.ordinal, metric.id"
    )
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = int(limit)
    out = []
    for r in _rows(bind, sql, params):
        row = dict(zip(_METRIC_KEYS, r))
        row["value"], row["value_high"] = _numeric(row["value"]), _numeric(row["value_high"])
        out.append(_plain(row))
    return out


def _like_escaped(s: str) -> str:
    """`s` matched literally by LIKE ... ESCAPE '/' (as SQLAlchemy's contains(autoescape=True) writes it)."""
    return s.replace("/", "//").replace("%", "/%").replace("_", "/_")
