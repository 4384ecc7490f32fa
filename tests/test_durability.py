"""Nothing lost, nobody in: a load killed mid-way (mid-batch: the loader commits several files at once),
loaders racing, a failure inside a batch, fuzzing. More on batches: tests/test_group_commit.py."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import DataError

from archive import db, loader, writer
from archive.document import Document, ParseError
from archive.formats import page
from archive.models import Source
from archive.prepare import FileError, parse_document, prepare_bytes
from tests.dbcheck import archive, integrity_problems, paragraphs_per_path, source_count, sqlite_rows
from tests.pagegen import build_page

SUMMARY = re.compile(r"(\d+) files: (\d+) new, (\d+) updated, (\d+) unchanged, (\d+) failed")


def write_pages(d: Path, n: int, first: int = 0) -> dict[str, int]:
    """n distinct pages in d; returns each file's resolved path and its number of paragraphs."""
    d.mkdir(parents=True, exist_ok=True)
    expected = {}
    for i in range(first, first + n):
        text, exp = build_page(i, articles=1 + i % 2, date=dt.date(2021, 1, 1) + dt.timedelta(days=i % 90), number=i)
        path = (d / f"page{i:04d}.txt").resolve()
        path.write_text(text, encoding="utf-8")
        expected[str(path)] = sum(len(s["paragraphs"]) for a in exp["articles"] for s in a["sections"])
    return expected


def migrated(url: str) -> str:
    eng = db.make_engine(url)
    db.upgrade(eng)
    eng.dispose()
    return url


