"""Commands beyond load and show: reparse, metrics, driver hints, parallel loading, installed package."""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from archive import db
from archive.models import Metric, Paragraph
from tests.conftest import SEED
from tests.pagegen import build_page
from tests.test_load import counts, run

ROOT = Path(__file__).parent.parent


def test_reparse_restores_rows_from_stored_text_and_reports_changes(db_url, seed_dir):
    run(db_url, "load", str(seed_dir))
    before = json.loads(run(db_url, "show", "1", "--format", "json").output)
    eng = db.make_engine(db_url)
    with Session(eng) as s, s.begin():
        # stand-in for rows written by an older parser: one paragraph lost, one text wrong
        last = s.scalar(select(Paragraph.id).order_by(Paragraph.id.desc()).limit(1))
        s.execute(delete(Metric).where(Metric.paragraph_id == last))
        s.execute(delete(Paragraph).where(Paragraph.id == last))
        s.execute(update(Paragraph).where(Paragraph.ordinal == 1).values(text="旧文本"))
    eng.dispose()
    seed_dir.joinpath(SEED.name).unlink()  # reparse needs no file
    out = run(db_url, "reparse").output
    assert "changed: source 1" in out and "paragraph 30→31" in out
    assert "1 sources reparsed: 1 changed" in out
    (listed,) = json.loads(run(db_url, "articles", "--format", "json").output)
    after = json.loads(run(db_url, "show", str(listed["id"]), "--format", "json").output)
    for a, b in zip(after["article"]["sections"], before["article"]["sections"]):
        assert [p["text"] for p in a["paragraphs"]] == [p["text"] for p in b["paragraphs"]]
        assert [len(p["metrics"]) for p in a["paragraphs"]] == [len(p["metrics"]) for p in b["paragraphs"]]
    assert "0 changed, 1 unchanged" in run(db_url, "reparse").output


def test_metrics_command_lists_with_filters(db_url, seed_dir):
    run(db_url, "load", str(seed_dir))
    rows = json.loads(run(db_url, "metrics", "--format", "json").output)
    stored = counts(db_url)["metric"]
    assert len(rows) == stored
    for r in rows:
        assert r["date"] == "2020-08-26" and r["newspaper"] == "内蒙古法制报"
    by_unit = json.loads(run(db_url, "metrics", "--unit", "人", "--format", "json").output)
    assert all(r["unit"] == "人" for r in by_unit)
    assert json.loads(run(db_url, "metrics", "--from", "2020-08-27", "--format", "json").output) == []


def test_missing_driver_names_the_extra(tmp_path):
    result = run("mysql+mysqldb://root@127.0.0.1/x", "stats", ok=False)
    assert result.exit_code == 1
    assert "pip install 'archive[mysql]'" in result.output
    assert "Traceback" not in result.output


def test_many_files_load_through_worker_processes(db_url, tmp_path):
    d = tmp_path / "many"
    d.mkdir()
    import datetime as dt

    for i in range(12):
        (d / f"p{i:02}.txt").write_text(build_page(100 + i, date=dt.date(2022, 1, 1) + dt.timedelta(days=i))[0], encoding="utf-8")
    (d / "broken.txt").write_text("无报头的文字。", encoding="utf-8")
    result = run(db_url, "load", str(d), "--workers", "2", ok=False)
    assert result.exit_code == 1
    assert "12 new" in result.stdout and "1 failed" in result.stdout
    assert counts(db_url)["issue"] == 12


@pytest.mark.skipif(os.environ.get("ARCHIVE_SKIP_SLOW") == "1", reason="ARCHIVE_SKIP_SLOW=1")
def test_installed_package_migrates_from_another_directory(tmp_path):
    """A regular (non-editable) install carries its migrations: `archive db upgrade` works anywhere."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    py = env_dir / "bin" / "python"
    done = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ARCHIVE_DATABASE_URL")}
    where = subprocess.run(
        [str(py), "-c", "import archive, archive.migrations as m; print(archive.__file__); print(m.__file__)"],
        cwd=work, capture_output=True, text=True, env=env,
    )
    assert str(env_dir) in where.stdout, where.stdout + where.stderr
    script = env_dir / "bin" / "archive"
    up = subprocess.run([str(script), "db", "upgrade"], cwd=work, capture_output=True, text=True, env=env)
    assert up.returncode == 0, up.stderr
    assert (work / "archive.db").exists()
    cur = subprocess.run([str(script), "db", "current"], cwd=work, capture_output=True, text=True, env=env)
    assert cur.stdout.strip() == db.head_revision()


def test_reparse_reads_each_source_with_the_format_and_options_it_was_loaded_with(db_url, tmp_path):
    from tests.test_load_formats import PATTERN, mixed_dir

    d = mixed_dir(tmp_path)
    run(db_url, "load", str(d), "--newspaper", "江城晚报", "--name-pattern", PATTERN)
    before = {a["title"]: a for a in json.loads(run(db_url, "articles", "--format", "json").output)}
    out = run(db_url, "reparse").output
    assert "7 sources reparsed: 0 changed, 7 unchanged, 0 failed" in out
    after = {a["title"]: a for a in json.loads(run(db_url, "articles", "--format", "json").output)}
    strip = lambda a: {k: v for k, v in a.items() if k != "id"}  # noqa: E731
    assert {t: strip(a) for t, a in after.items()} == {t: strip(a) for t, a in before.items()}
