"""Group commit (archive.loader.GroupWriter): several files a transaction, each file still all or nothing
as a reader sees it, reported only once committed, one file's failure its own, and the same rows as
one transaction per file."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from archive import db, loader, searchindex, writer
from archive.models import Source
from archive.prepare import Prepared, prepare_bytes, prepare_file
from archive.searchquery import stored_docs
from tests.dbcheck import archive, integrity_problems, paragraphs_per_path, sqlite_rows
from tests.test_durability import finish, migrated, write_pages
from tests.pagegen import build_page


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def snapshot_engine(url: str):
    """An engine whose transactions each read one snapshot; on SQLite it also sees which texts FTS5
    holds (a contentless table lists its rows only through fts5vocab)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]

        def connect() -> sqlite3.Connection:
            con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            con.execute("CREATE VIRTUAL TABLE temp.indexed USING fts5vocab(main, search_fts, instance)")
            return con

        eng = create_engine("sqlite://", creator=connect)
        event.listen(eng, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))  # one snapshot until COMMIT
        return eng
    return db.make_engine(url, isolation_level="REPEATABLE READ")


def snapshot(eng) -> tuple[dict[str, int], set[int], set[int]]:
    """In one snapshot: paragraphs per stored path, the keys of every stored text, the keys the search
    index holds."""
    with eng.connect() as conn, conn.begin():
        stored = {
            path: n
            for path, n in conn.execute(text(
                "SELECT s.path, count(p.id) FROM source s LEFT JOIN article a ON a.source_id = s.id "
                "LEFT JOIN paragraph p ON p.article_id = a.id GROUP BY s.path"
            ))
        }
        texts = {key for key, _ in stored_docs(conn)}
        sql = "SELECT DISTINCT doc FROM temp.indexed" if eng.dialect.name == "sqlite" else "SELECT doc_key FROM search_doc"
        indexed = {int(r[0]) for r in conn.execute(text(sql))}
    return stored, texts, indexed


def prepared_pages(d: Path, n: int, first: int) -> tuple[list[Prepared], dict[str, int]]:
    expected = write_pages(d, n, first=first)
    return [prepare_file(p).flat() for p in sorted(expected)], expected


# ---------------------------------------------------------------- one batch


def test_a_file_failing_in_the_middle_of_a_batch_costs_that_file_alone(engine, tmp_path, monkeypatch):
    files, expected = prepared_pages(tmp_path / "pages", 5, first=300)
    victim = files[2].path
    real_write = writer.write_parsed

    def write_parsed(conn, source_id, parsed, *rest):
        real_write(conn, source_id, parsed, *rest)  # every row of the file is written, then the database refuses
        if conn.execute(Source.__table__.select().where(Source.id == source_id)).one().path == victim:
            raise DataError("INSERT …", {}, ValueError("value too long for the column"))

    monkeypatch.setattr(writer, "write_parsed", write_parsed)
    reported: list[loader.FileResult] = []
    with loader.GroupWriter(engine, reported.append, files=32, seconds=3600) as group:
        for prepared in files:
            group.add(prepared)
        assert reported == []  # one batch, not committed yet: nothing is reported
        assert group.stored == 4
    assert [(r.path, r.status) for r in reported] == [(p.path, "failed" if p.path == victim else "new") for p in files]
    assert reported[2].message == f"{victim}:1: database error: value too long for the column"
    url = _url(engine)
    assert paragraphs_per_path(url) == {f: n for f, n in expected.items() if f != victim}
    assert integrity_problems(url) == []
    _, texts, indexed = snapshot(snapshot_engine(url))
    assert texts == indexed and texts  # the files after the failed one have their index entries too


