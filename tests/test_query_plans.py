"""The first page of `archive articles` and `archive metrics` (issue 17, point 1): on SQLite a walk along
ix_issue_date that stops at the LIMIT (archive/queries.py, in_issue_order), not a sort of every row; on
every engine the same rows in the same total order as a brute-force sort of all of them, for every filter,
with two newspapers sharing dates (the order's ties within a date are broken by the rest of the ORDER BY).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from archive import db, queries, readdb
from benchmarks.corpus import write_corpus
from tests.pagegen import build_page
from tests.test_load import run

FIRST_DAY = dt.date(2020, 8, 26)  # benchmarks.corpus's first page; a page a day after it


def _other_paper(folder: Path, days: list[int]) -> None:
    """Pages of a second newspaper (江城晚报) on the corpus's dates."""
    folder.mkdir()
    for i, day in enumerate(days):
        text, _ = build_page(100 + i, articles=2, date=FIRST_DAY + dt.timedelta(days=day), number=6000 + i)
        (folder / f"jc_{i:02d}.txt").write_text(text, encoding="utf-8")


@pytest.fixture
def two_papers(db_url, tmp_path) -> str:
    # the second paper first: on a shared date its articles have the lower ids but sort after by name
    _other_paper(tmp_path / "jc", [1, 2, 4, 9])
    run(db_url, "load", str(tmp_path / "jc"))
    write_corpus(tmp_path / "corpus", 6)
    run(db_url, "load", str(tmp_path / "corpus"))
    return db_url


def _metric_rows(bind: Any) -> list[tuple]:
    """Every metric with what its filters and its order read, in no particular order."""
    sql = (
        "SELECT m.id, i.date, n.name, a.id, m.unit, m.kind, m.subject, m.subject_key, p.ordinal, m.ordinal "
        "FROM metric m, article a, paragraph p, issue i, newspaper n "
        "WHERE a.id = m.article_id AND p.id = m.paragraph_id AND i.id = a.issue_id AND n.id = i.newspaper_id"
    )
    return [(mid, str(d), *rest) for mid, d, *rest in bind.execute(readdb.text(sql))]


def _brute_metrics(rows: list[tuple], unit=None, kind=None, subject=None, subject_key=None, newspaper=None,
                   date_from=None, date_to=None) -> list[int]:
    kept = [
        r for r in rows
        if (not unit or r[4] == unit) and (not kind or r[5] == kind) and (not subject or subject in (r[6] or ""))
        and (not subject_key or r[7] == subject_key) and (not newspaper or r[2] == newspaper)
        and (not date_from or r[1] >= date_from.isoformat()) and (not date_to or r[1] <= date_to.isoformat())
    ]
    return [r[0] for r in sorted(kept, key=lambda r: (r[1], r[3], r[8], r[9], r[0]))]


def _article_rows(bind: Any) -> list[tuple]:
    sql = ("SELECT a.id, i.date, n.name, a.source_id, a.ordinal FROM article a, issue i, newspaper n "
           "WHERE i.id = a.issue_id AND n.id = i.newspaper_id")
    return [(aid, str(d), *rest) for aid, d, *rest in bind.execute(readdb.text(sql))]


def _brute_articles(rows: list[tuple], date=None, newspaper=None, date_from=None, date_to=None) -> list[int]:
    kept = [
        r for r in rows
        if (not date or r[1] == date.isoformat()) and (not newspaper or r[2] == newspaper)
        and (not date_from or r[1] >= date_from.isoformat()) and (not date_to or r[1] <= date_to.isoformat())
    ]
    return [r[0] for r in sorted(kept, key=lambda r: (r[1], r[2], r[3], r[4], r[0]))]


LIMITS = (0, 1, 5, 20, 100_000)


