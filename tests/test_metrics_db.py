"""The loaded seed's metric rows, read back from each engine, scored against the gold file."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import db
from archive.metrics import extract_metrics
from archive.models import Metric, Paragraph
from tests.conftest import DATA
from tests.metric_scoring import format_score, score
from tests.test_load import run


def test_loaded_seed_metrics_score_against_gold(db_url, seed_dir):
    run(db_url, "load", str(seed_dir))
    eng = db.make_engine(db_url)
    with Session(eng) as s:
        rows = s.execute(
            select(Metric, Paragraph.ordinal, Paragraph.text).join(Paragraph, Metric.paragraph_id == Paragraph.id)
        ).all()
    eng.dispose()
    predicted = []
    for m, ordinal, text in rows:
        assert text[m.char_start : m.char_end] == m.surface
        assert isinstance(m.value, Decimal)
        predicted.append(
            dict(paragraph=ordinal, value=m.value, unit=m.unit, qualifier=m.qualifier, subject=m.subject,
                 char_start=m.char_start, char_end=m.char_end, surface=m.surface)
        )
    gold = [json.loads(line) for line in (DATA / "seed.metrics.jsonl").read_text(encoding="utf-8").splitlines() if line]
    result = score(predicted, gold)
    print(format_score(f"seed via {db_url.split(':')[0]}", result))
    assert result["f1"] >= 0.95
    assert result["subject_accuracy"] >= 0.85
    assert not result["offset_errors"]


def test_stored_values_are_exactly_the_extracted_ones(db_url, seed_dir):
    """Decimals survive every engine exactly (SQLite stores NUMERIC as REAL; 38,10 keeps them exact here)."""
    run(db_url, "load", str(seed_dir))
    eng = db.make_engine(db_url)
    with Session(eng) as s:
        stored = [(p_text, m.ordinal, m.value, m.value_high) for m, p_text in
                  s.execute(select(Metric, Paragraph.text).join(Paragraph, Metric.paragraph_id == Paragraph.id))]
    eng.dispose()
    for text, ordinal, value, high in stored:
        expected = extract_metrics(text)[ordinal - 1]
        assert value == expected.value and high == expected.value_high


def test_show_marks_metrics_in_brackets_and_lists_them_in_json(sqlite_url, seed_dir):
    run(sqlite_url, "load", str(seed_dir))
    text = run(sqlite_url, "show", "1").output
    assert "民警[4495人]" in text and "[9000余名]民警" in text and "环比上升[58.2%]" in text
    doc = json.loads(run(sqlite_url, "show", "1", "--format", "json").output)
    p8 = doc["article"]["sections"][1]["paragraphs"][3]
    assert [(m["surface"], m["value"], m["unit"]) for m in p8["metrics"]] == [("4495人", 4495, "人"), ("3518人", 3518, "人")]