def test_a_race_inside_a_batch_commits_the_batch_and_stores_the_file_alone(engine, tmp_path, monkeypatch):
    """A unique key or a lock lost to another loader: the files before it are committed, and the file
    is decided again in a transaction of its own (as one transaction per file did)."""
    files, expected = prepared_pages(tmp_path / "pages", 4, first=330)
    real_store, raised = loader.store, []

    def store(conn, prepared, *rest):
        if prepared.path == files[2].path and not raised:
            raised.append(prepared.path)
            raise IntegrityError("INSERT …", {}, ValueError("duplicate key: another loader was first"))
        return real_store(conn, prepared, *rest)

    monkeypatch.setattr(loader, "store", store)
    reported: list[loader.FileResult] = []
    with loader.GroupWriter(engine, reported.append, files=32, seconds=3600) as group:
        for prepared in files[:3]:
            group.add(prepared)
        assert [r.path for r in reported] == [p.path for p in files[:3]]  # the two before it, then it alone
        group.add(files[3])
    assert [r.status for r in reported] == ["new"] * 4
    assert paragraphs_per_path(_url(engine)) == expected


def test_a_batch_that_cannot_commit_is_stored_again_a_file_a_transaction(engine, tmp_path, monkeypatch):
    files, expected = prepared_pages(tmp_path / "pages", 4, first=360)
    real_flush, failures = searchindex.PendingIndex.flush, []

    def flush(self, conn):
        if not failures:  # the batch's last statements fail (a server gone away, say), once
            failures.append(1)
            raise OperationalError("INSERT …", {}, ValueError("server closed the connection"))
        real_flush(self, conn)

    monkeypatch.setattr(searchindex.PendingIndex, "flush", flush)
    reported: list[loader.FileResult] = []
    with loader.GroupWriter(engine, reported.append, files=32, seconds=3600) as group:
        for prepared in files:
            group.add(prepared)
    assert [(r.path, r.status) for r in reported] == [(p.path, "new") for p in files]
    url = _url(engine)
    assert paragraphs_per_path(url) == expected
    _, texts, indexed = snapshot(snapshot_engine(url))
    assert texts == indexed and texts


def test_a_batch_stores_the_same_rows_as_a_transaction_per_file(tmp_path):
    files, _ = prepared_pages(tmp_path / "pages", 12, first=400)
    dumps = []
    for size in (1, 5):
        url = migrated(f"sqlite:///{tmp_path / f'b{size}.db'}")
        eng = db.make_engine(url)
        results: list[loader.FileResult] = []
        with loader.GroupWriter(eng, results.append, files=size, seconds=3600) as group:
            for prepared in files:
                group.add(prepared)
        eng.dispose()
        dumps.append(([(r.path, r.status, r.source_id) for r in results], sqlite_rows(url)))
    assert dumps[0] == dumps[1]


def test_a_path_written_twice_commits_the_batch_in_between(engine, tmp_path):
    """Only a file at the same path can replace rows the open batch wrote; their index entries are
    written before that (a contentless FTS5 table forgets a text only when it holds it)."""
    first = prepare_bytes("/pages/p.txt", build_page(1)[0].encode("utf-8"))
    second = prepare_bytes("/pages/p.txt", build_page(2)[0].encode("utf-8"))
    other = prepare_bytes("/pages/q.txt", build_page(3)[0].encode("utf-8"))
    reported: list[loader.FileResult] = []
    with loader.GroupWriter(engine, reported.append, files=32, seconds=3600) as group:
        group.add(first)
        group.add(other)
        assert reported == []
        group.add(second)
        assert [r.status for r in reported] == ["new", "new"]  # committed before the second /pages/p.txt
    assert [r.status for r in reported] == ["new", "new", "updated"]
    url = _url(engine)
    assert integrity_problems(url) == []
    _, texts, indexed = snapshot(snapshot_engine(url))
    assert texts == indexed and texts


def test_a_failure_before_the_database_keeps_its_place_in_the_report(engine, tmp_path):
    files, _ = prepared_pages(tmp_path / "pages", 3, first=450)
    reported: list[loader.FileResult] = []
    with loader.GroupWriter(engine, reported.append, files=32, seconds=3600) as group:
        group.add(files[0])
        group.failed(loader.FileResult("/bad.txt", "failed", None, "/bad.txt:1: no masthead"))
        group.add(files[1])
        group.idle()  # the next file is not ready: what is written is committed and reported
        assert [r.path for r in reported] == [files[0].path, "/bad.txt", files[1].path]
        group.add(files[2])
    assert [r.status for r in reported] == ["new", "failed", "new", "new"]