def test_pages_are_a_brute_force_sort_on_every_engine(two_papers, monkeypatch):
    engine = db.make_engine(two_papers)
    reader = readdb.connect(two_papers)
    assert reader is not None
    with reader, Session(engine) as s:
        metrics, articles = _metric_rows(reader), _article_rows(reader)
        days = sorted({r[1] for r in articles})
        shared = [d for d in days if len({r[2] for r in articles if r[1] == d}) == 2]
        assert len(shared) == 3, "two newspapers share dates: the order within a date is the ORDER BY's rest"
        common_key = max({r[7] for r in metrics if r[7]}, key=lambda k: sum(r[7] == k for r in metrics))
        rare_key = min({r[7] for r in metrics if r[7]}, key=lambda k: sum(r[7] == k for r in metrics))
        d = dt.date.fromisoformat(shared[0])
        metric_filters: list[dict] = [
            {}, {"unit": "人"}, {"unit": "没有"}, {"kind": "percent"}, {"subject": "民"}, {"subject_key": common_key},
            {"subject_key": rare_key}, {"newspaper": "江城晚报"}, {"newspaper": "内蒙古法制报"}, {"newspaper": "无"},
            {"date_from": d}, {"date_to": d}, {"date_from": d, "date_to": d + dt.timedelta(days=3), "newspaper": "江城晚报"},
        ]
        for bind, first_issues in ((reader, 64), (s, 64), (reader, 2), (reader, 1)):  # the lean reader and SQLAlchemy run the same SQL
            monkeypatch.setattr(queries, "FIRST_ISSUES", first_issues)  # few: the walk's fallback to SQLite's own plan
            for f in metric_filters:
                every = queries.list_metrics(bind, **f)  # no limit: the planner's own plan
                want = _brute_metrics(metrics, **f)
                assert [m["id"] for m in every] == want, f
                for limit in LIMITS:
                    page = queries.list_metrics(bind, limit=limit, **f)  # a page: the walk on SQLite
                    assert page == every[:limit], (f, limit)
            for f in ({}, {"newspaper": "江城晚报"}, {"newspaper": "内蒙古法制报"}, {"date": d}, {"date_from": d},
                      {"date_to": d}, {"date_from": d, "date_to": d + dt.timedelta(days=4), "newspaper": "内蒙古法制报"}):
                every = queries.list_articles(bind, **f)
                assert [a["id"] for a in every] == _brute_articles(articles, **f), f
                for limit in LIMITS:
                    assert queries.list_articles(bind, limit=limit, **f) == every[:limit], (f, limit)
    engine.dispose()


class Recorder:
    """A Reader that keeps the statements it runs (the SQL the readers send, parameters apart)."""

    def __init__(self, reader: readdb.Reader):
        self.reader, self.dialect, self.sent = reader, reader.dialect, []

    def execute(self, statement: Any, params: dict | None = None) -> readdb.Result:
        self.sent.append((str(statement), dict(params or {})))
        return self.reader.execute(statement, params)


def _plan(conn: sqlite3.Connection, sql: str, params: dict) -> list[str]:
    params = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in params.items()}
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


def _page_plans(url: str, **filters: Any) -> list[list[str]]:
    reader = readdb.connect(url)
    assert reader is not None and isinstance(reader.conn, sqlite3.Connection)
    with reader:
        rec = Recorder(reader)
        queries.list_metrics(rec, limit=20, **{k: v for k, v in filters.items() if k != "date"})
        queries.list_articles(rec, limit=20, **{k: v for k, v in filters.items() if k in ("date", "newspaper", "date_from", "date_to")})
        return [_plan(reader.conn, sql, params) for sql, params in rec.sent if "ORDER BY" in sql]


PAGE_FILTERS = [{}, {"unit": "人"}, {"kind": "count"}, {"subject": "民警"}, {"newspaper": "内蒙古法制报"},
                {"date_from": FIRST_DAY}, {"date_to": FIRST_DAY + dt.timedelta(days=3)}, {"date": FIRST_DAY},
                {"newspaper": "内蒙古法制报", "date_from": FIRST_DAY + dt.timedelta(days=1)}]