def finish(proc, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def assert_clean_stderr(err: str) -> None:
    for bad in ("Traceback", "locked", "IntegrityError", "Duplicate", "duplicate key", "UniqueViolation"):
        assert bad not in err, err


# ---------------------------------------------------------------- interruption


FILES = 800


@pytest.mark.parametrize(
    "db_url,sig",
    [("sqlite", signal.SIGKILL), ("postgresql", signal.SIGKILL), ("mysql", signal.SIGKILL), ("sqlite", signal.SIGINT)],
    ids=["sqlite-SIGKILL", "postgresql-SIGKILL", "mysql-SIGKILL", "sqlite-SIGINT"],
    indirect=["db_url"],
)
def test_load_interrupted_mid_way_then_rerun_stores_every_file_once(db_url, sig, tmp_path):
    # enough files that the load is still going when the signal lands: the loader writes these small
    # pages at several hundred a second, and a busy machine may take a while to see the 15th
    expected = write_pages(tmp_path / "pages", FILES)
    migrated(db_url)
    proc = archive(db_url, "load", "-q", str(tmp_path / "pages"), start_new_session=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and source_count(db_url) < 15:
        time.sleep(0.01)
    os.killpg(proc.pid, sig)  # the loader and its parser workers, mid-write (SIGINT: as Ctrl-C does)
    _, err = proc.communicate()
    stored = paragraphs_per_path(db_url)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL, "the load finished before it could be killed"
    else:
        assert proc.returncode == 130, err
        reported = int(re.fullmatch(rf"interrupted after (\d+) of {FILES} files; run the same command again to load the rest\n", err).group(1))
        # files are committed in batches; Ctrl-C lands before a batch's COMMIT (it is rolled back) or
        # after its files are reported (loader.GroupWriter), so the count is exact
        assert reported == len(stored)
    assert 15 <= len(stored) < FILES
    assert integrity_problems(db_url) == []
    # what was committed is complete: no file is there in part
    assert stored == {p: expected[p] for p in stored}

    code, out, err = finish(archive(db_url, "load", str(tmp_path / "pages")))
    assert code == 0, err
    assert_clean_stderr(err)
    total, new, updated, unchanged, failed = map(int, SUMMARY.search(out).groups())
    assert (total, new, updated, unchanged, failed) == (FILES, FILES - len(stored), 0, len(stored), 0)
    assert paragraphs_per_path(db_url) == expected
    assert integrity_problems(db_url) == []
    if db_url.startswith("sqlite"):
        # the same database as one load that was never interrupted: the batch in flight left nothing,
        # and ids are handed out as if it had never been (the server engines' sequences move on)
        clean = f"sqlite:///{tmp_path / 'clean.db'}"
        code, _, err = finish(archive(migrated(clean), "load", "-q", str(tmp_path / "pages")))
        assert code == 0, err
        assert sqlite_rows(db_url) == sqlite_rows(clean)


# ---------------------------------------------------------------- concurrency


def racing_loaders_agree(url: str, arg_lists: list[list[str]], per_loader: int, expected: dict[str, int]) -> None:
    """Start one `archive load` per argument list at once; each succeeds, and every file is stored once,
    reported new by exactly one loader and unchanged by the others."""
    procs = [archive(url, "load", *args) for args in arg_lists]
    news = 0
    for code, out, err in [finish(p) for p in procs]:
        assert code == 0, err
        assert_clean_stderr(err)
        total, new, updated, unchanged, failed = map(int, SUMMARY.search(out).groups())
        assert (total, updated, failed) == (per_loader, 0, 0) and new + unchanged == per_loader, out
        news += new
    assert news == len(expected)
    assert paragraphs_per_path(url) == expected
    assert integrity_problems(url) == []


def test_first_connection_waits_for_a_file_another_process_holds(tmp_path):
    """Switching a new file to WAL needs it to itself, and while another connection is writing to it
    SQLite refuses at once, busy_timeout or not: the archive's engine waits and tries again instead of
    failing (two first loads into a new file met this)."""
    path = tmp_path / "new.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")  # a writer that has not committed yet (its migrations, say)
    holder.execute("INSERT INTO t VALUES (1)")
    releaser = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    releaser.start()
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        started = time.monotonic()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert time.monotonic() - started >= 0.4  # it waited for the holder, then switched
    finally:
        releaser.join()
        engine.dispose()
        holder.close()


def test_four_loaders_on_overlapping_files(db_url, tmp_path):
    expected = write_pages(tmp_path / "pages", 40)
    files = sorted(expected)
    migrated(db_url)
    # loader k takes 20 files starting at 10k (wrapping): every file is given to two loaders
    sets = [[files[(10 * k + i) % 40] for i in range(20)] for k in range(4)]
    racing_loaders_agree(db_url, [["--workers", "1", *s] for s in sets], 20, expected)


def test_two_loaders_on_the_same_50_files(db_url, tmp_path):
    expected = write_pages(tmp_path / "pages", 50, first=500)
    # no migration first: both loaders find an empty database and race to create the schema too
    racing_loaders_agree(db_url, [[str(tmp_path / "pages")]] * 2, 50, expected)


# ---------------------------------------------------------------- one file's failure stays its own


def test_parser_exception_rolls_back_that_file_alone(engine, tmp_path, monkeypatch):
    expected = write_pages(tmp_path / "pages", 5, first=900)
    files = sorted(expected)
    victim = files[2]
    victim_text = Path(victim).read_text(encoding="utf-8")
    real_parse = page.parse

    def parse(text: str, meta=None) -> Document:
        if text == victim_text:
            raise RuntimeError("parser bug")
        return real_parse(text, meta)

    monkeypatch.setattr(page, "parse", parse)
    report = loader.load_paths(engine, files, workers=1)
    by_path = {r.path: r for r in report.results}
    assert by_path[victim].status == "failed"
    assert by_path[victim].message == f"{victim}:1: internal parser error: RuntimeError: parser bug"
    assert [by_path[f].status for f in files if f != victim] == ["new"] * 4
    assert paragraphs_per_path(str(engine.url.render_as_string(hide_password=False))) == {
        f: n for f, n in expected.items() if f != victim
    }


def test_database_error_while_writing_rolls_back_that_file_alone(engine, tmp_path, monkeypatch):
    expected = write_pages(tmp_path / "pages", 5, first=950)
    files = sorted(expected)
    victim = files[1]
    real_write = writer.write_parsed

    def write_parsed(conn, source_id, parsed, *rest):
        real_write(conn, source_id, parsed, *rest)  # every row of the file is written, then the database refuses
        if conn.execute(select(Source.path).where(Source.id == source_id)).scalar() == victim:
            raise DataError("INSERT …", {}, ValueError("value too long for the column"))

    monkeypatch.setattr(writer, "write_parsed", write_parsed)
    report = loader.load_paths(engine, files, workers=1)
    by_path = {r.path: r for r in report.results}
    assert by_path[victim].status == "failed"
    assert by_path[victim].message == f"{victim}:1: database error: value too long for the column"
    url = engine.url.render_as_string(hide_password=False)
    assert paragraphs_per_path(url) == {f: n for f, n in expected.items() if f != victim}
    assert integrity_problems(url) == []


def test_strings_longer_than_their_columns_fail_alike_on_every_engine(db_url, tmp_path):
    text, _ = build_page(11, articles=2)
    lines = text.split("\n")
    title = next(i for i, ln in enumerate(lines) if ln.startswith("本报"))
    lines[title - 2] = "——" + "一条长得不像副题的副题" * 50  # 550 characters where 500 fit
    bad = tmp_path / "long_subtitle.txt"
    bad.write_text("\n".join(lines), encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text(build_page(12)[0], encoding="utf-8")
    code, out, err = finish(archive(db_url, "load", str(bad), str(good)))
    assert code == 1
    assert re.fullmatch(
        re.escape(str(bad.resolve())) + r":\d+: article 1: subtitle has 550 characters, more than the 500 stored\n", err
    ), err
    assert "1 new" in out and "1 failed" in out
    assert list(paragraphs_per_path(db_url)) == [str(good.resolve())]


# ---------------------------------------------------------------- fuzzing


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_parser_returns_a_document_or_its_own_error_for_any_text(text):
    try:
        doc = page.parse(text)
    except ParseError as exc:
        assert exc.line >= 1 and exc.reason and "\n" not in exc.reason
        return
    assert isinstance(doc, Document) and doc.articles


def _mutations():
    """Edits of a real-looking page: lines dropped, repeated, swapped, cut, or replaced with noise."""
    noise = st.text(alphabet=st.sampled_from("。，、“”——●：0123456789年月日星期第期报记者本通讯员\u3000 \r\tA"), max_size=30)
    edit = st.tuples(st.sampled_from(["drop", "repeat", "swap", "cut", "noise", "join"]), st.integers(0, 10_000), noise)
    return st.tuples(st.integers(0, 500), st.lists(edit, max_size=6))


def _mutate(seed: int, edits) -> str:
    lines = build_page(seed, articles=1 + seed % 3)[0].split("\n")
    for op, at, junk in edits:
        i = at % len(lines)
        if op == "drop":
            del lines[i]
        elif op == "repeat":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = (i + 1) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "cut":
            lines[i] = lines[i][: at % (len(lines[i]) + 1)]
        elif op == "noise":
            lines[i] = junk
        elif op == "join" and i + 1 < len(lines):
            lines[i : i + 2] = [lines[i] + lines[i + 1]]
        if not lines:
            lines = [""]
    return "\n".join(lines)


@settings(max_examples=300, deadline=None)
@given(_mutations())
def test_parser_on_mutated_pages_returns_a_document_or_its_own_error(mutation):
    try:
        page.parse(_mutate(*mutation))
    except ParseError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | _mutations().map(lambda m: _mutate(*m).encode("gb18030")))
def test_preparing_any_bytes_gives_a_file_or_a_one_line_error(data):
    try:
        prepare_bytes("f.txt", data)
    except FileError as exc:
        assert re.fullmatch(r"f\.txt:\d+: [^\n]+", str(exc)), str(exc)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=_mutations())
