"""Loading end to end through the CLI, on every engine: the seed read back exactly as printed."""

from __future__ import annotations

import datetime as dt
import json
import re

from click.testing import CliRunner
from sqlalchemy.orm import Session

from archive import db, queries
from archive.cli import main
from tests.conftest import DATA, SEED
from tests.pagegen import build_page


def run(url, *args, ok=True):
    result = CliRunner().invoke(main, ["--db", url, *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output + (result.stderr if result.stderr_bytes else "")
    return result


def counts(url) -> dict:
    eng = db.make_engine(url)
    with Session(eng) as s:
        rows = queries.stats(s)["rows"]
    eng.dispose()
    return rows


def subset(got, want, where="") -> None:
    """Every field of `want` is in `got` with an equal value (extra fields in `got` are fine)."""
    if isinstance(want, dict):
        for k, v in want.items():
            assert k in got, f"{where}.{k} missing"
            subset(got[k], v, f"{where}.{k}")
    elif isinstance(want, list):
        assert len(got) == len(want), f"{where}: {len(got)} items, expected {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            subset(g, w, f"{where}[{i}]")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def test_seed_show_json_matches_expected(db_url, seed_dir):
    out = run(db_url, "load", str(seed_dir)).output
    assert "1 new" in out
    shown = json.loads(run(db_url, "show", "1", "--format", "json").output)
    expected = json.loads((DATA / "seed.expected.json").read_text(encoding="utf-8"))
    subset(shown["newspaper"], expected["newspaper"], "newspaper")
    subset(shown["issue"], expected["issue"], "issue")
    subset(shown["article"], expected["articles"][0], "article")
    assert shown["article"]["paragraph_count"] == 31
    assert shown["article"]["char_count"] == sum(
        len(p["text"]) for s in expected["articles"][0]["sections"] for p in s["paragraphs"]
    )


def test_reload_is_unchanged_and_changes_nothing(db_url, seed_dir):
    run(db_url, "load", str(seed_dir))
    before = counts(db_url)
    out = run(db_url, "load", str(seed_dir)).output
    assert "unchanged:" in out and "1 unchanged" in out and "0 new" in out
    assert counts(db_url) == before


def test_changed_file_replaces_its_rows(db_url, tmp_path):
    page_file = tmp_path / "page.txt"
    text1, exp1 = build_page(7, articles=2)
    page_file.write_text(text1, encoding="utf-8")
    run(db_url, "load", str(page_file))
    text2, exp2 = build_page(8, articles=1, date=dt.date(2022, 5, 4))
    page_file.write_text(text2, encoding="utf-8")
    out = run(db_url, "load", str(page_file)).output
    assert "1 updated" in out
    rows = counts(db_url)
    paragraphs = sum(len(s["paragraphs"]) for a in exp2["articles"] for s in a["sections"])
    assert rows["source"] == 1 and rows["article"] == 1 and rows["paragraph"] == paragraphs
    assert rows["issue"] == 1  # the first version's issue had nothing left in it
    listed = json.loads(run(db_url, "articles", "--format", "json").output)
    assert [a["title"] for a in listed] == [exp2["articles"][0]["title"]]
    assert listed[0]["date"] == "2022-05-04"


def test_bad_file_among_good_ones(db_url, tmp_path):
    d = tmp_path / "batch"
    d.mkdir()
    for i in range(3):
        (d / f"good{i}.txt").write_text(build_page(20 + i, date=dt.date(2021, 1, 1 + i))[0], encoding="utf-8")
    (d / "bad.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (d / "notapage.txt").write_text("这只是一段文字，没有报头。\n", encoding="utf-8")
    result = run(db_url, "load", str(d), ok=False)
    assert result.exit_code == 1
    errors = [ln for ln in result.stderr.splitlines() if ln]
    assert len(errors) == 2
    assert re.match(re.escape(str(d / "bad.txt")) + r":\d+: not a text file", errors[0])
    assert errors[1].startswith(str(d / "notapage.txt") + ":1: no masthead")
    assert "3 new" in result.stdout and "2 failed" in result.stdout
    assert counts(db_url)["source"] == 3


def test_purge_removes_a_file_and_everything_from_it(db_url, seed_dir, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text(build_page(30)[0], encoding="utf-8")
    run(db_url, "load", str(seed_dir), str(other))
    run(db_url, "purge", str(seed_dir / SEED.name))
    rows = counts(db_url)
    assert rows["source"] == 1 and rows["newspaper"] == 1 and rows["issue"] == 1
    assert rows["paragraph"] == json.loads(run(db_url, "show", "2", "--format", "json").output)["article"]["paragraph_count"]
    shown = json.loads(run(db_url, "articles", "--format", "json").output)
    assert all(a["newspaper"] == "江城晚报" for a in shown)
    result = run(db_url, "purge", "999", ok=False)
    assert result.exit_code == 1 and "no loaded file" in result.output


def test_read_commands(db_url, seed_dir):
    run(db_url, "load", str(seed_dir))
    stats = json.loads(run(db_url, "stats", "--format", "json").output)
    assert stats["rows"]["paragraph"] == 31 and stats["rows"]["section"] == 6
    assert stats["newspapers"] == ["内蒙古法制报"]
    assert stats["first_issue"] == stats["last_issue"] == "2020-08-26"
    csv_out = run(db_url, "issues", "--format", "csv").output.splitlines()
    assert csv_out[0] == "id,newspaper,date,weekday,number,articles"
    assert csv_out[1].endswith(",内蒙古法制报,2020-08-26,星期三,4012,1")
    assert json.loads(run(db_url, "articles", "--date", "2020-08-26", "--format", "json").output)[0]["paragraphs"] == 31
    assert run(db_url, "articles", "--date", "2020-08-27", "--format", "json").output.strip() == "[]"
    text = run(db_url, "show", "1").output
    assert "“包头样本”应民意 激发担当新作为" in text and "【上下联动整体推进 着力打牢政治建警思想根基】" in text
    assert run(db_url, "show", "99", ok=False).exit_code == 1


def test_every_command_has_help():
    import click

    def walk(cmd, path):
        yield path, cmd
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, path + [name])

    for path, cmd in walk(main, []):
        assert cmd.help, f"archive {' '.join(path)} has no help"
        assert CliRunner().invoke(main, [*path, "--help"]).exit_code == 0
