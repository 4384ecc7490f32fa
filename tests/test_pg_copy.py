"""PostgreSQL's COPY path for the loader's rows (archive/pgcopy.py): every value comes back exactly as
the INSERT path stores it (text with tabs, newlines, backslashes and COPY's own markers, NULLs,
decimals, dates, booleans, tsvectors), ids are handed out in the same order, and a value the database
refuses fails the same way, leaving the transaction usable after a rollback to a savepoint."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DataError, DBAPIError

from archive import bulk, db, loader, pgcopy, searchindex, writer
from archive.models import Article, Issue, Metric, Newspaper, Paragraph, Section, Source
from archive.prepare import METRIC_COLUMNS, Prepared, prepare_file
from archive.searchquery import stored_docs
from tests.conftest import server_database
from tests.dbcheck import integrity_problems, paragraphs_per_path
from tests.pagegen import build_page
from tests.test_durability import write_pages

NASTY = [
    "tab\there", "line\nnext", "cr\rreturn", "crlf\r\n", "back\\slash", "\\N", "\\.", "ends with \\", "\\t not a tab",
    "", " spaces around ", "quotes ' \" `", "全角\u3000空格，中文。", "emoji 🀄 and 𠀀", "controls \x01\x07\x1b\x1f\x7f",
    "a\\\tb\\\nc", "NULL", "null", "\u2028line separator", "a" * 500,
]
DECIMALS = [
    Decimal("0"), Decimal("0.0000000001"), Decimal("-0.0000000001"), Decimal("1E+5"), Decimal("3.14159265358979"),
    Decimal("-1234567890123456789012345678.1234567890"), Decimal("20000"), Decimal("95.5"), Decimal("1.23456789012"),
]
DATES = [dt.date(1, 1, 1), dt.date(1912, 1, 1), dt.date(2020, 2, 29), dt.date(9999, 12, 31)]


@pytest.fixture
def pg_engine():
    databases = server_database("postgresql")
    url = next(databases)
    engine = db.make_engine(url)
    db.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        databases.close()


def _write(conn, copy: bool, monkeypatch) -> dict:
    """A newspaper, issue, source, article, sections, paragraphs and metrics holding every nasty value,
    written by bulk (COPY or INSERT); returns the ids."""
    monkeypatch.setattr(pgcopy, "usable", (lambda c: True) if copy else (lambda c: False))
    ids: dict = {}
    name = "COPY" if copy else "INSERT"
    paper = bulk.insert_many(conn, Newspaper, [dict(name=f"报\t{name}\\", cn_serial=None, postal_code="", website="\\N")], ids)[0]
    issue = bulk.insert_many(conn, Issue, [dict(newspaper_id=paper, date=DATES[-1], weekday="星期五", number=None)], ids)[0]
    source = bulk.insert_many(conn, Source, [dict(
        path=f"/p/{name}\ttab", sha256=name.ljust(64, "0"), encoding="utf-8", byte_count=0, text="\n".join(NASTY),
        loaded_at=dt.datetime(2026, 12, 6, 1, 2, 3), parser_version="x", format=None, options='{"a": "\\\\t\\n"}',
    )], ids)[0]
    articles = bulk.insert_rows(
        conn, Article, ("issue_id", "source_id", "ordinal", "title", "subtitle", "byline", "char_count", "paragraph_count"),
        [(issue, source, i, t, None if i % 2 else t, t[:500], len(t), 1) for i, t in enumerate(NASTY, 1)], ids,
    )
    sections = bulk.insert_rows(conn, Section, ("article_id", "ordinal", "heading"), [(a, 0, None) for a in articles], ids)
    paragraphs = bulk.insert_rows(
        conn, Paragraph, ("article_id", "section_id", "ordinal", "lead", "text", "char_count", "line_start", "line_end"),
        [(a, s, 1, t[:200] or None, t, len(t), 1, 2) for a, s, t in zip(articles, sections, NASTY)], ids,
    )
    metrics = []
    for i, (value, p) in enumerate(zip(DECIMALS * 3, paragraphs)):
        row = dict.fromkeys(METRIC_COLUMNS)
        row.update(
            ordinal=i, surface=NASTY[i % len(NASTY)][:200], char_start=0, char_end=1, value=value,
            value_high=None if i % 2 else -value, unit="%\t", qualifier="exact", kind="count",
            subject=NASTY[(i + 3) % len(NASTY)][:200], ref_start=DATES[i % len(DATES)], ref_end=None, value_base=value * 3,
        )
        metrics.append((articles[0], p, *(row[c] for c in METRIC_COLUMNS)))
    bulk.insert_rows(conn, Metric, ("article_id", "paragraph_id", *METRIC_COLUMNS), metrics, ids, returning=False)
    return dict(paper=paper, issue=issue, source=source, articles=articles, sections=sections, paragraphs=paragraphs)


def _read(conn, ids: dict) -> list:
    """What was stored, without the ids and the keys that name them."""
    out = [conn.execute(select(Newspaper.cn_serial, Newspaper.postal_code, Newspaper.website).where(Newspaper.id == ids["paper"])).all()]
    out.append(conn.execute(select(Issue.date, Issue.weekday, Issue.number).where(Issue.id == ids["issue"])).all())
    out.append(conn.execute(select(Source.text, Source.loaded_at, Source.format, Source.options).where(Source.id == ids["source"])).all())
    out.append(conn.execute(select(Article.ordinal, Article.title, Article.subtitle, Article.byline, Article.kicker)
                            .where(Article.source_id == ids["source"]).order_by(Article.id)).all())
    out.append(conn.execute(select(Paragraph.lead, Paragraph.text, Paragraph.char_count)
                            .where(Paragraph.id.in_(ids["paragraphs"])).order_by(Paragraph.id)).all())
    columns = [getattr(Metric, c) for c in METRIC_COLUMNS]
    out.append(conn.execute(select(*columns).where(Metric.article_id == ids["articles"][0]).order_by(Metric.id)).all())
    return out


def test_values_round_trip_as_insert_stores_them(pg_engine, monkeypatch):
    with pg_engine.begin() as conn:
        by_insert = _write(conn, False, monkeypatch)
        by_copy = _write(conn, True, monkeypatch)
        stored_insert, stored_copy = _read(conn, by_insert), _read(conn, by_copy)
        names = conn.execute(select(Newspaper.name).order_by(Newspaper.id)).scalars().all()
    assert names == ["报\tINSERT\\", "报\tCOPY\\"]
    assert stored_copy == stored_insert
    # and as given: texts exactly, NULL apart from '' and 'NULL', decimals to the column's 10 places, dates
    articles, paragraphs, metrics = stored_copy[3], stored_copy[4], stored_copy[5]
    assert [a.title for a in articles] == NASTY
    assert [a.subtitle for a in articles] == [None if i % 2 else t for i, t in enumerate(NASTY, 1)]
    assert [p.text for p in paragraphs] == NASTY and paragraphs[NASTY.index("")].lead is None
    assert stored_copy[0] == [(None, "", "\\N")] and stored_copy[2][0].text == "\n".join(NASTY)
    with localcontext(prec=60):  # the column's 38 digits are more than Decimal's default 28
        assert [m.value for m in metrics] == [d.quantize(Decimal("1E-10")) for d in (DECIMALS * 3)[: len(metrics)]]
    assert metrics[8].value == Decimal("1.2345678901")  # rounded to 10 places by the server, both ways
    assert [m.ref_start for m in metrics] == [DATES[i % len(DATES)] for i in range(len(metrics))]
    assert all(m.ref_end is None and m.unit == "%\t" for m in metrics)
    # ids in the same order as INSERT ... RETURNING gave them: consecutive, in the rows' order
    for key in ("articles", "sections", "paragraphs"):
        assert by_copy[key] == list(range(by_insert[key][-1] + 1, by_insert[key][-1] + 1 + len(by_copy[key])))


@pytest.mark.parametrize("copy", [False, True], ids=["insert", "copy"])
def test_refused_value_fails_the_savepoint_only(pg_engine, monkeypatch, copy):
    """A NUL in a text, or a text too long for its column: a DBAPIError (as GroupWriter catches), the
    savepoint rolls back and the transaction goes on."""
    monkeypatch.setattr(pgcopy, "usable", (lambda c: True) if copy else (lambda c: False))
    with pg_engine.begin() as conn:
        ids: dict = {}
        errors = []
        for bad in ("nul \x00 byte", "x" * 41):  # postal_code holds 40 characters
            savepoint = conn.begin_nested()
            with pytest.raises(DBAPIError) as caught:
                rows = [dict(name="ok", postal_code=None), dict(name="ok2", postal_code=bad)]
                bulk.insert_many(conn, Newspaper, rows, ids)
            savepoint.rollback()
            errors.append(str(caught.value.orig).splitlines()[0])
        bulk.insert_many(conn, Newspaper, [dict(name="after", cn_serial=None, postal_code=None)], ids)
        assert conn.execute(select(Newspaper.name)).scalars().all() == ["after"]
    assert "NUL" in errors[0] and "too long" in errors[1]


def test_search_index_rows_and_counts_as_insert_writes_them(pg_engine, monkeypatch):
    long_text = " ".join(["aaaa"] * 300 + ["bbbbcccc"])  # a lexeme at more than 256 positions: lossy
    docs = [(1, "aaaabbbb bbbbcccc aaaa"), (2, ""), (3, long_text), (4, "dddd")]
    stored = {}
    for copy in (False, True):
        monkeypatch.setattr(pgcopy, "usable", (lambda c: True) if copy else (lambda c: False))
        with pg_engine.begin() as conn:
            conn.execute(text("DELETE FROM search_doc"))
            conn.execute(text("DELETE FROM search_char_count"))
            searchindex.add_tokens(conn, docs, char_count=True)
            searchindex.add_tokens(conn, [(5, "aaaa eeee")], char_count=True)
            stored[copy] = (
                conn.execute(text("SELECT doc_key, tokens::text, lossy FROM search_doc ORDER BY doc_key")).all(),
                conn.execute(text("SELECT code, docs FROM search_char_count ORDER BY code")).all(),
            )
    assert stored[True] == stored[False]
    rows, counts = stored[True]
    assert [r.lossy for r in rows] == [False, False, True, False, False]
    assert counts == [("aaaa", 3), ("bbbb", 2), ("dddd", 1), ("eeee", 1)]


# ---------------------------------------------------------------- a batch's rows in one COPY a table (GroupWriter)


def _pages(d: Path, *specs: tuple[str, int, dt.date]) -> list[Path]:
    """Pages named and dated as given (name, page number, date), one article each."""
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, i, date in specs:
        page, _ = build_page(i, articles=1, date=date, number=i)
        (d / name).write_text(page, encoding="utf-8")
        paths.append((d / name).resolve())
    return paths


def _batch(engine, prepared: list[Prepared]) -> list[loader.FileResult]:
    reported: list[loader.FileResult] = []
    with loader.GroupWriter(engine, reported.append, files=32, seconds=3600) as group:
        assert group.later is not None  # the content rows wait for one COPY a table
        for p in prepared:
            group.add(p)
    return reported


def test_a_refused_row_in_a_batch_copy_costs_its_file_alone(pg_engine, tmp_path):
    """The batch's paragraphs go in one COPY: a NUL in one file's text fails it, and the batch is
    stored again a file a transaction, where only that file fails."""
    expected = write_pages(tmp_path / "pages", 5, first=700)
    files = [prepare_file(p).flat() for p in sorted(expected)]
    victim = files[2]
    assert victim.rows is not None
    (section, first), *rest = victim.rows.paragraphs
    poisoned = (section, (*first[:2], first[2] + "\x00", *first[3:]))
    files[2] = replace(victim, rows=victim.rows._replace(paragraphs=[poisoned, *rest]))
    reported = _batch(pg_engine, files)
    assert [(r.path, r.status) for r in reported] == [(p.path, "failed" if p is files[2] else "new") for p in files]
    assert "NUL" in (reported[2].message or "")
    url = pg_engine.url.render_as_string(hide_password=False)
    assert paragraphs_per_path(url) == {f: n for f, n in expected.items() if f != victim.path}
    assert integrity_problems(url) == []
    with pg_engine.connect() as conn:
        texts = {k for k, _ in stored_docs(conn)}
        indexed = set(conn.execute(text("SELECT doc_key FROM search_doc")).scalars())
    assert texts == indexed and texts


def _replacing(tmp_path: Path) -> tuple[Path, list[Prepared]]:
    """A page at `old` loaded and committed, the only one of its issue; then a batch: a new page of that
    issue (its rows waiting for the batch's COPY), and new bytes at `old` dated another day, which
    delete the old page's rows and drop the issues left empty."""
    day = dt.date(2022, 3, 4)
    old, = _pages(tmp_path / "a", ("old.txt", 1, day))
    return old, [prepare_file(p).flat() for p in _pages(tmp_path / "b", ("same_issue.txt", 2, day))]


def test_a_replaced_source_writes_the_batch_rows_before_dropping_empty_issues(pg_engine, tmp_path, monkeypatch):
    old, batch = _replacing(tmp_path)
    loader.load_paths(pg_engine, [old], workers=1)
    _pages(old.parent, ("old.txt", 3, dt.date(2022, 3, 5)))
    batch.append(prepare_file(old).flat())

    def alone(*_):
        raise AssertionError("the batch was stored again a file a transaction")

    monkeypatch.setattr(loader, "store_with_retry", alone)
    reported = _batch(pg_engine, batch)
    assert [r.status for r in reported] == ["new", "updated"]
    url = pg_engine.url.render_as_string(hide_password=False)
    assert integrity_problems(url) == []
    with pg_engine.connect() as conn:
        dates = conn.execute(text(
            "SELECT s.path, i.date FROM article a JOIN source s ON s.id = a.source_id JOIN issue i ON i.id = a.issue_id ORDER BY s.path"
        )).all()
    assert dates == [(str(old), dt.date(2022, 3, 5)), (batch[0].path, dt.date(2022, 3, 4))]


def test_a_file_failing_after_the_batch_rows_were_written_stores_the_batch_again(pg_engine, tmp_path, monkeypatch):
    """The rows written early (a replaced source's drop_empty_issues) were written inside the failing
    file's savepoint, which takes them back: the batch is stored again, a file a transaction."""
    old, batch = _replacing(tmp_path)
    loader.load_paths(pg_engine, [old], workers=1)
    old_paragraphs = paragraphs_per_path(pg_engine.url.render_as_string(hide_password=False))
    _pages(old.parent, ("old.txt", 3, dt.date(2022, 3, 5)))
    batch.append(prepare_file(old).flat())
    real_drop = writer.drop_empty_issues

    def drop_empty_issues(conn, issue_ids, *rest):
        real_drop(conn, issue_ids, *rest)
        if issue_ids:
            raise DataError("DELETE …", {}, ValueError("refused after the batch's rows were written"))

    monkeypatch.setattr(writer, "drop_empty_issues", drop_empty_issues)
    reported = _batch(pg_engine, batch)
    assert [r.status for r in reported] == ["new", "failed"]
    url = pg_engine.url.render_as_string(hide_password=False)
    assert integrity_problems(url) == []
    stored = paragraphs_per_path(url)
    assert stored[str(old)] == old_paragraphs[str(old)] and stored[batch[0].path] > 0