def test_an_error_that_ends_the_load_stores_and_reports_nothing_of_the_open_batch(engine, tmp_path):
    files, _ = prepared_pages(tmp_path / "pages", 4, first=470)
    reported: list[loader.FileResult] = []
    with pytest.raises(KeyboardInterrupt):
        with loader.GroupWriter(engine, reported.append, files=3, seconds=3600) as group:
            for prepared in files:
                group.add(prepared)  # the first three are committed together
            raise KeyboardInterrupt  # Ctrl-C with the fourth written but not committed
    assert [r.path for r in reported] == [p.path for p in files[:3]]
    assert sorted(paragraphs_per_path(_url(engine))) == sorted(p.path for p in files[:3])


# ---------------------------------------------------------------- what a reader sees


def test_a_reader_never_sees_part_of_a_file(db_url, tmp_path):
    """A reader polling while a load runs sees every file whole: all its paragraphs, and every text of
    every stored row in the search index, nothing more."""
    files = 160
    expected = write_pages(tmp_path / "pages", files, first=600)
    migrated(db_url)
    reader = snapshot_engine(db_url)
    proc = archive(db_url, "load", "-q", str(tmp_path / "pages"))
    seen, partial = set(), 0
    try:
        while True:
            done = proc.poll() is not None
            stored, texts, indexed = snapshot(reader)
            assert stored == {p: expected[p] for p in stored}, "a file is there in part"
            assert texts == indexed, "rows without their index entries, or index entries without their rows"
            seen.add(len(stored))
            partial += 0 < len(stored) < files
            if done:
                break
            time.sleep(0.01)
    finally:
        code, _, err = finish(proc)
        reader.dispose()
    assert code == 0, err
    assert len(stored) == files
    assert partial >= 1, f"no snapshot caught the load in flight ({sorted(seen)})"


def test_the_writer_waits_for_a_file_only_as_long_as_its_batch_may_wait():
    from concurrent.futures import Future

    slow: Future = Future()
    started = time.monotonic()
    assert loader._impatient(slow, lambda: 0.05)  # not ready in time: commit the batch, then wait
    assert time.monotonic() - started >= 0.04
    assert not loader._impatient(slow, lambda: None)  # no batch open: just wait
    ready: Future = Future()
    ready.set_result(None)
    assert not loader._impatient(ready, lambda: 0.0)


def test_a_batch_is_patient_for_the_rest_of_its_time(engine, tmp_path):
    files, _ = prepared_pages(tmp_path / "pages", 1, first=490)
    group = loader.GroupWriter(engine, lambda r: None, files=32, seconds=10)
    assert group.patience() is None
    with group:
        group.add(files[0])
        assert 9 < group.patience() <= 10


def test_a_batch_whose_transaction_is_lost_is_stored_again_a_file_a_transaction(sqlite_url, tmp_path, monkeypatch):
    """MariaDB rolls the whole transaction back on a deadlock, savepoints and all: the batch's files are
    stored again, one transaction each, and reported in their order."""
    files, expected = prepared_pages(tmp_path / "pages", 4, first=380)
    real_store, lost = loader.store, []

    def store(conn, prepared, *rest):
        if prepared.path == files[2].path and not lost:
            lost.append(1)
            conn.exec_driver_sql("ROLLBACK")  # the transaction ends under the batch, as a deadlock ends it there
            raise OperationalError("INSERT …", {}, ValueError("Deadlock found when trying to get lock"))
        return real_store(conn, prepared, *rest)

    monkeypatch.setattr(loader, "store", store)
    engine = db.make_engine(migrated(sqlite_url))
    reported: list[loader.FileResult] = []
    with loader.GroupWriter(engine, reported.append, files=32, seconds=3600) as group:
        for prepared in files:
            group.add(prepared)
    engine.dispose()
    assert lost and [(r.path, r.status) for r in reported] == [(p.path, "new") for p in files]
    assert paragraphs_per_path(sqlite_url) == expected
    assert integrity_problems(sqlite_url) == []
