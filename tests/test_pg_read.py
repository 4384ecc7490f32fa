"""The read commands on PostgreSQL through psycopg2 and through psycopg 3 (archive/readdb.py): psycopg2 is
the lean path's driver when it is importable (its import is a fifth of psycopg 3's), psycopg 3 the
fallback. Every command's output, every value and type, every error message must be the same through
either, on one server and on a sharded coordinator; the transaction is read-only either way."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, make_url

from archive import readdb
from archive.cli import main
from archive.output import FORMATS
from tests.conftest import SEED, SERVER_ENV, server_database
from tests.test_shard import cluster  # noqa: F401  (the fixture: a coordinator and its shard databases)

ROOT = Path(__file__).parent.parent
SEARCHES = ["民警", "警", "公安 -辅警", "内蒙古", "-的", "没有这样的词组"]

pytest.importorskip("psycopg2", reason="psycopg2-binary (the test extra) is what these tests compare with psycopg 3")


@pytest.fixture(scope="module")
def pg_archive(tmp_path_factory) -> str:
    """A PostgreSQL archive of the seed page and a dozen generated ones (several dates and articles)."""
    from benchmarks import corpus

    server = server_database("postgresql")
    url = next(server)
    pages = tmp_path_factory.mktemp("pages")
    shutil.copy(SEED, pages / SEED.name)
    corpus.write_corpus(pages, 12)
    result = CliRunner().invoke(main, ["--db", url, "load", str(pages)], catch_exceptions=False)
    assert result.exit_code == 0 and "13 new" in result.output, result.output
    yield url
    server.close()


def without_psycopg2(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a process without psycopg2 sees: `import psycopg2` raises ImportError."""
    monkeypatch.setitem(sys.modules, "psycopg2", None)


def driver_of(url: str) -> str:
    reader = readdb.connect(url)
    assert reader is not None
    with reader:
        return type(reader.conn).__module__.split(".")[0]


