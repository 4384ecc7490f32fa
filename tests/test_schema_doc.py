"""The data dictionary: complete, rendered by `archive schema`, and docs/schema.md kept in step."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from archive import dictionary
from archive.cli import main
from archive.models import Base

DOC = Path(__file__).parent.parent / "docs" / "schema.md"


def test_every_table_view_and_column_is_described():
    rels = dictionary.relations()
    assert {r.name for r in rels if r.kind == "table"} == set(Base.metadata.tables)
    assert {r.name for r in rels if r.kind == "view"} == {"v_article", "v_metric", "v_paragraph", "v_series", "v_fact"}
    for r in rels:
        assert r.description, r.name
        for c in r.columns:
            assert c.description and c.type, f"{r.name}.{c.name}"


def test_view_columns_inherit_table_comments():
    v_metric = {c.name: c for c in next(r for r in dictionary.relations() if r.name == "v_metric").columns}
    assert v_metric["value"].description == Base.metadata.tables["metric"].c.value.comment
    assert v_metric["value"].type == "NUMERIC(38, 10)" and v_metric["date"].type == "DATE"


def test_schema_command_json_and_markdown():
    out = CliRunner().invoke(main, ["schema", "--format", "json"])
    assert out.exit_code == 0
    data = json.loads(out.output)
    assert [d["name"] for d in data] == [r.name for r in dictionary.relations()]
    md = CliRunner().invoke(main, ["schema"]).output
    assert "## v_metric (view)" in md and "| value | NUMERIC(38, 10) | metric.value |" in md


def test_docs_schema_md_is_current():
    assert DOC.read_text(encoding="utf-8") == dictionary.to_markdown(), (
        "docs/schema.md is stale: run `archive schema --format markdown > docs/schema.md`"
    )
