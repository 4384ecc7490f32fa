"""The BI views on every engine: one row per grain, the right values, and typed columns on SQLite."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from archive import db, dictionary
from tests.bi_data import GENERATED_DATE, METRICS, archive  # noqa: F401  (fixture)

VIEW_NAMES = set(dictionary.VIEWS)


def test_views_have_one_row_per_grain_and_the_counts(archive):
    url, facts = archive
    eng = db.make_engine(url)
    with eng.connect() as c:
        assert c.execute(text("SELECT count(*) FROM v_article")).scalar() == facts["articles"]
        assert c.execute(text("SELECT count(*) FROM v_paragraph")).scalar() == facts["paragraphs"]
        assert c.execute(text("SELECT count(*) FROM v_metric")).scalar() == len(METRICS)
        seed = c.execute(text("SELECT * FROM v_article WHERE newspaper = '内蒙古法制报'")).mappings().one()
        gen = facts["generated"]["articles"]
        others = c.execute(text("SELECT * FROM v_article WHERE newspaper <> '内蒙古法制报' ORDER BY article_id")).mappings().all()
    eng.dispose()
    assert str(seed["date"]) == "2020-08-26" and seed["weekday"] == "星期三" and seed["issue_number"] == 4012
    assert seed["authors"] == "王祯、梁彦强"
    assert seed["paragraph_count"] == 31 and seed["metric_count"] == len(METRICS)
    assert seed["section_count"] == 6
    assert [o["title"] for o in others] == [a["title"] for a in gen]
    assert [o["section_count"] for o in others] == [len(a["sections"]) for a in gen]
    assert [o["authors"] for o in others] == ["、".join(c["name"] for c in a["contributors"]) or None for a in gen]
    assert all(o["metric_count"] == 0 and str(o["date"]) == GENERATED_DATE.isoformat() for o in others)


def test_metric_view_keeps_exact_values_and_places_them(archive):
    url, _ = archive
    eng = db.make_engine(url)
    with eng.connect() as c:
        rows = c.execute(text("SELECT m.*, p.text AS ptext FROM v_metric m JOIN paragraph p ON p.id = m.paragraph_id ORDER BY metric_id")).mappings().all()
    eng.dispose()
    assert [r["surface"] for r in rows] == [m[1] for m in METRICS]
    assert [Decimal(str(r["value"])) for r in rows][:3] == [m[2] for m in METRICS][:3]
    assert all("民警" in r["ptext"] for r in rows[:2])
    assert {r["newspaper"] for r in rows} == {"内蒙古法制报"} and {str(r["date"]) for r in rows} == {"2020-08-26"}


def test_views_match_the_dictionary_and_have_comments(engine):
    insp = inspect(engine)
    assert VIEW_NAMES <= set(insp.get_view_names())
    for name, (_desc, columns) in dictionary.VIEWS.items():
        assert [c["name"] for c in insp.get_columns(name)] == [c[0] for c in columns], name
    if engine.dialect.name == "postgresql":
        with engine.connect() as c:
            for r in dictionary.relations():
                got = c.execute(text("SELECT obj_description(CAST(:n AS regclass), 'pg_class')"), {"n": r.name}).scalar()
                assert got == r.description, r.name
                cols = dict(c.execute(text(
                    "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
                    "WHERE a.attrelid = CAST(:n AS regclass) AND a.attnum > 0 AND NOT a.attisdropped"), {"n": r.name}).all())
                assert cols == {c.name: c.description for c in r.columns}, r.name
    elif engine.dialect.name in ("mysql", "mariadb"):
        for r in dictionary.relations():
            if r.kind == "table":
                assert insp.get_table_comment(r.name)["text"] == r.description
                assert {c["name"]: c.get("comment") for c in insp.get_columns(r.name)} == {c.name: c.description for c in r.columns}


def test_sqlite_view_columns_all_have_declared_types(sqlite_url):
    eng = db.make_engine(sqlite_url)
    db.upgrade(eng)
    eng.dispose()
    conn = sqlite3.connect(make_url(sqlite_url).database)
    for r in dictionary.relations():
        if r.kind != "view":
            continue
        info = conn.execute(f"PRAGMA table_info({r.name})").fetchall()
        assert [(row[1], row[2]) for row in info] == [(c.name, c.type) for c in r.columns], r.name
        assert all(row[2] for row in info)
    conn.close()


def test_autogenerate_ignores_the_views(engine):
    db.check(engine)  # raises when models and schema disagree: the views must not show up as extra tables


def test_downgrade_drops_the_views(engine):
    db.downgrade(engine, "0001_initial_schema")
    assert not VIEW_NAMES & set(inspect(engine).get_view_names())
    db.upgrade(engine)
    assert VIEW_NAMES <= set(inspect(engine).get_view_names())


def test_views_survive_a_migration_that_rebuilds_their_tables(archive):
    """A later migration changing a column the views read (SQLite rebuilds the table, PostgreSQL refuses
    while a view uses it) keeps the views, their rows and comments."""
    import sqlalchemy as sa
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from archive.views import views_set_aside

    url, facts = archive
    eng = db.make_engine(url)
    with eng.connect() as c:
        before = c.execute(text("SELECT * FROM v_article ORDER BY article_id")).all()
    with eng.begin() as c:
        op = Operations(MigrationContext.configure(c, opts={"render_as_batch": True}))
        with views_set_aside(c) as names:
            assert VIEW_NAMES <= set(names)
            with op.batch_alter_table("metric") as batch:
                batch.alter_column("unit", existing_type=sa.String(20), type_=sa.String(40), existing_nullable=False)
    with eng.connect() as c:
        assert c.execute(text("SELECT * FROM v_article ORDER BY article_id")).all() == before
        assert c.execute(text("SELECT count(*) FROM v_metric")).scalar() == len(METRICS)
        if eng.dialect.name == "postgresql":
            got = c.execute(text("SELECT obj_description(CAST('v_metric' AS regclass), 'pg_class')")).scalar()
            assert got == dictionary.VIEWS["v_metric"][0]
    if eng.dialect.name == "sqlite":
        with eng.connect() as c:
            types = [r[2] for r in c.exec_driver_sql("PRAGMA table_info(v_article)")]
        assert all(types)
    eng.dispose()