@pytest.mark.parametrize("filters", PAGE_FILTERS, ids=lambda f: ",".join(f) or "none")
def test_first_pages_walk_the_issue_date_index_on_sqlite(sqlite_url, tmp_path, filters):
    write_corpus(tmp_path / "corpus", 4)
    run(sqlite_url, "load", str(tmp_path / "corpus"))
    plans = _page_plans(sqlite_url, **filters)
    assert len(plans) >= 2
    for plan in plans:
        if "newspaper" in filters:  # that newspaper's issues in date order, from the unique index on (newspaper_id, date)
            assert plan[0] == "SEARCH newspaper USING COVERING INDEX sqlite_autoindex_newspaper_1 (name=?)", plan
            assert plan[1].startswith("SEARCH issue USING COVERING INDEX sqlite_autoindex_issue_1 (newspaper_id=?"), plan
        else:
            assert plan[0].startswith(("SCAN issue USING INDEX ix_issue_date", "SEARCH issue USING INDEX ix_issue_date")), plan
        # sorted a date at a time, never all rows at once, and no index built over a whole table per query
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
        assert not any("AUTOMATIC" in step or step.startswith("SCAN") for step in plan[1:]), plan


def test_a_filter_on_the_metric_walks_the_first_issues_then_leaves_it_to_sqlite(sqlite_url, tmp_path, monkeypatch):
    write_corpus(tmp_path / "corpus", 12)
    run(sqlite_url, "load", str(tmp_path / "corpus"))
    monkeypatch.setattr(queries, "FIRST_ISSUES", 5)
    reader = readdb.connect(sqlite_url)
    assert reader is not None and isinstance(reader.conn, sqlite3.Connection)
    with reader:
        rare = reader.execute("SELECT subject_key FROM metric WHERE subject_key IS NOT NULL GROUP BY 1 ORDER BY count(*), 1").scalars()[0]
        for filters, fallback in (({"subject_key": "民警"}, False), ({"subject_key": rare}, True), ({"unit": "无此单位"}, True)):
            rec = Recorder(reader)
            queries.list_metrics(rec, limit=5, **filters)
            plans = [_plan(reader.conn, sql, params) for sql, params in rec.sent]
            assert "OFFSET 4" in rec.sent[0][0] and plans[0][0] == "SCAN issue USING INDEX ix_issue_date", rec.sent[0]
            assert plans[1][0] == "SEARCH issue USING INDEX ix_issue_date (date<?)", plans[1]  # the first 5 issues' dates
            assert len(plans) == (3 if fallback else 2), (filters, rec.sent)
            if filters.get("subject_key") == rare:
                assert "SEARCH metric USING INDEX ix_metric_subject_key (subject_key=?)" in plans[2], plans[2]


def _steps(url: str, page: Any) -> int:
    """SQLite virtual machine steps (in hundreds) the reader's statements take for `page(reader)`."""
    reader = readdb.connect(url)
    assert reader is not None and isinstance(reader.conn, sqlite3.Connection)
    count = [0]

    def tick() -> int:
        count[0] += 1
        return 0

    with reader:
        reader.conn.set_progress_handler(tick, 100)
        page(reader)
    return count[0]


def test_first_page_work_does_not_grow_with_the_archive(sqlite_url, tmp_path):
    pages = {
        "metrics": lambda r: queries.list_metrics(r, limit=20),
        "metrics of a common subject key": lambda r: queries.list_metrics(r, limit=20, subject_key="民警"),
        "articles": lambda r: queries.list_articles(r, limit=20),
    }
    write_corpus(tmp_path / "corpus", 20)
    run(sqlite_url, "load", str(tmp_path / "corpus"))
    small = {name: _steps(sqlite_url, page) for name, page in pages.items()}
    every_small = _steps(sqlite_url, lambda r: queries.list_metrics(r))
    write_corpus(tmp_path / "corpus", 60)  # the same 20 pages, and 40 more of later dates
    run(sqlite_url, "load", str(tmp_path / "corpus"))
    large = {name: _steps(sqlite_url, page) for name, page in pages.items()}
    every_large = _steps(sqlite_url, lambda r: queries.list_metrics(r))
    assert every_large > 2.5 * every_small  # the control: reading every metric grows with the archive
    for name in pages:
        assert large[name] <= small[name] * 1.2 + 5, (name, small[name], large[name])
