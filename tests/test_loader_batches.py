"""The loader's batched writes on every engine: several articles a page, ids wired to the right parents,
metrics stored exactly, and ids still right after a file is purged and others come after it."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import loader, queries, writer
from archive.columns import METRIC_FIELDS
from archive.metrics import Metric
from archive.models import Article, Metric as MetricRow, Paragraph, Section
from archive.prepare import prepare_bytes
from benchmarks import corpus


def _prepared(i: int):
    g = corpus.generate(i)
    return g, prepare_bytes(f"/pages/{g.name}", g.text.encode("utf-8"))


def _stored_structure(engine, source_id: int) -> list[tuple]:
    with Session(engine) as s:
        ids = s.scalars(select(Article.id).where(Article.source_id == source_id).order_by(Article.ordinal))
        docs = [queries.article_document(s, i)["article"] for i in ids]
    return [
        (
            a["title"],
            a["subtitle"],
            a["byline"],
            tuple((sec["heading"], tuple(p["text"] for p in sec["paragraphs"])) for sec in a["sections"]),
        )
        for a in docs
    ]


def _expected_structure(g) -> list[tuple]:
    return [(a.title, a.subtitle, a.byline, a.sections) for a in g.articles]


def _metric(ordinal: int, surface: str, value: str, **kw) -> Metric:
    fields = dict.fromkeys(METRIC_FIELDS) | dict(
        ordinal=ordinal, surface=surface, char_start=0, char_end=len(surface), value=Decimal(value), unit="人",
        qualifier="exact", kind="count",
    )
    return Metric(**{**fields, **kw})


def test_pages_with_several_articles_read_back_as_generated(engine):
    results = []
    for i in range(3):
        g, prepared = _prepared(i)
        result = loader.store_with_retry(engine, prepared)
        assert result.status == "new", result.message
        results.append((g, result.source_id))
    for g, source_id in results:
        assert _stored_structure(engine, source_id) == _expected_structure(g)


def test_metrics_are_stored_exactly_against_their_paragraph(engine):
    g, prepared = _prepared(5)
    doc = prepared.parsed.document
    first, last = doc.articles[0], doc.articles[-1]
    metrics = {
        (first.ordinal, 1): [_metric(1, "4495人", "4495"), _metric(2, "50.12%", "50.12", unit="%", kind="percent")],
        (last.ordinal, last.paragraphs[-1].ordinal): [
            _metric(1, "5至10人", "5", value_high=Decimal("10"), qualifier="approx", subject="民警", period="7月以来")
        ],
    }
    prepared = dataclasses.replace(prepared, parsed=dataclasses.replace(prepared.parsed, metrics=metrics))
    result = loader.store_with_retry(engine, prepared)
    assert result.status == "new", result.message
    with Session(engine) as s:
        rows = s.execute(
            select(MetricRow, Paragraph.ordinal, Paragraph.text, Article.ordinal)
            .join(Paragraph, MetricRow.paragraph_id == Paragraph.id)
            .join(Article, MetricRow.article_id == Article.id)
            .order_by(MetricRow.id)
        ).all()
    got = [
        (a_ord, p_ord, m.ordinal, m.surface, m.value, m.value_high, m.unit, m.qualifier, m.subject, m.period)
        for m, p_ord, _, a_ord in rows
    ]
    assert got == [
        (first.ordinal, 1, 1, "4495人", Decimal("4495"), None, "人", "exact", None, None),
        (first.ordinal, 1, 2, "50.12%", Decimal("50.12"), None, "%", "exact", None, None),
        (last.ordinal, last.paragraphs[-1].ordinal, 1, "5至10人", Decimal("5"), Decimal("10"), "人", "approx", "民警", "7月以来"),
    ]
    assert rows[0][2] == first.paragraphs[0].text


def test_ids_stay_wired_after_a_purge(engine):
    stored = {}
    for i in range(3):
        g, prepared = _prepared(10 + i)
        stored[i] = (g, loader.store_with_retry(engine, prepared).source_id)
    writer.purge(engine, str(stored[2][1]))  # the newest rows go: their ids are free again on SQLite
    for i in range(3, 5):
        g, prepared = _prepared(10 + i)
        stored[i] = (g, loader.store_with_retry(engine, prepared).source_id)
    del stored[2]
    for g, source_id in stored.values():
        assert _stored_structure(engine, source_id) == _expected_structure(g)
    with Session(engine) as s:
        orphans = s.scalar(
            select(Paragraph.id).join(Section, Paragraph.section_id == Section.id).where(Section.article_id != Paragraph.article_id)
        )
    assert orphans is None
