"""An archive for the SQL, export and BI tests: the seed page, a generated page and a few metrics.

The metric extractor is another issue; the metrics here are written straight into the metric table so
that the views and exports have exact values (and decimals) to show.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from archive import db
from archive.cli import main
from archive.models import Metric, Paragraph
from tests.conftest import DATA
from tests.pagegen import build_page

GENERATED_DATE = dt.date(2021, 3, 9)
# (needle in the paragraph, surface, value, unit, kind, qualifier)
METRICS = [
    ("民警", "4495人", Decimal("4495"), "人", "count", "exact"),
    ("民警", "9000余名", Decimal("9000"), "名", "count", "more_than"),
    ("", "58.2%", Decimal("58.2"), "%", "percent", "exact"),
    ("", "0.0000000001元", Decimal("0.0000000001"), "元", "money", "exact"),
]


def cli(url, *args):
    result = CliRunner().invoke(main, ["--db", url, *args])
    return result


def seed_paragraphs() -> list[str]:
    expected = json.loads((DATA / "seed.expected.json").read_text(encoding="utf-8"))
    return [p["text"] for a in expected["articles"] for s in a["sections"] for p in s["paragraphs"]]


def build_archive(url: str, seed_dir, tmp_path) -> dict:
    """Load the seed and one generated page into `url`, add METRICS; return what was put in."""
    text, expected = build_page(11, articles=2, date=GENERATED_DATE)
    (seed_dir / "generated.txt").write_text(text, encoding="utf-8")
    result = cli(url, "load", "-q", str(seed_dir))
    assert result.exit_code == 0, result.output
    eng = db.make_engine(url)
    with Session(eng) as s, s.begin():
        # Known metric rows, not the extractor's: these tests are about views and exports
        # (edge values such as 1e-10), and must not move when the extractor improves.
        s.execute(delete(Metric))
        rows = []
        for i, (needle, surface, value, unit, kind, qualifier) in enumerate(METRICS, start=1):
            q = select(Paragraph.id, Paragraph.article_id).order_by(Paragraph.id)
            if needle:
                q = q.where(Paragraph.text.contains(needle))
            pid, aid = s.execute(q.limit(1)).one()
            rows.append(dict(article_id=aid, paragraph_id=pid, ordinal=i, surface=surface, char_start=0,
                             char_end=len(surface), value=value, unit=unit, qualifier=qualifier, kind=kind))
        s.execute(insert(Metric), rows)
    eng.dispose()
    paragraphs = sum(len(sec["paragraphs"]) for a in expected["articles"] for sec in a["sections"])
    return {"generated": expected, "paragraphs": 31 + paragraphs, "articles": 1 + len(expected["articles"])}


@pytest.fixture
def archive(db_url, seed_dir, tmp_path):
    """(url, facts) of a loaded archive on each engine."""
    return db_url, build_archive(db_url, seed_dir, tmp_path)
