"""What the parser workers send the writer (prepare.Rows): plain rows, nothing lost on the way.

The writer inserts the rows a worker built; reparse builds them in process from the parsed document.
Both must store the same thing, every column of every table (made-up pages: generated ones and the
series pages, which carry every fact column)."""

from __future__ import annotations

import pickle
import pickletools
import shutil
from pathlib import Path

from sqlalchemy import select

from archive import loader, prepare, writer
from archive.formats.metadata import Metadata
from archive.models import Article, ArticleAuthor, Base, Issue, Metric, Newspaper, Paragraph, Section
from archive.prepare import prepare_bytes
from benchmarks import corpus

SERIES = Path(__file__).parent / "data" / "series"
STAMPS = {"loaded_at", "seen_at"}  # when, not what: differ between a load and a reparse


def _tables(engine) -> dict[str, list[tuple]]:
    """Every row of every table, timestamps left out. Reparse gives metrics new ids (and records the old
    ones in id_watermark): metrics are compared in order, without their ids."""
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "id_watermark":
                continue
            cols = [c for c in table.c if c.name not in STAMPS and not (table.name == "metric" and c.name == "id")]
            out[table.name] = [tuple(r) for r in conn.execute(select(*cols).order_by(*table.primary_key.columns))]
    return out


def test_rows_have_every_column_their_tables_have():
    """A column added to a model and not to the rows would be stored empty by every load."""
    parent = {"id", "article_id", "section_id", "paragraph_id", "issue_id", "source_id", "newspaper_id"}
    for model, columns in (
        (Newspaper, prepare.NEWSPAPER_COLUMNS),
        (Issue, prepare.ISSUE_COLUMNS),
        (Article, prepare.ARTICLE_COLUMNS),
        (ArticleAuthor, prepare.AUTHOR_COLUMNS),
        (Section, prepare.SECTION_COLUMNS),
        (Paragraph, prepare.PARAGRAPH_COLUMNS),
        (Metric, prepare.METRIC_COLUMNS),
    ):
        assert set(columns) == {c.name for c in model.__table__.c} - parent, model.__name__


def test_metric_rows_hold_each_metric_and_its_facts():
    g = corpus.generate(5)
    prepared = prepare_bytes(f"/pages/{g.name}", g.text.encode("utf-8"))
    parsed, rows = prepared.parsed, prepared.table_rows()
    expected = [
        {**{c: getattr(m, c) for c in prepare.METRIC_COLUMNS if c not in prepare.FACT_COLUMNS}, **facts}
        for key, found in parsed.metrics.items()
        for m, facts in zip(found, parsed.facts.get(key, []))
    ]
    assert expected and [dict(zip(prepare.METRIC_COLUMNS, cols)) for _, cols in rows.metrics] == expected


def test_a_worker_sends_rows_of_plain_values():
    g = corpus.generate(3)
    flat = prepare_bytes(f"/pages/{g.name}", g.text.encode("utf-8")).flat()
    assert flat.parsed is None and flat.rows.metrics
    strings = {arg for _, arg, _ in pickletools.genops(pickle.dumps(flat)) if isinstance(arg, str)}
    # only the two containers (Prepared, Rows) come from the archive: no Document, Article, Paragraph
    # or Metric objects
    modules = {s for s in strings if s.startswith("archive.")}
    assert modules == {"archive.prepare"}, modules
    assert {"Document", "Paragraph", "Metric"}.isdisjoint(strings)


def test_loaded_through_workers_and_reparsed_in_process_store_the_same_rows(engine, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for i in range(6):
        g = corpus.generate(i)
        (pages / g.name).write_text(g.text, encoding="utf-8")
    series = tmp_path / "series"
    shutil.copytree(SERIES, series)
    report = loader.load_paths(engine, [pages], workers=2)
    meta = Metadata(newspaper="示例日报", name_pattern="{date:%Y%m%d}-{ordinal}.txt")
    report.results += loader.load_paths(engine, [series], fmt="article", meta=meta, workers=2).results
    assert not report.failed, report.failed[0].message
    loaded = _tables(engine)
    assert len(loaded["metric"]) > 100 and any(r for r in loaded["metric"] if r[-1])  # fact keys among them
    results = list(writer.reparse(engine))
    assert [r.error for r in results if r.error] == []
    assert _tables(engine) == loaded


def _series_and_generated_pages() -> list:
    """Generated pages and the series pages (which carry every fact column), prepared."""
    texts = [(f"/pages/{g.name}", g.text, None, None) for g in map(corpus.generate, range(4))]
    meta = Metadata(newspaper="示例日报", name_pattern="{date:%Y%m%d}-{ordinal}.txt")
    texts += [(str(p), p.read_text(encoding="utf-8"), "article", meta) for p in sorted(SERIES.glob("*.txt"))]
    return [prepare_bytes(path, text.encode("utf-8"), None, fmt, meta) for path, text, fmt, meta in texts]


def _series_and_generated_metric_rows() -> list[tuple]:
    return [m for p in _series_and_generated_pages() for _, m in p.table_rows().metrics]


def test_metric_values_made_for_sqlite_are_what_the_bind_processors_make():
    """A parser worker makes a SQLite writer's NUMERIC and DATE values itself (prepare.sqlite_values):
    they must be exactly what SQLAlchemy's bind processors would have given the driver."""
    import datetime as dt
    from decimal import Decimal

    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    table = Metric.__table__
    processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in prepare.METRIC_COLUMNS]
    rows = _series_and_generated_metric_rows()
    assert any(r[prepare.METRIC_COLUMNS.index("ref_start")] for r in rows) and any(r[prepare.METRIC_COLUMNS.index("value_base")] for r in rows)
    template = rows[0]
    made_up = [
        tuple({"value": v, "value_high": None, "value_base": -v, "ref_start": d, "ref_end": d}.get(c, x) for c, x in zip(prepare.METRIC_COLUMNS, template))
        for v, d in (
            (Decimal("0.0000000001"), dt.date(1, 1, 1)),
            (Decimal("1234567890123456789012345678.1234567891"), dt.date(999, 12, 31)),
            (Decimal("95.5000000000"), dt.date(9999, 12, 31)),
            (Decimal("3"), None),
        )
    ]
    for row in rows + made_up:
        expected = tuple(x if f is None else f(x) for f, x in zip(processors, row))
        got = prepare.sqlite_values(row)
        assert [(type(v), repr(v)) for v in got] == [(type(v), repr(v)) for v in expected], row


def test_sqlite_stores_the_same_metric_values_made_by_a_worker_or_by_the_writer(tmp_path):
    """The same files stored as rows made for SQLite and as plain rows: the same values, of the same
    SQLite types, in every column of the metric table (read with sqlite3, not through SQLAlchemy's types)."""
    import sqlite3

    from archive import db

    prepared = _series_and_generated_pages()
    stored = []
    for name, for_sqlite in (("plain", False), ("made", True)):
        path = tmp_path / f"{name}.db"
        engine = db.make_engine(f"sqlite:///{path}")
        db.ensure_schema(engine)
        with loader.GroupWriter(engine, lambda r: None) as group:
            for p in prepared:
                flat = p.flat(for_sqlite)
                assert flat.rows.sqlite_values == for_sqlite
                group.add(flat)
        engine.dispose()
        con = sqlite3.connect(path)
        cols = [r[1] for r in con.execute("PRAGMA table_info(metric)")]
        shown = ", ".join(f'"{c}", typeof("{c}")' for c in cols)
        stored.append(con.execute(f"SELECT {shown} FROM metric ORDER BY id").fetchall())
        con.close()
    assert len(stored[0]) > 50 and stored[0] == stored[1]
