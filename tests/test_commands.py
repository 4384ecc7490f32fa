"""Commands beyond load and show: reparse, metrics, driver hints, parallel loading, installed package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from archive import db
from archive.models import Article, Issue, Metric, Newspaper, Paragraph, Section, Source
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


def test_reparse_keeps_the_ids_of_what_it_parses_again(db_url, seed_dir, tmp_path):
    """Bookmarks and BI filters name rows by id: after reparse, the issue, the article, its sections
    and its paragraphs keep their ids where the parser finds them at the same positions; a paragraph
    that was missing gets a new id, above all others."""
    run(db_url, "load", str(seed_dir))
    eng = db.make_engine(db_url)

    def ids():
        with Session(eng) as s:
            return (
                s.execute(select(Issue.id, Article.id).join(Article, Article.issue_id == Issue.id)).all(),
                s.execute(select(Section.id, Section.ordinal).order_by(Section.id)).all(),
                s.execute(select(Paragraph.id, Paragraph.ordinal, Paragraph.text).order_by(Paragraph.ordinal)).all(),
            )

    issue_article, sections, paragraphs = ids()
    with Session(eng) as s, s.begin():
        # rows an older parser wrote: the last paragraph missing, the first one's text wrong
        last = paragraphs[-1].id
        s.execute(delete(Metric).where(Metric.paragraph_id == last))
        s.execute(delete(Paragraph).where(Paragraph.id == last))
        s.execute(update(Paragraph).where(Paragraph.ordinal == 1).values(text="旧文本"))
    assert "1 changed" in run(db_url, "reparse").output
    issue_article_after, sections_after, paragraphs_after = ids()
    assert issue_article_after == issue_article and sections_after == sections
    assert [tuple(p) for p in paragraphs_after[:-1]] == [tuple(p) for p in paragraphs[:-1]]  # ids and texts
    assert paragraphs_after[-1].text == paragraphs[-1].text
    assert paragraphs_after[-1].id > max(p.id for p in paragraphs_after[:-1])
    assert "0 changed, 1 unchanged" in run(db_url, "reparse").output
    assert ids() == (issue_article_after, sections_after, paragraphs_after)
    # a new file after a reparse gets fresh ids, every one of them new
    other = tmp_path / "other.txt"
    other.write_text(build_page(7, articles=2)[0], encoding="utf-8")
    run(db_url, "load", str(other))
    with Session(eng) as s:
        assert s.scalar(select(func.count(Paragraph.id.distinct()))) == s.scalar(select(func.count()).select_from(Paragraph))
        newest = s.scalars(select(Paragraph.id).join(Article).join(Source).where(Source.path == str(other.resolve()))).all()
    assert newest and min(newest) > paragraphs_after[-1].id
    eng.dispose()


def test_ids_of_purged_and_replaced_files_are_never_handed_out_again(db_url, tmp_path):
    """On every engine, including SQLite, where the loader hands out ids itself. A new version of a file
    keeps the ids of the places it shares with the old one."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for i in range(3):
        pages.joinpath(f"p{i}.txt").write_text(build_page(40 + i, articles=2)[0], encoding="utf-8")
    run(db_url, "load", str(pages))
    eng = db.make_engine(db_url)

    def max_ids():
        with Session(eng) as s:
            return {m.__tablename__: s.scalar(select(func.max(m.id))) or 0 for m in (Source, Issue, Article, Section, Paragraph, Metric)}

    def newspaper_ids():
        with Session(eng) as s:
            return dict(s.execute(select(Newspaper.name, Newspaper.id)).all())

    def ids_of(path):
        """paragraph id by (article ordinal, paragraph ordinal)"""
        with Session(eng) as s:
            rows = s.execute(
                select(Article.ordinal, Paragraph.ordinal, Paragraph.id).join(Article).join(Source).where(Source.path == str(path.resolve()))
            )
            return {(a, p): i for a, p, i in rows}

    seen, p1_before, papers = max_ids(), ids_of(pages / "p1.txt"), newspaper_ids()
    run(db_url, "purge", str(pages / "p2.txt"))  # the newest file: its ids were the highest
    pages.joinpath("p1.txt").write_text(build_page(50, articles=3)[0], encoding="utf-8")  # replaced in place
    pages.joinpath("p3.txt").write_text(build_page(51, articles=1)[0], encoding="utf-8")
    run(db_url, "load", str(pages))
    after = max_ids()
    for table, highest in seen.items():
        if table != "issue":  # an issue date may already exist
            assert after[table] > highest, table
    assert min(ids_of(pages / "p3.txt").values()) > seen["paragraph"]
    # no newspaper id names another newspaper than it did: old ids are kept or gone, new ones are above
    for name, paper_id in newspaper_ids().items():
        assert papers.get(name) == paper_id or paper_id > max(papers.values()), name
    # the new version of p1 keeps the ids of the places it shares with the old one; the rest are new
    p1_after = ids_of(pages / "p1.txt")
    shared = p1_after.keys() & p1_before.keys()
    assert shared and all(p1_after[k] == p1_before[k] for k in shared)
    assert all(p1_after[k] > seen["paragraph"] for k in p1_after.keys() - shared)
    eng.dispose()


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
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    # The dependencies come from the environment running the tests (a venv, or the system): a .pth
    # file puts its site-packages after the new venv's own, so the archive installed there is found
    # first and SQLAlchemy, Alembic and click are found at all. Its .pth files are not read, so an
    # editable install of the checkout stays out of sight.
    own_site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    outer = [p for p in sys.path if p.rstrip("/").endswith(("site-packages", "dist-packages"))]
    (Path(own_site) / "outer_site_packages.pth").write_text("".join(f"{p}\n" for p in outer))
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


def test_the_cli_names_every_layout_the_parsers_have():
    # the CLI lists the layouts itself, so that starting it imports no parser
    from archive import cli, formats

    assert cli.LAYOUT_NAMES == tuple(formats.FORMATS) and cli.AUTO == formats.AUTO
