"""Issue 19, data safety: hostile front matter, lossy downgrades, races with purge, failures that must
leave nothing half-made, deadlocks, numbers too large for their column."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from archive.document import ParseError
from archive.formats import markdown
from archive.prepare import FileError, prepare_bytes

# ---------------------------------------------------------------- 1. YAML front matter


def alias_bomb() -> str:
    """Billion laughs: nine levels, each an anchor naming nine aliases of the level below."""
    lines = ["a: &a [" + ",".join(['"lol"'] * 9) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("title: *i")
    return "---\n" + "\n".join(lines) + "\n---\n\n# 标题\n\n正文。\n"


CHILD = """
import json, resource, sys, time, tracemalloc
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GB: the bomb took 2 GB
from archive.prepare import FileError, prepare_bytes
text = sys.stdin.read()
t = time.process_time()
tracemalloc.start()
try:
    prepare_bytes("bomb.md", text.encode("utf-8"))
    error = None
except FileError as exc:
    error = str(exc)
# the parse's own peak: ru_maxrss would also count what the forked test runner held before exec
print(json.dumps({"error": error, "seconds": time.process_time() - t, "peak_kb": tracemalloc.get_traced_memory()[1] // 1024}))
"""


def test_yaml_alias_bomb_is_refused_fast_in_little_memory():
    text = alias_bomb()
    assert len(text.encode()) < 600
    # In a child under a 1 GB address-space limit, so that a regression fails the test, not the machine.
    proc = subprocess.run([sys.executable, "-c", CHILD], input=text, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["error"] == "bomb.md:3: front matter is not valid YAML: aliases (*a) are not allowed in front matter"
    # CPU seconds, first imports and their compiling included: an expanded bomb hits the 1 GB limit or
    # runs for minutes; a wall-clock bound of 1 s failed on a busy machine (1.08 s) with nothing wrong
    assert out["seconds"] < 5
    assert out["peak_kb"] < 50_000  # the bomb expanded to 2 GB


@pytest.mark.parametrize(
    "front, line",
    [
        ("title: " + "[" * 5000 + "]" * 5000, 2),  # flow style
        ("".join(" " * i + f"k{i}:\n" for i in range(2000)).rstrip("\n"), 33),  # block style
        ("title: " + "{a: " * 3000 + "1" + "}" * 3000, 2),
    ],
    ids=["flow-list", "block-mapping", "flow-mapping"],
)
def test_deeply_nested_front_matter_is_a_yaml_error_with_its_line(front, line):
    text = f"---\n{front}\n---\n\n# 标题\n\n正文。\n"
    with pytest.raises(ParseError) as err:
        markdown.parse(text)
    assert (err.value.line, err.value.reason) == (line, "front matter is not valid YAML: nested more than 32 levels deep")
    with pytest.raises(FileError) as err:
        prepare_bytes("deep.md", text.encode())
    assert str(err.value) == f"deep.md:{line}: front matter is not valid YAML: nested more than 32 levels deep"


def test_ordinary_front_matter_still_reads_lists_and_anchors_without_aliases():
    text = "---\ntitle: &t 标题\nnewspaper: 江城晚报\ndate: 2021-03-07\nauthor: [陈静, 王强]\n---\n\n正文。\n"
    doc = markdown.parse(text)
    assert doc.articles[0].title == "标题"
    assert [c.name for c in doc.articles[0].contributors] == ["陈静", "王强"]


# ---------------------------------------------------------------- 2. downgrades that drop data

from click.testing import CliRunner  # noqa: E402
from sqlalchemy import inspect, select  # noqa: E402

from archive import db, loader, writer  # noqa: E402
from archive.cli import main  # noqa: E402
from archive.models import Metric, Source  # noqa: E402
from tests.dbcheck import all_rows, integrity_problems  # noqa: E402
from tests.test_load_formats import PATTERN, mixed_dir  # noqa: E402

FIRST = "0001_initial_schema"
# What revisions 0003 and 0004 added, and so what a downgrade to 0001 drops, with the values the mixed
# directory puts there (the seed page prints no kicker, one article no page name, one no page).
LOST_AT_FIRST_FIXED = (
    "article.kicker (1 values), article.page (8 values), article.page_name (5 values), "
    "article.source_url (2 values), {metric}source.format (7 values), source.options (7 values), table source_path (7 rows)"
)


# The metric columns of the first revision; every later one is derived and dropped by the downgrade.
FIRST_METRIC_COLUMNS = set(
    "id article_id paragraph_id ordinal surface char_start char_end value value_high unit qualifier kind "
    "subject condition as_of period direction basis".split()
)


def later_metric_columns(url: str) -> list[str]:
    eng = db.make_engine(url)
    with eng.connect() as conn:
        columns = sorted({c["name"] for c in inspect(conn).get_columns("metric")} - FIRST_METRIC_COLUMNS)
    eng.dispose()
    return columns


def lost_at_first(url: str) -> str:
    """What a downgrade to the first revision drops: the fixed columns, and the derived metric columns
    later revisions added, each with how many values the extractor gave it."""
    eng = db.make_engine(url)
    with eng.connect() as conn:
        counts = {c: conn.exec_driver_sql(f"SELECT count({c}) FROM metric").scalar() for c in later_metric_columns(url)}
    eng.dispose()
    metric = "".join(f"metric.{c} ({n} values), " for c, n in counts.items() if n)
    return LOST_AT_FIRST_FIXED.format(metric=metric)


def cli(url, *args):
    return CliRunner().invoke(main, ["--db", url, *args], catch_exceptions=False)


def test_downgrade_that_drops_data_is_refused_then_says_what_went_and_reparse_recovers_it(db_url, tmp_path):
    d = mixed_dir(tmp_path)
    assert cli(db_url, "load", str(d), "--newspaper", "江城晚报", "--name-pattern", PATTERN).exit_code == 0
    before = all_rows(db_url)
    head = db.head_revision()
    LOST_AT_FIRST = lost_at_first(db_url)

    refused = cli(db_url, "db", "downgrade", FIRST)
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Error: downgrade to {FIRST} would drop data that upgrading again does not bring back: {LOST_AT_FIRST}; "
        "give --yes to downgrade anyway ("
        + ("a copy of the file is taken first" if db_url.startswith("sqlite") else "back the database up first (pg_dump, mariadb-dump)")
        + ")\n"
    )
    assert all_rows(db_url) == before and cli(db_url, "db", "current").output.strip() == head
    assert not list(tmp_path.glob("*.bak"))  # refused before the backup: nothing made

    done = cli(db_url, "db", "downgrade", FIRST, "--yes")
    assert done.exit_code == 0, done.output
    last = done.stdout.splitlines()[-1]
    if db_url.startswith("sqlite"):
        (saved,) = tmp_path.glob("*.bak")
        assert last == f"dropped with the downgrade: {LOST_AT_FIRST}; to get them back, run: archive --db {db_url} db restore {saved}"
    else:
        assert last == f"dropped with the downgrade: {LOST_AT_FIRST}; they are gone from the database; only a backup of your own has them"

    assert cli(db_url, "db", "upgrade").exit_code == 0
    after = all_rows(db_url)
    # every value the first revision holds came through; the dropped columns came back empty
    # source_path was dropped whole and is filled again from the sources: the same paths, but the page,
    # ordinal and time first seen that only the load options knew are gone with them
    paths = lambda rows: [(r["source_id"], r["path"]) for r in rows]  # noqa: E731
    assert paths(after.pop("source_path")) == paths(before.pop("source_path"))
    for t, rows in before.items():
        dropped = {
            "article": {"kicker", "page", "page_name", "source_url"}, "source": {"format", "options"},
            "metric": set(later_metric_columns(db_url)),
        }.get(t, set())
        assert [{k: v for k, v in r.items() if k not in dropped} for r in rows] == [
            {k: v for k, v in r.items() if k not in dropped} for r in after[t]
        ], t
        assert all(r[c] is None for r in after[t] for c in dropped)

    # reparse reads the format from the text and what the options said from the rows: nothing fails,
    # and the article fields come back as loaded, ids and all
    again = cli(db_url, "reparse")
    assert again.exit_code == 0 and again.stdout.endswith("7 sources reparsed: 0 changed, 7 unchanged, 0 failed\n"), again.output
    recovered = all_rows(db_url)
    for t in ("newspaper", "issue", "article_author", "section", "paragraph"):
        assert recovered[t] == before[t], t
    no_id = lambda rows: [{k: v for k, v in r.items() if k != "id"} for r in rows]  # noqa: E731
    assert no_id(recovered["metric"]) == no_id(before["metric"])  # reparse numbers metrics afresh
    # all but the page that only the file name said (20210305-5-2.txt under --name-pattern): the
    # pattern was an option, and the options went with the downgrade
    differ = [(b, r) for b, r in zip(before["article"], recovered["article"]) if b != r]
    assert [({k for k in b if b[k] != r[k]}, b["page"], r["page"]) for b, r in differ] == [({"page"}, "5", None)]
    assert [r["format"] for r in recovered["source"]] == [r["format"] for r in before["source"]]
    assert not integrity_problems(db_url)


def test_downgrade_that_drops_nothing_needs_no_yes(db_url):
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    result = cli(db_url, "db", "downgrade", FIRST)
    assert result.exit_code == 0 and result.stdout.endswith(f"at revision {FIRST}\n"), result.output
    assert cli(db_url, "db", "downgrade", "nonsense").stderr == "Error: cannot downgrade to nonsense: Can't locate revision identified by 'nonsense'\n"
    eng.dispose()


# ---------------------------------------------------------------- 3. purge while reparse runs


def test_reparse_skips_a_source_purged_after_the_list_was_read(engine, tmp_path):
    d = mixed_dir(tmp_path)
    report = loader.load_paths(engine, [d], meta=loader.Metadata(newspaper="江城晚报", name_pattern=PATTERN), workers=1)
    ids = sorted(r.source_id for r in report.results)
    assert len(ids) == 7
    results = writer.reparse(engine)
    first = next(results)  # the list of sources is read here, and the first one reparsed
    assert first.source_id == ids[0] and first.error is None
    writer.purge(engine, str(ids[1]))
    second = next(results)
    assert (second.source_id, second.error, second.changed) == (ids[1], None, False)
    assert second.note == f"source {ids[1]}: skipped, purged since the list was read"
    rest = list(results)
    assert [r.source_id for r in rest] == ids[2:] and not any(r.error for r in rest)
    with engine.connect() as conn:
        assert sorted(conn.scalars(select(Source.id))) == [ids[0], *ids[2:]]


# ---------------------------------------------------------------- 6. a number too large for its column

ABSURD = "---\ntitle: 收入\nnewspaper: 江城晚报\ndate: 2021-03-07\n---\n\n全年收入10000000000000000000000000000000亿元，参加者3人，增长5%。\n"


def test_a_number_beyond_its_column_is_not_a_metric_and_the_page_loads_on_every_engine(engine, tmp_path):
    f = tmp_path / "absurd.md"
    f.write_text(ABSURD, encoding="utf-8")
    report = loader.load_paths(engine, [f], workers=1)
    assert [r.status for r in report.results] == ["new"], report.results
    with engine.connect() as conn:
        stored = conn.execute(select(Metric.surface, Metric.value, Metric.unit).order_by(Metric.char_start)).all()
    assert [(s, int(v), u) for s, v, u in stored] == [("3人", 3, "人"), ("5%", 5, "%")]
    # the largest value that fits still does
    from archive.limits import storable_metrics
    from archive.metrics import extract_metrics

    fits, too_large = "全年收入99999999999999999999亿元。", "全年收入100000000000000000000亿元。"  # 10**28 - 10**8, 10**28
    assert [m.surface for m in storable_metrics(extract_metrics(fits))] == ["99999999999999999999亿元"]
    assert [m.surface for m in extract_metrics(too_large)] == ["100000000000000000000亿元"]
    assert storable_metrics(extract_metrics(too_large)) == []



HUGE_AREA = "---\ntitle: 面积\nnewspaper: 江城晚报\ndate: 2021-03-07\n---\n\n面积9000万亿亿平方公里，参加者3人。\n"


def test_a_value_whose_base_unit_value_overflows_is_not_a_metric_and_the_page_loads(engine, tmp_path):
    # 9000万亿亿 fits `value` (9E+27 < 10**28) but in 平方米 (value_base) it is 9E+33: the page used to
    # fail with "internal parser error: InvalidOperation" while facts quantized it.
    f = tmp_path / "area.md"
    f.write_text(HUGE_AREA, encoding="utf-8")
    report = loader.load_paths(engine, [f], workers=1)
    assert [r.status for r in report.results] == ["new"], report.results
    with engine.connect() as conn:
        stored = conn.execute(select(Metric.surface, Metric.value_base, Metric.unit_base)).all()
    assert [(s, int(v), u) for s, v, u in stored] == [("3人", 3, "人")]
    from archive.limits import storable_metrics
    from archive.metrics import extract_metrics

    # the largest area whose square metres still fit is kept
    assert [m.surface for m in storable_metrics(extract_metrics("面积9999亿亿平方公里。"))] == ["9999亿亿平方公里"]

# ---------------------------------------------------------------- 4. failures leave nothing half-made

import contextlib  # noqa: E402
import datetime as dt  # noqa: E402
import sqlite3  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

from sqlalchemy import insert  # noqa: E402


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs (root only): the disk a backup runs out of."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill: {mounted.stderr.strip() or 'not permitted'}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_backup_on_a_full_disk_is_one_line_and_leaves_no_partial_copy(small_disk):
    url = f"sqlite:///{small_disk / 'archive.db'}"
    eng = db.make_engine(url)
    db.upgrade(eng)
    with eng.begin() as conn:  # about 600 kB: the file fits on the disk, a second copy does not
        conn.execute(insert(Source), [dict(path="big.txt", sha256="0" * 64, encoding="utf-8", byte_count=600_000,
                                           text=uuid.uuid4().hex * 18_750, loaded_at=dt.datetime(2021, 1, 1), parser_version="1")])
    eng.dispose()
    before = sorted(p.name for p in small_disk.iterdir())
    result = cli(url, "db", "downgrade", "0006_search_automerge")
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: cannot back up {small_disk / 'archive.db'} to {small_disk / 'archive.db'}.")
    assert line.endswith(".bak: database or disk is full; nothing was changed")
    assert sorted(p.name for p in small_disk.iterdir()) == before  # no 0-byte or partial .bak
    assert cli(url, "db", "current").output.strip() == db.head_revision()


def test_restore_of_a_file_that_is_not_a_database_changes_nothing(sqlite_url, seed_dir, tmp_path):
    assert cli(sqlite_url, "load", str(seed_dir)).exit_code == 0
    before = all_rows(sqlite_url)
    for name, content in (("text.bak", b"not a database at all\n" * 100), ("torn.bak", None)):
        bad = tmp_path / name
        if content is None:  # a whole copy of the archive cut in half: a header, half the pages missing
            with contextlib.closing(sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))) as src, \
                    contextlib.closing(sqlite3.connect(bad)) as dst:
                src.backup(dst)
            whole = bad.read_bytes()
            assert len(whole) > 100_000
            bad.write_bytes(whole[: len(whole) // 2])
        else:
            bad.write_bytes(content)
        result = cli(sqlite_url, "db", "restore", str(bad))
        assert result.exit_code == 1
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"Error: {bad}: ") and line.endswith("; the archive was not changed"), line
        assert all_rows(sqlite_url) == before


@pytest.mark.parametrize(
    "url, key",
    [
        ("mysql+pymysql://root@127.0.0.1:3306/test?ssl_ca=/nonexistent/ca.pem", "ssl_ca"),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/test?sslrootcert=/nonexistent/root.crt&sslmode=verify-full", "sslrootcert"),
    ],
)
@pytest.mark.parametrize("command", [["db", "current"], ["stats"], ["sql", "SELECT 1"]])
def test_a_missing_certificate_file_is_one_line(url, key, command):
    result = cli(url, *command)
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot use database URL {url}: {key} file /nonexistent/{'ca.pem' if key == 'ssl_ca' else 'root.crt'} does not exist\n"


# ---------------------------------------------------------------- 5. deadlocks on the servers

import threading  # noqa: E402

from sqlalchemy import delete, text, update  # noqa: E402

from archive.models import Article, IdWatermark, Issue  # noqa: E402
from tests.conftest import SEED  # noqa: E402

SMALL = "---\ntitle: 甲\nnewspaper: 江城晚报\ndate: 2021-03-07\n---\n\n第一段，参加者3人。\n\n第二段，发生5起。\n"
# The purge waiting to delete the issue row, in this test's database only (the servers are shared).
LOCK_WAITS = {
    "postgresql": "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM issue%'",
    "mysql": "SELECT count(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p "
    "ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE() AND p.info LIKE 'DELETE FROM issue%'",
}


def _purge_into(outcome: dict, engine, source_id: int) -> None:
    try:
        outcome["purged"] = writer.purge(engine, str(source_id))
    except Exception as exc:  # noqa: BLE001 - reported by the test's assertion
        outcome["error"] = exc


def test_a_purge_chosen_as_deadlock_victim_is_run_again(engine, tmp_path):
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite lets one writer in at a time (BEGIN IMMEDIATE): no deadlocks")
    small = tmp_path / "small.md"
    small.write_text(SMALL, encoding="utf-8")
    report = loader.load_paths(engine, [small, SEED], workers=1)
    assert [r.status for r in report.results] == ["new", "new"]
    source_id = report.results[0].source_id
    with engine.connect() as conn:
        (issue_id,) = set(conn.scalars(select(Article.issue_id).where(Article.source_id == source_id)))

    # Another transaction holds the purged file's issue row, waits for the purge to block on it, then
    # asks for an article row the purge has deleted: a deadlock, and the purge is made its victim
    # (PostgreSQL: the other waits longer before checking; MariaDB: the other has written more).
    other = engine.connect()
    outcome: dict = {}
    worker = threading.Thread(target=_purge_into, args=(outcome, engine, source_id), daemon=True)
    try:
        other.begin()
        if engine.dialect.name == "postgresql":
            other.exec_driver_sql("SET LOCAL deadlock_timeout = '30s'")
        else:
            other.execute(insert(IdWatermark), [dict(table_name=f"weight{i:05}", last_id=0) for i in range(3000)])
        other.execute(update(Issue).where(Issue.id == issue_id).values(weekday=Issue.weekday))
        worker.start()
        with engine.connect() as watcher:
            deadline = time.monotonic() + 30
            while watcher.execute(text(LOCK_WAITS[engine.dialect.name])).scalar() < 1:
                assert time.monotonic() < deadline and worker.is_alive(), f"the purge never waited for the issue row: {outcome}"
                watcher.rollback()
                time.sleep(0.05)
        other.execute(update(Article).where(Article.source_id == source_id).values(title=Article.title))
        if engine.dialect.name != "postgresql":
            other.execute(delete(IdWatermark).where(IdWatermark.table_name.like("weight%")))
        other.commit()  # it survived: the purge was the victim
    finally:
        other.close()  # rolls back whatever a failed assertion left open
    worker.join(60)
    assert outcome == {"purged": writer.Purged(source_id, True)}
    with engine.connect() as conn:
        assert list(conn.scalars(select(Source.id))) == [report.results[1].source_id]
        assert conn.scalar(select(Issue.id).where(Issue.id == issue_id)) is None
    assert not integrity_problems(str(engine.url.render_as_string(hide_password=False)))
