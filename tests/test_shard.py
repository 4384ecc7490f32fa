"""The archive sharded across PostgreSQL servers (archive/shard.py): a coordinator and two shard clusters
(`scripts/shards start`, run by .ci/run) give the same output as one server, keep a file whole when a
shard stops mid-load, and let the read-only role read everything and write nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from archive.cli import main
from tests.conftest import SEED, SERVER_ENV, server_database
from tests.dbcheck import archive as archive_process
from tests.pagegen import build_page

SHARDS_ENV = "ARCHIVE_TEST_SHARD_URLS"
PAGES_ENV = "ARCHIVE_TEST_SHARD_PAGES"  # the generated corpus's size; .ci/run sets 2,000 (docs/scaling.md)
PAGES = int(os.environ.get(PAGES_ENV, "300"))
SCRIPT = Path(__file__).parent.parent / "scripts" / "shards"


def run(url, *args, ok=True):
    result = CliRunner().invoke(main, ["--db", url, *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def shard_servers() -> list[str]:
    urls = os.environ.get(SHARDS_ENV, "").split()
    if not urls or not os.environ.get(SERVER_ENV["postgresql"]):
        pytest.skip(f"sharding tests need {SERVER_ENV['postgresql']} and {SHARDS_ENV} (scripts/shards start; docs/scaling.md)")
    for url in urls:
        engine = create_engine(url)
        try:
            with engine.connect():
                pass
        except DBAPIError:
            pytest.skip(f"shard server {make_url(url).render_as_string()} is not up: run scripts/shards start")
        finally:
            engine.dispose()
    return urls


@dataclass
class Cluster:
    coordinator: str
    shards: list[str]

    def shard_rows(self, sql: str) -> list[list[tuple]]:
        """The rows a query gives on each shard database, in shard order."""
        out = []
        for url in self.shards:
            engine = create_engine(url)
            with engine.connect() as conn:
                out.append([tuple(r) for r in conn.execute(text(sql))])
            engine.dispose()
        return out


def _admin(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()


@contextmanager
def shard_databases(coordinator: str) -> Iterator[list[str]]:
    """A database named as the coordinator's on each shard server; their URLs; dropped afterwards."""
    servers = shard_servers()
    name = make_url(coordinator).database
    try:
        for server in servers:
            _admin(server, f"CREATE DATABASE {name}")
        yield [make_url(s).set(database=name).render_as_string(hide_password=False) for s in servers]
    finally:
        for server in servers:
            try:
                _admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except DBAPIError:
                pass  # a shard a test left stopped: the next start keeps an unused database


@pytest.fixture
def cluster():
    shard_servers()  # skip before making anything
    coordinator = server_database("postgresql")
    url = next(coordinator)
    try:
        with shard_databases(url) as shards:
            run(url, "db", "upgrade")
            result = run(url, "db", "shard", "--shards", " ".join(shards))
            assert result.output.splitlines()[-1] == f"content tables partitioned on source_id across {len(shards)} shards"
            yield Cluster(url, shards)
    finally:
        coordinator.close()


