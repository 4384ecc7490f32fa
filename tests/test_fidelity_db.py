"""Real newspapers in, nothing lost (issue 13, the loader's half): copies of a file at other paths,
headings and the like in search, the weekday, the page columns, articles without body text and the
progress bar, on every engine."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from archive import db, loader
from archive.document import Article, Document, IssueInfo, NewspaperInfo, Paragraph, Section
from archive.progress import CLEAR_LINE, Progress
from tests import searchcorpus
from tests.pagegen import build_page
from tests.test_load import counts, run
from tests.test_search import Brute, indexed


def _rows(url: str, sql: str) -> list[tuple]:
    eng = db.make_engine(url)
    with eng.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql))]
    eng.dispose()
    return rows


# ---------------------------------------------------------------- the same bytes at other paths


def test_copies_at_other_paths_are_recorded_and_purged_path_by_path(db_url, tmp_path):
    page, _ = build_page(3, articles=2, date=dt.date(2021, 4, 6))
    d = tmp_path / "pages"
    (d / "p2").mkdir(parents=True)
    first, copy = d / "01.txt", d / "p2" / "01.txt"  # an article continued onto page 2, saved twice
    first.write_text(page, encoding="utf-8")
    shutil.copy(first, copy)
    out = run(db_url, "load", str(d)).output
    assert f"new: {first}\n" in out and f"duplicate of {first}: {copy}\n" in out
    assert out.endswith("2 files: 1 new, 0 updated, 0 unchanged, 1 duplicate of another file, 0 failed\n")
    assert _rows(db_url, "SELECT source_id, path FROM source_path ORDER BY id") == [(1, str(first)), (1, str(copy))]
    stored = counts(db_url)
    assert stored["source"] == 1 and stored["article"] == 2
    again = run(db_url, "load", str(d)).output  # both paths known now
    assert again.endswith("2 files: 0 new, 0 updated, 2 unchanged, 0 failed\n")

    # purging the first path keeps the source (the copy holds the same bytes) and names the copy as its path
    assert run(db_url, "purge", str(first)).output == (
        f"purged path {first}; source 1 is still loaded from its other paths\n"
    )
    assert _rows(db_url, "SELECT id, path FROM source") == [(1, str(copy))]
    assert counts(db_url)["article"] == 2
    # purging the last path removes the source and everything parsed from it
    assert run(db_url, "purge", str(copy)).output == "purged source 1\n"
    assert {k: v for k, v in counts(db_url).items() if v} == {}
    assert run(db_url, "purge", str(copy), ok=False).exit_code == 1


def test_a_copy_that_changes_becomes_its_own_source(db_url, tmp_path):
    one, _ = build_page(4, date=dt.date(2021, 4, 7))
    other, _ = build_page(5, date=dt.date(2021, 4, 8))
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(one, encoding="utf-8")
    b.write_text(one, encoding="utf-8")
    run(db_url, "load", str(a), str(b))
    b.write_text(other, encoding="utf-8")
    assert run(db_url, "load", str(b)).output == f"updated: {b}\n1 files: 0 new, 1 updated, 0 unchanged, 0 failed\n"
    assert _rows(db_url, "SELECT s.path, p.path FROM source_path p JOIN source s ON s.id = p.source_id ORDER BY p.path") == [
        (str(a), str(a)), (str(b), str(b))
    ]
    b.write_text(one, encoding="utf-8")  # back to the first bytes: a copy again, its own source gone
    assert run(db_url, "load", str(b)).output.startswith(f"duplicate of {a}: {b}\n")
    assert counts(db_url)["source"] == 1 and counts(db_url)["issue"] == 1


def test_name_pattern_page_and_ordinal_are_kept_per_path(db_url, tmp_path):
    page, _ = build_page(6, date=dt.date(2021, 4, 9))
    for name in ("20210409-1-3.txt", "20210409-2-1.txt"):
        (tmp_path / name).write_text(page, encoding="utf-8")
    run(db_url, "load", str(tmp_path), "--name-pattern", "{date:%Y%m%d}-{page}-{ordinal}.txt")
    assert _rows(db_url, "SELECT page, ordinal FROM source_path ORDER BY path") == [("1", 3), ("2", 1)]


# ---------------------------------------------------------------- headings, kickers and subtitles


def _document(path: str, day: dt.date, *, kicker=None, subtitle=None, heading=None, title="标题", body="正文一段。") -> object:
    sections = (Section(0, None, (Paragraph(1, body, 1, 1),)),)
    if heading:
        sections += (Section(1, heading, (Paragraph(2, "小标题下的正文。", 2, 2),)),)
    article = Article(1, title, subtitle, None, (), sections, kicker=kicker, page="2", page_name="要闻")
    return searchcorpus.prepared(path, Document(NewspaperInfo("江城晚报"), IssueInfo(day), (article,)))


def test_headings_kickers_and_subtitles_are_searchable(db_url):
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    docs = [
        _document("/h.txt", dt.date(2021, 5, 1), heading="核心阅读：稳就业"),
        _document("/k.txt", dt.date(2021, 5, 2), kicker="核心阅读"),
        _document("/s.txt", dt.date(2021, 5, 3), subtitle="记者手记 核心阅读之外"),
        _document("/p.txt", dt.date(2021, 5, 4), body="这一段不是核心阅读吗"),
        _document("/t.txt", dt.date(2021, 5, 5), title="没有那个词"),
    ]
    for d in docs:
        assert loader.store_with_retry(eng, d).status == "new"
    truth = Brute(eng)
    for query in ("核心阅读", "核心", "稳就业", "手记 -之外", "要闻", "小标题"):
        assert indexed(eng, query) == truth.keys(query), query
    eng.dispose()
    found = json.loads(run(db_url, "search", "核心阅读", "--format", "json").output)
    assert [(h["date"], h["hit"]) for h in found["hits"]] == [
        ("2021-05-04", "paragraph"), ("2021-05-03", "subtitle"), ("2021-05-02", "kicker"), ("2021-05-01", "heading")
    ]
    heading = found["hits"][-1]
    assert heading["heading"] == "核心阅读：稳就业" and heading["snippet"] == "核心阅读：稳就业" and heading["paragraph_id"] is None
    assert heading["matches"] == [{"start": 0, "end": 4}]
    table = run(db_url, "search", "核心阅读").output
    assert any("heading" in line and "[核心阅读]：稳就业" in line for line in table.splitlines())
    assert table.endswith("4 hits, showing 1-4\n")
    assert json.loads(run(db_url, "search", "核心阅读", "--newspaper", "江城晚报", "--format", "json").output)["total"] == 4
    # purging a file takes its headings out of the index
    run(db_url, "purge", "/h.txt")
    assert json.loads(run(db_url, "search", "稳就业", "--format", "json").output)["total"] == 0


def test_generated_corpus_has_hits_in_every_field(engine):
    for d in searchcorpus.documents(600, seed=2):
        loader.store_with_retry(engine, d)
    truth = Brute(engine)
    with Session(engine) as s:
        from archive.search import search

        fields = {h["hit"] for q in ("核心阅读", "聚焦群众需求", "纪实", "服务") for h in search(s, q, limit=500)["hits"]}
    assert fields == {"kicker", "heading", "subtitle", "title", "paragraph"}
    for query in ("核心阅读", "聚焦", "纪实 -江城", "铁军"):
        assert indexed(engine, query) == truth.keys(query), query


# ---------------------------------------------------------------- what a reader sees


def test_weekday_is_worked_out_when_no_page_prints_it(db_url, tmp_path):
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    loader.store_with_retry(eng, _document("/w.txt", dt.date(2021, 5, 6)))  # a Thursday
    assert _rows(db_url, "SELECT weekday FROM issue") == [("星期四",)]
    # migration 0008 fills the weekdays of issues loaded before
    with eng.begin() as conn:
        conn.execute(text("UPDATE issue SET weekday = NULL"))
    db.downgrade(eng, "0007_id_watermark")
    db.upgrade(eng)
    eng.dispose()
    assert _rows(db_url, "SELECT weekday FROM issue") == [("星期四",)]
    assert json.loads(run(db_url, "issues", "--format", "json").output)[0]["weekday"] == "星期四"


def test_articles_command_pages_dates_and_limit(db_url):
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    for i in range(4):
        loader.store_with_retry(eng, _document(f"/a{i}.txt", dt.date(2021, 6, 1 + i), title=f"第{i}篇"))
    with eng.connect() as conn:
        assert conn.execute(text("SELECT title, page, page_name FROM v_article ORDER BY article_id")).first() == ("第0篇", "2", "要闻")
    eng.dispose()
    rows = json.loads(run(db_url, "articles", "--from", "2021-06-02", "--to", "2021-06-03", "--format", "json").output)
    assert [(r["date"], r["page"], r["page_name"], r["title"]) for r in rows] == [
        ("2021-06-02", "2", "要闻", "第1篇"), ("2021-06-03", "2", "要闻", "第2篇")
    ]
    assert len(json.loads(run(db_url, "articles", "--limit", "3", "--format", "json").output)) == 3
    assert run(db_url, "articles", "--limit", "1").output.splitlines()[0].split()[:5] == ["id", "newspaper", "date", "page", "page_name"]


def test_articles_without_body_text_are_counted_not_failed(db_url):
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    titles_only = Document(
        NewspaperInfo("江城晚报"), IssueInfo(dt.date(2021, 7, 1)),
        (Article(1, "图片新闻", None, None, (), ()), Article(2, "简讯", None, None, (), (Section(0, None, ()),))),
    )
    report = loader.LoadReport()
    report.results.append(loader.store_with_retry(eng, searchcorpus.prepared("/t.txt", titles_only)))
    report.results.append(loader.store_with_retry(eng, _document("/b.txt", dt.date(2021, 7, 1))))
    eng.dispose()
    assert report.summary() == "2 files: 2 new, 0 updated, 0 unchanged, 0 failed; 2 articles without body text"
    assert _rows(db_url, "SELECT title, paragraph_count FROM article ORDER BY id") == [("图片新闻", 0), ("简讯", 0), ("标题", 1)]


# ---------------------------------------------------------------- the progress bar


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_eta_is_paced_from_the_first_file_not_from_start_up():
    clock, out = Clock(), io.StringIO()
    bar = Progress(1000, "loading", out, clock)
    bar.start()
    assert bar.eta() is None and bar.line().endswith("0/1000   0%  eta --:--")
    clock.now = 8.0  # parser processes starting
    bar.update()
    assert bar.eta() is None  # one file is no pace
    for _ in range(10):
        clock.now += 0.05
        bar.update()
    assert abs(bar.eta() - 989 * 0.05) < 1e-6
    assert bar.line().endswith("11/1000   1%  eta 00:49")


def test_messages_print_above_the_bar():
    out = io.StringIO()
    bar = Progress(3, "loading", out, Clock())
    bar.start()
    bar.update()
    bar.message("/x.txt:1: no masthead")
    bar.close()
    screen = out.getvalue()
    # the line is cleared before the message, which ends its own line; the bar is drawn again below it
    assert f"{CLEAR_LINE}/x.txt:1: no masthead\n{CLEAR_LINE}loading [" in screen
    assert screen.endswith(CLEAR_LINE)


def test_load_on_a_terminal_prints_errors_above_the_bar(tmp_path):
    d = tmp_path / "pages"
    d.mkdir()
    for i in range(3):
        (d / f"{i}.txt").write_text(build_page(20 + i, date=dt.date(2021, 8, 1 + i))[0], encoding="utf-8")
    (d / "9.txt").write_text("这只是一段文字，没有报头。\n", encoding="utf-8")
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm"}
    done = subprocess.run(
        [sys.executable, "-m", "archive", "--db", f"sqlite:///{tmp_path / 'a.db'}", "load", str(d), "--workers", "1"],
        stdout=subprocess.PIPE, stderr=slave, env=env, timeout=120,
    )
    os.close(slave)
    screen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(master)
    screen = screen.decode()
    assert done.returncode == 1
    assert f"{CLEAR_LINE}{d / '9.txt'}:1: no masthead" in screen.replace("\r\n", "\n")
    assert "loading [" in screen and "eta" in screen
    assert done.stdout.decode().endswith("4 files: 3 new, 0 updated, 0 unchanged, 1 failed\n")