def invoke(url: str, args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", url, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def through_both(url: str, commands: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    """Each command's (exit code, stdout, stderr) through psycopg2, then through psycopg 3."""
    assert driver_of(url) == "psycopg2"
    pg2 = [invoke(url, c) for c in commands]
    with monkeypatch.context() as m:
        without_psycopg2(m)
        assert driver_of(url) == "psycopg"
        pg3 = [invoke(url, c) for c in commands]
    return pg2, pg3


def read_commands(url: str) -> list[list[str]]:
    """Every read command with options that find something (and some that find nothing) in `url`."""
    reader = readdb.connect(url)
    assert reader is not None
    with reader:
        ids = reader.execute("SELECT id FROM article ORDER BY id").scalars()
        dates = [d.isoformat() for d in reader.execute("SELECT DISTINCT date FROM issue ORDER BY date").scalars()]
        papers = reader.execute("SELECT name FROM newspaper ORDER BY name").scalars()
        subject_key = reader.execute("SELECT subject_key FROM metric WHERE subject_key IS NOT NULL ORDER BY id LIMIT 1").scalar()
    assert len(ids) > 10 and len(dates) > 3 and subject_key
    first, middle, paper = dates[0], dates[len(dates) // 2], papers[0]
    return [
        ["stats"], ["stats", "--format", "json"],
        *(["issues", "--format", f] for f in FORMATS), ["issues", "--newspaper", paper],
        *(["articles", "--limit", "20", "--format", f] for f in FORMATS), ["articles", "--format", "json"],
        ["articles", "--date", middle], ["articles", "--from", first, "--to", middle, "--newspaper", paper, "--format", "csv"],
        *(["metrics", "--limit", "20", "--format", f] for f in FORMATS), ["metrics", "--format", "json"], ["metrics", "--format", "csv"],
        ["metrics", "--unit", "人"], ["metrics", "--kind", "percent", "--format", "json"], ["metrics", "--subject", "%_/"],
        ["metrics", "--subject", "民", "--from", first, "--to", middle], ["metrics", "--subject-key", subject_key, "--format", "json"],
        *(["search", "--format", f, "--", q] for q in SEARCHES for f in ("table", "json")),
        ["search", "民警", "--newspaper", paper, "--from", first, "--to", middle, "--format", "json"],
        ["search", "公安", "--order", "relevance", "--limit", "50", "--format", "json"],
        ["search", "民警", "--offset", "5", "--limit", "5", "--format", "csv"],
        *(["show", str(i)] for i in ids), *(["show", str(i), "--format", "json"] for i in ids[::3]),
        ["show", str(max(ids) + 1000)],  # not found: an error line
    ]


def test_every_read_command_prints_the_same_through_psycopg2_and_psycopg(pg_archive, monkeypatch):
    commands = read_commands(pg_archive)
    pg2, pg3 = through_both(pg_archive, commands, monkeypatch)
    for c, a, b in zip(commands, pg2, pg3):
        assert a == b, c
    assert [(c, err) for c, (code, _, err) in zip(commands, pg2) if code] == [(commands[-1], pg2[-1][2])]
    assert pg2[-1][2].startswith("Error: ") and len(pg2[-1][2].splitlines()) == 1
    assert sum(1 for _, out, _ in pg2 if out.strip()) > len(commands) - 5  # they found something to print


def _relations(reader: readdb.Reader) -> list[str]:
    return reader.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p') ORDER BY 1"
    ).scalars()


def _typed_rows(url: str, sql: str, params: dict | None = None) -> list[tuple]:
    reader = readdb.connect(url)
    assert reader is not None
    with reader:
        rows = [tuple((type(v).__name__, v) for v in r) for r in reader.execute(sql, params)]
    return sorted(rows, key=repr)


def test_every_table_and_view_reads_the_same_values_and_types(pg_archive, monkeypatch):
    reader = readdb.connect(pg_archive)
    assert reader is not None
    with reader:
        relations = _relations(reader)
    assert {"article", "metric", "source", "search_doc", "v_fact", "v_metric"} <= set(relations)
    kinds: set[str] = set()
    for name in relations:
        pg2 = _typed_rows(pg_archive, f"SELECT * FROM {name}")
        with monkeypatch.context() as m:
            without_psycopg2(m)
            pg3 = _typed_rows(pg_archive, f"SELECT * FROM {name}")
        assert pg2 == pg3, name
        kinds |= {kind for row in pg2 for kind, _ in row}
    # dates, timestamps, exact decimals, NULLs, text, integers and booleans were among them (no column is a float)
    assert {"date", "datetime", "Decimal", "NoneType", "str", "int", "bool"} <= kinds, kinds


def test_parameters_are_taken_the_same(pg_archive, monkeypatch):
    sql = ("SELECT CAST(:day AS date) + 1, :n * 2, :n / 3, :text || '·', :dec + 0.5, :float * 2, :tiny, :inf, :none_text, "
           ":flag, CAST(:stamp AS timestamp), :pattern, 'a%b', count(*) FROM metric WHERE value > :dec AND unit LIKE :like")
    params = dict(day=dt.date(2020, 8, 26), n=7, text="民警", dec=Decimal("1.5"), float=0.1, tiny=1e-300, inf=float("-inf"),
                  none_text=None, flag=True, stamp=dt.datetime(2020, 8, 26, 12, 30, 5, 123456), pattern="50%", like="%人%")
    pg2 = _typed_rows(pg_archive, sql, params)
    with monkeypatch.context() as m:
        without_psycopg2(m)
        pg3 = _typed_rows(pg_archive, sql, params)
    assert pg2 == pg3 and pg2[0][-1][1] > 0


def test_the_transaction_is_read_only_and_one_snapshot_through_either_driver(pg_archive, monkeypatch):
    admin = create_engine(pg_archive, isolation_level="AUTOCOMMIT")
    for driver in ("psycopg2", "psycopg"):
        with monkeypatch.context() as m:
            if driver == "psycopg":
                without_psycopg2(m)
            reader = readdb.connect(pg_archive)
            assert reader is not None
            with reader:
                assert type(reader.conn).__module__.split(".")[0] == driver
                assert reader.execute("SHOW transaction_read_only").scalar() == "on"
                assert reader.execute("SHOW transaction_isolation").scalar() == "repeatable read"
                before = reader.execute("SELECT count(*) FROM newspaper").scalar()
                with admin.connect() as conn:  # a loader commits meanwhile: the command still reads its snapshot
                    conn.exec_driver_sql("INSERT INTO newspaper (name) VALUES ('快照之后的报纸')")
                try:
                    assert reader.execute("SELECT count(*) FROM newspaper").scalar() == before
                    with pytest.raises(readdb.ReadError, match="read-only transaction"):
                        reader.execute("INSERT INTO newspaper (name) VALUES ('只读')")
                finally:
                    with admin.connect() as conn:
                        conn.exec_driver_sql("DELETE FROM newspaper WHERE name = '快照之后的报纸'")
    admin.dispose()


@pytest.fixture
def broken_databases():
    """URLs that fail in each way a read command reports: no such database, no server, no such host, a
    password to hide, a database with no archive, one at another revision."""
    base = os.environ.get(SERVER_ENV["postgresql"])
    if not base:
        pytest.skip(f"postgresql tests need {SERVER_ENV['postgresql']}")
    url = make_url(base)
    empty, older = server_database("postgresql"), server_database("postgresql")
    empty_url, older_url = next(empty), next(older)
    engine = create_engine(older_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0009_metric_subject_key')")
    engine.dispose()
    yield {
        "missing database": url.set(database=f"archive_t_missing_{uuid.uuid4().hex[:8]}").render_as_string(hide_password=False),
        "no server": url.set(port=1).render_as_string(hide_password=False),
        "no server, password": url.set(port=1, password="S3CRETPW").render_as_string(hide_password=False),
        "no such host": url.set(host="nosuchhost.invalid").render_as_string(hide_password=False),
        "no archive": empty_url,
        "older revision": older_url,
    }
    empty.close()
    older.close()


def test_errors_read_the_same_through_either_driver(broken_databases, monkeypatch):
    for what, url in broken_databases.items():
        commands = [["stats"], ["show", "1"], ["search", "民警"], ["articles", "--limit", "20"], ["metrics", "--limit", "20"], ["issues"]]
        pg2 = [invoke(url, c) for c in commands]
        with monkeypatch.context() as m:
            without_psycopg2(m)
            pg3 = [invoke(url, c) for c in commands]
        assert pg2 == pg3, what
        for code, out, err in pg2:
            assert code == 1 and out == "" and err.startswith("Error: ") and len(err.splitlines()) == 1, (what, err)
            assert "S3CRETPW" not in err
    said = {what: invoke(url, ["stats"])[2] for what, url in broken_databases.items()}
    assert 'database "archive_t_missing_' in said["missing database"] and "does not exist" in said["missing database"]
    assert "holds no archive yet" in said["no archive"]
    assert "at revision 0009_metric_subject_key, not" in said["older revision"]
    assert "***" in said["no server, password"]


PROBE = """
import sys
if sys.argv[1] == "without-psycopg2":
    sys.modules["psycopg2"] = None
from archive.cli import main
try:
    main(sys.argv[2:], prog_name="archive")
except SystemExit as exc:
    assert not exc.code, exc.code
loaded = [m for m in ("psycopg", "psycopg2", "sqlalchemy") if sys.modules.get(m) is not None]
print("LOADED", loaded, file=sys.stderr)
"""


def test_without_psycopg2_the_commands_run_on_psycopg(pg_archive):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["stats"], ["show", "1", "--format", "json"], ["search", "民警"], ["articles", "--limit", "20"],
                 ["metrics", "--limit", "20"], ["issues", "--format", "csv"]):
        runs = {}
        for mode in ("with-psycopg2", "without-psycopg2"):
            done = subprocess.run([sys.executable, "-c", PROBE, mode, "--db", pg_archive, *args], capture_output=True, text=True, env=env)
            assert done.returncode == 0, done.stderr
            runs[mode] = done
        assert runs["with-psycopg2"].stdout == runs["without-psycopg2"].stdout and runs["with-psycopg2"].stdout.strip(), args
        # psycopg2 alone (psycopg 3 not even imported), or psycopg 3 alone; never SQLAlchemy
        assert "LOADED ['psycopg2']" in runs["with-psycopg2"].stderr, runs["with-psycopg2"].stderr
        assert "LOADED ['psycopg']" in runs["without-psycopg2"].stderr, runs["without-psycopg2"].stderr


def test_a_sharded_coordinator_reads_the_same_through_either_driver(cluster, tmp_path, monkeypatch):  # noqa: F811
    from benchmarks import corpus

    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(SEED, pages / SEED.name)
    corpus.write_corpus(pages, 8)
    result = CliRunner().invoke(main, ["--db", cluster.coordinator, "load", str(pages)], catch_exceptions=False)
    assert result.exit_code == 0 and "9 new" in result.output, result.output
    commands = read_commands(cluster.coordinator)
    pg2, pg3 = through_both(cluster.coordinator, commands, monkeypatch)
    for c, a, b in zip(commands, pg2, pg3):
        assert a == b, c
    assert [c for c, (code, _, _) in zip(commands, pg2) if code] == [commands[-1]]