@pytest.fixture
def single():
    server = server_database("postgresql")
    yield next(server)
    server.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The seed and PAGES generated pages, one to three articles each, on as many days."""
    directory = tmp_path_factory.mktemp("corpus")
    shutil.copy(SEED, directory / SEED.name)
    start = dt.date(2021, 1, 1)
    for i in range(PAGES):
        page, _ = build_page(1000 + i, articles=1 + i % 3, date=start + dt.timedelta(days=i), number=5120 + i)
        (directory / f"page_{i:05d}.txt").write_text(page, encoding="utf-8")
    return directory


COMMANDS = {
    "show 1": ["show", "1", "--format", "json"],
    "show 1 text": ["show", "1"],
    "show 7": ["show", "7", "--format", "json"],
    "articles": ["articles", "--format", "json"],
    "issues": ["issues", "--format", "json"],
    "metrics": ["metrics", "--format", "json"],
    "stats": ["stats", "--format", "json"],
    "search": ["search", "民警", "--format", "json"],
    "search page 2": ["search", "民警", "--offset", "10", "--format", "json"],
    "search relevance": ["search", "公安 -辅警", "--order", "relevance", "--limit", "50", "--format", "json"],
    "search one character": ["search", "警", "--limit", "5", "--format", "json"],
    "sql": ["sql", "SELECT count(*), sum(char_count), max(id) FROM paragraph"],
    **{f"export {t}": ["export", t] for t in ("article", "article_author", "section", "paragraph", "metric", "search_doc", "v_fact")},
}


def outputs(url: str) -> dict[str, str]:
    return {name: run(url, *args).output for name, args in COMMANDS.items()}


def test_sharded_output_is_byte_identical_to_one_server(cluster, single, corpus):
    for url in (single, cluster.coordinator):
        result = run(url, "load", str(corpus))
        assert f"{PAGES + 1} new, 0 updated, 0 unchanged, 0 failed" in result.output
    got, want = outputs(cluster.coordinator), outputs(single)
    assert json.loads(want["show 1"])["article"]["paragraph_count"] == 31
    assert json.loads(want["search"])["total"] > 0
    for name in COMMANDS:
        assert got[name] == want[name], name
    # each shard holds whole files, and both hold some
    per_shard = cluster.shard_rows(
        "SELECT count(DISTINCT a.source_id), count(*), (SELECT count(*) FROM paragraph p WHERE p.source_id <> "
        "(SELECT source_id FROM article WHERE id = p.article_id)) FROM article a"
    )
    assert sum(r[0][0] for r in per_shard) == PAGES + 1
    assert all(r[0][0] > 0 and r[0][2] == 0 for r in per_shard), per_shard


def test_reload_and_purge_reach_the_shards(cluster, corpus, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(build_page(5, articles=2)[0], encoding="utf-8")
    run(cluster.coordinator, "load", str(page))
    page.write_text(build_page(6, articles=3)[0], encoding="utf-8")  # a new version at the same path
    assert "1 updated" in run(cluster.coordinator, "load", str(page)).output
    assert json.loads(run(cluster.coordinator, "stats", "--format", "json").output)["rows"]["article"] == 3
    assert "purged" in run(cluster.coordinator, "purge", str(page)).output.lower()
    left = cluster.shard_rows("SELECT (SELECT count(*) FROM article) + (SELECT count(*) FROM search_doc) + (SELECT count(*) FROM source_mark)")
    assert [r[0][0] for r in left] == [0] * len(cluster.shards)


def test_reindex_on_a_coordinator_indexes_each_source_on_its_shard(cluster, single, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for i in range(8):
        (pages / f"p{i}.txt").write_text(build_page(20 + i, articles=2)[0], encoding="utf-8")
    for url in (cluster.coordinator, single):
        run(url, "load", str(pages))
    before = run(cluster.coordinator, *COMMANDS["search"]).output
    out = run(cluster.coordinator, "db", "reindex").output
    assert out == run(single, "db", "reindex").output and out.startswith("indexed ")
    assert run(cluster.coordinator, *COMMANDS["search"]).output == before == run(single, *COMMANDS["search"]).output
    assert run(cluster.coordinator, "search", "警", "--format", "json").output == run(single, "search", "警", "--format", "json").output
    # every shard holds the index of its own sources only, and all of them are indexed somewhere
    strays = cluster.shard_rows("SELECT count(*) FROM search_doc d WHERE NOT EXISTS (SELECT 1 FROM source_mark m WHERE m.source_id = d.source_id)")
    assert [r[0][0] for r in strays] == [0] * len(cluster.shards)
    held = cluster.shard_rows("SELECT count(DISTINCT source_id) FROM search_doc")
    assert sum(r[0][0] for r in held) == 8


def test_a_half_stored_file_is_healed_on_the_next_load(cluster, single, tmp_path):
    pages = []
    for i in range(4):
        pages.append(tmp_path / f"p{i}.txt")
        pages[-1].write_text(build_page(20 + i, date=dt.date(2022, 3, 1 + i))[0], encoding="utf-8")
    run(cluster.coordinator, "load", str(tmp_path))
    # the coordinator committed, the shard lost the file's rows (a shard restored from an older backup)
    gone = 2
    for url in cluster.shards:
        _admin(url, f"DELETE FROM article WHERE source_id = {gone}; DELETE FROM search_doc WHERE source_id = {gone}; "
                    f"DELETE FROM source_mark WHERE source_id = {gone}")
    # the shard committed, the coordinator did not (it crashed in between): rows of a source it never had
    coordinator = create_engine(cluster.coordinator)
    with coordinator.connect() as conn:
        # a source id that routes to the first shard
        orphan = conn.execute(text(
            "SELECT min(i) FROM generate_series(900, 999) AS i "
            f"WHERE satisfies_hash_partition(CAST('shards.article' AS regclass), {len(cluster.shards)}, 0, i)"
        )).scalar()
        aborted = conn.execute(text("SELECT pg_current_xact_id()")).scalar()
        conn.rollback()
    coordinator.dispose()
    _admin(cluster.shards[0], f"INSERT INTO source_mark VALUES ({orphan}, '{aborted}'); "
                              "INSERT INTO article (id, issue_id, source_id, ordinal, title, char_count, paragraph_count) "
                              f"VALUES (99999, 1, {orphan}, 1, 'orphan', 0, 0)")
    result = run(cluster.coordinator, "load", str(tmp_path))
    assert "4 files: 1 new, 0 updated, 3 unchanged" in result.output
    assert cluster.shard_rows(f"SELECT count(*) FROM article WHERE source_id = {orphan}")[0] == [(0,)]
    run(single, "load", str(tmp_path))
    # the one-character counts (kept on the coordinator) add up again
    assert run(cluster.coordinator, "export", "search_char_count").output == run(single, "export", "search_char_count").output
    marks = sum(r[0][0] for r in cluster.shard_rows("SELECT count(*) FROM source_mark"))
    assert marks == json.loads(run(cluster.coordinator, "stats", "--format", "json").output)["rows"]["source"] == 4


def _shard_script(*args: str) -> None:
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        pytest.skip("stopping a shard needs pg_ctlcluster as root (scripts/shards)")
    subprocess.run([str(SCRIPT), *args], check=True, capture_output=True, timeout=120)


def test_a_shard_stopped_mid_load(cluster, single, corpus, tmp_path, monkeypatch):
    files = sorted(corpus.iterdir())[:120]
    subset = tmp_path / "subset"
    subset.mkdir()
    for f in files:
        shutil.copy(f, subset / f.name)
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")  # each file's line as it is stored
    load = archive_process(cluster.coordinator, "load", str(subset), "--workers", "1")
    try:
        for _ in range(20):  # the first files are stored: stop shard2 under the load
            if load.stdout.readline().startswith("new: "):
                break
        _shard_script("stop", "shard2")
        out, err = load.communicate(timeout=600)
    finally:
        _shard_script("start", "shard2")
    assert load.returncode == 1, err
    failed = [line for line in err.splitlines() if line.strip()]
    summary = out.splitlines()[-1]
    n_failed = int(summary.split(" new, ")[1].split(", ")[-1].split(" failed")[0])
    assert 0 < n_failed < len(files) - 1 and len(failed) == n_failed, err  # one line a file
    assert all("database error" in line for line in failed), err
    # nothing half-written: every source the coordinator has is whole on its shard, and no shard holds
    # rows of a source the coordinator lacks
    engine = create_engine(cluster.coordinator)
    with engine.connect() as conn:
        sources = {r[0] for r in conn.execute(text("SELECT id FROM source"))}
        with_articles = {r[0] for r in conn.execute(text("SELECT DISTINCT source_id FROM article"))}
    engine.dispose()
    marked = {r[0] for rows in cluster.shard_rows("SELECT source_id FROM source_mark") for r in rows}
    assert sources == with_articles == marked
    rerun = run(cluster.coordinator, "load", str(subset))
    assert f"{n_failed} new, 0 updated, {len(files) - n_failed} unchanged, 0 failed" in rerun.output
    run(single, "load", str(subset))
    # ids follow the order the files were stored in, which the stop changed: compare what does not hold ids
    for query in SAME_WITHOUT_IDS:
        assert run(cluster.coordinator, "export", "--query", query).output == run(single, "export", "--query", query).output
    got, want = (json.loads(run(url, *COMMANDS["search"]).output) for url in (cluster.coordinator, single))
    assert got["total"] == want["total"] and _without_ids(got["hits"]) == _without_ids(want["hits"])


SAME_WITHOUT_IDS = (
    "SELECT s.path, a.ordinal, a.title, i.date, a.char_count FROM article a JOIN issue i ON i.id = a.issue_id "
    "JOIN source s ON s.id = a.source_id ORDER BY 1, 2",
    "SELECT s.path, a.ordinal, p.ordinal, p.text FROM paragraph p JOIN article a ON a.id = p.article_id "
    "JOIN source s ON s.id = a.source_id ORDER BY 1, 2, 3",
    "SELECT s.path, a.ordinal, m.surface, m.value, m.unit, m.subject_key FROM metric m JOIN article a ON a.id = m.article_id "
    "JOIN source s ON s.id = a.source_id ORDER BY 1, 2, m.paragraph_id, m.ordinal",
)


def _without_ids(hits: list[dict]) -> list[dict]:
    return [{k: v for k, v in h.items() if not k.endswith("_id")} for h in hits]


def test_the_read_only_role_reads_the_coordinator_and_cannot_write_to_shards(cluster, corpus, seed_dir):
    run(cluster.coordinator, "load", str(seed_dir))
    role = f"archive_ro_{uuid.uuid4().hex[:8]}"
    admin = create_engine(cluster.coordinator)
    try:
        run(cluster.coordinator, "db", "grant-readonly", role)
        reader_url = make_url(cluster.coordinator).set(username=role)
        reader = create_engine(reader_url)
        with reader.connect() as c:
            assert c.execute(text("SELECT count(*) FROM paragraph")).scalar() == 31
            assert c.execute(text("SELECT count(*) FROM v_fact")).scalar() > 0
        for statement in (
            "INSERT INTO paragraph (article_id, section_id, ordinal, text, char_count, line_start, line_end) VALUES (1, 1, 99, 'x', 1, 1, 1)",
            "DELETE FROM metric",
            "INSERT INTO shards.source_mark (source_id) VALUES (5)",
            "DELETE FROM shards.paragraph_shard1",
        ):
            with pytest.raises(DBAPIError, match="permission denied|read-only"):
                with reader.begin() as c:
                    c.execute(text("SET TRANSACTION READ WRITE"))
                    c.execute(text(statement))
        reader.dispose()
        shown = run(reader_url.render_as_string(hide_password=False), "show", "1", "--format", "json").output
        assert json.loads(shown)["article"]["paragraph_count"] == 31
        # the role exists on the coordinator only: it cannot log in to a shard at all
        with pytest.raises(DBAPIError, match=f'role "{role}" does not exist'):
            create_engine(make_url(cluster.shards[0]).set(username=role)).connect()
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP OWNED BY {role}"))
            c.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_db_check_on_a_coordinator_compares_the_views_and_each_shard(cluster):
    assert run(cluster.coordinator, "db", "check").output == "schema matches the models\n"
    _admin(cluster.coordinator, "COMMENT ON COLUMN public.metric.unit IS 'changed'")
    _admin(cluster.shards[1], "ALTER TABLE paragraph RENAME COLUMN lead TO lede")
    result = run(cluster.coordinator, "db", "check", ok=False)
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith("Error: the sharded content tables differ from the models: ")
    assert "metric.unit: comment 'changed', the model has " in line
    assert 'shards.paragraph_shard2: column "lead" does not exist' in line
    assert "shards.paragraph_shard1" not in line and "article" not in line.replace("article_id", "")
    # the rest of the schema is still Alembic's to compare
    _admin(cluster.coordinator, "ALTER TABLE issue ADD COLUMN extra integer")
    assert "extra" in run(cluster.coordinator, "db", "check", ok=False).output


def test_explain_shows_the_work_pushed_to_the_shards(cluster, seed_dir):
    run(cluster.coordinator, "load", str(seed_dir))
    engine = create_engine(cluster.coordinator)
    with engine.connect() as conn:
        def plan(sql: str) -> str:
            return "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN (VERBOSE, COSTS OFF) {sql}")))

        search = plan("SELECT doc_key FROM search_doc WHERE tokens @@ CAST('a:*' AS tsquery) ORDER BY doc_key DESC LIMIT 20")
        assert search.count("Remote SQL:") == 2 and search.count("@@") >= 2, search
        scan = plan("SELECT id, title FROM article WHERE char_count > 100")
        assert scan.count("Async Foreign Scan") == 2 and "WHERE ((char_count > 100))" in scan, scan
        one = plan("SELECT id FROM article WHERE source_id = 1")
        assert one.count("Foreign Scan") == 1, one  # one source: one shard
    engine.dispose()


def test_a_failed_shard_command_leaves_the_shards_empty(single):
    with shard_databases(single) as shards:
        run(single, "db", "upgrade")
        _admin(shards[1], "CREATE TABLE metric (id integer)")  # the second shard is not empty
        failed = run(single, "db", "shard", "--shards", " ".join(shards), ok=False)
        assert failed.exit_code == 1 and "already holds archive tables (metric)" in failed.output
        # the first shard's tables were made, then dropped again
        assert Cluster(single, shards[:1]).shard_rows("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [[(0,)]]
        _admin(shards[1], "DROP TABLE metric")
        run(single, "db", "shard", "--shards", " ".join(shards))


def test_shard_refuses_what_it_cannot_do(cluster, sqlite_url, tmp_path):
    again = run(cluster.coordinator, "db", "shard", "--shards", cluster.shards[0], ok=False)
    assert again.exit_code == 1 and "already sharded" in again.output
    assert "sharding needs PostgreSQL" in run(sqlite_url, "db", "shard", "--shards", cluster.shards[0], ok=False).output
    assert "already at revision" in run(cluster.coordinator, "db", "upgrade").output