def test_loader_never_leaves_a_partial_file(tmp_path, mutation):
    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    text = _mutate(*mutation)
    path = tmp_path / f"m{abs(hash(text))}.txt"
    path.write_text(text, encoding="utf-8")
    eng = db.make_engine(url)
    db.ensure_schema(eng)
    [result] = loader.load_paths(eng, [path], workers=1).results
    stored = paragraphs_per_path(url).get(str(path.resolve()))
    try:
        parsed = parse_document(text)
    except ParseError:
        parsed = None
    if result.status == "failed":
        assert stored is None and parsed is None and result.message.startswith(f"{path.resolve()}:")
    elif result.status in ("new", "updated"):
        assert stored == sum(len(a.paragraphs) for a in parsed.document.articles)
    assert integrity_problems(url) == []
    eng.dispose()


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="the patched parser reaches workers by fork")
def test_a_parser_process_dying_costs_that_file_alone(engine, tmp_path, monkeypatch):
    expected = write_pages(tmp_path / "pages", 12, first=970)
    files = sorted(expected)
    victim = files[5]
    victim_text = Path(victim).read_text(encoding="utf-8")
    real_parse = page.parse

    def parse(text: str, meta=None) -> Document:
        if text == victim_text:
            os._exit(9)  # as the kernel's OOM killer would end it: no exception, no cleanup
        return real_parse(text, meta)

    monkeypatch.setattr(page, "parse", parse)  # worker processes are forked with it
    monkeypatch.setattr(loader, "START_METHOD", "fork")  # (the loader's default starts them clean)
    report = loader.load_paths(engine, files, workers=2)
    by_path = {r.path: r for r in report.results}
    assert by_path[victim].message == f"{victim}:1: the parser process died on this file (out of memory or a crash)"
    assert sorted(f for f, r in by_path.items() if r.status == "new") == [f for f in files if f != victim]
    assert paragraphs_per_path(engine.url.render_as_string(hide_password=False)) == {
        f: n for f, n in expected.items() if f != victim
    }
