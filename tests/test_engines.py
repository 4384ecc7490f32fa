"""The same archive on every engine: identical output, full Unicode, the same data dictionary,
passwords never shown, and hostile strings in every option that takes text."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from archive.cli import main
from archive.models import Base
from tests.conftest import SERVER_ENV, server_database
from tests.dbcheck import all_rows, archive
from tests.pagegen import build_page

EXTENSION_B = "\U00020000"  # 𠀀, outside the Basic Multilingual Plane like every emoji
EMOJI = "\U0001F4F0"  # 📰
PASSWORD = "s3cret-Pa55"


def run(url, *args, ok=True):
    result = CliRunner().invoke(main, ["--db", url, *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def outputs(url: str, pages) -> dict[str, str]:
    """What the read commands print after loading `pages` in order."""
    for p in pages:
        run(url, "load", str(p))
    commands = {
        "show 1": ["show", "1", "--format", "json"],
        "show 2": ["show", "2", "--format", "json"],
        "show 1 text": ["show", "1"],
        "articles": ["articles", "--format", "json"],
        "issues": ["issues", "--format", "json"],
        "metrics": ["metrics", "--format", "json"],
        "stats": ["stats", "--format", "json"],
    }
    if "search" in main.commands:  # the search branch: same hits in the same order on every engine
        commands["search"] = ["search", "民警", "--format", "json"]
        commands["search phrase"] = ["search", "公安 -辅警", "--limit", "50", "--format", "json"]
    return {name: run(url, *args).output for name, args in commands.items()}


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_same_output_as_sqlite(kind, seed_dir, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text(build_page(42, articles=3)[0], encoding="utf-8")
    pages = [seed_dir, other]
    server = server_database(kind)
    url = next(server)
    try:
        got = outputs(url, pages)
    finally:
        server.close()
    want = outputs(f"sqlite:///{tmp_path / 'ref.db'}", pages)
    assert json.loads(want["show 1"])["article"]["paragraph_count"] == 31
    assert json.loads(want["stats"])["rows"]["article"] == 4
    assert got == want  # ids included: every engine numbers rows alike


def test_supplementary_plane_characters_round_trip(db_url, tmp_path):
    text, expected = build_page(7)
    body = expected["articles"][0]["sections"][0]["paragraphs"][0]["text"]
    odd = f"{EXTENSION_B}字与表情{EMOJI}同在一段。"
    page = tmp_path / "unicode.txt"
    page.write_text(text.replace(body, body + odd, 1).replace("江城晚报", f"江城晚报{EMOJI}"), encoding="utf-8")
    run(db_url, "load", str(page))
    shown = json.loads(run(db_url, "show", "1", "--format", "json").output)
    assert shown["newspaper"]["name"] == f"江城晚报{EMOJI}"
    first = shown["article"]["sections"][0]["paragraphs"][0]
    assert first["text"] == body + odd and first["char_count"] == len(body + odd)
    rows = all_rows(db_url)
    assert any(EXTENSION_B in r["text"] for r in rows["source"])  # source.text holds the whole page too
    assert run(db_url, "articles", "--newspaper", f"江城晚报{EMOJI}", "--format", "json").output.count('"id"') == 1


def test_tables_and_columns_carry_the_models_comments(engine):
    """PostgreSQL and MariaDB alike (SQLite keeps no comments): the data dictionary BI tools show."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no table or column comments")
    insp = inspect(engine)
    for table in Base.metadata.sorted_tables:
        assert insp.get_table_comment(table.name)["text"] == table.comment, table.name
        columns = {c["name"]: c.get("comment") for c in insp.get_columns(table.name)}
        assert columns == {c.name: c.comment for c in table.columns}, table.name


def test_mariadb_tables_are_utf8mb4_binary(engine):
    if engine.dialect.name != "mysql":
        pytest.skip("MariaDB/MySQL only")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT table_name, table_collation FROM information_schema.tables WHERE table_schema = DATABASE()"
        ).all()
        assert {name: coll for name, coll in rows if name in Base.metadata.tables} == {
            name: "utf8mb4_bin" for name in Base.metadata.tables
        }
        assert conn.exec_driver_sql("SELECT @@character_set_connection").scalar() == "utf8mb4"


# ---------------------------------------------------------------- passwords


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://archive:{PASSWORD}@127.0.0.1:1/archive",
        f"mysql+pymysql://archive:{PASSWORD}@127.0.0.1:1/archive?charset=utf8mb4",
        f"postgresql+psycopg://archive@127.0.0.1:1/archive?password={PASSWORD}",
        f"postgresql+psycopg://archive:{PASSWORD}@127.0.0.1:notaport/archive",
    ],
    ids=["postgresql", "mysql", "query-parameter", "malformed"],
)
@pytest.mark.parametrize(
    "command",
    [["stats"], ["load", "seeds"], ["db", "upgrade"], ["db", "current"], ["sql", "SELECT 1"], ["export", "paragraph"],
     ["db", "grant-readonly", "reader"], ["serve"]],
    ids=" ".join,
)
def test_password_never_printed(url, command):
    for how in ("option", "environment"):
        args, env = (["--db", url], {}) if how == "option" else ([], {"ARCHIVE_DATABASE_URL": url})
        result = CliRunner(env=env).invoke(main, [*args, *command])
        assert result.exit_code == 1, result.output
        assert PASSWORD not in result.output
        assert result.stderr.splitlines()[-1].startswith("Error: ") and "Traceback" not in result.output, result.stderr


def test_wrong_password_on_a_real_server_is_not_printed():
    base = os.environ.get(SERVER_ENV["mysql"])
    if not base:
        pytest.skip(f"needs {SERVER_ENV['mysql']}")
    url = make_url(base).set(username="nobody_here", password=PASSWORD).render_as_string(hide_password=False)
    proc = archive(url, "stats")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert PASSWORD not in out + err and "***" in err and "Access denied" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- hostile strings

def files_in(d) -> list[str]:
    """The directory's files, less SQLite's -wal and -shm (they come and go with connections)."""
    return sorted(f for f in os.listdir(d) if not f.endswith(("-wal", "-shm")))


HOSTILE = [
    "'; DROP TABLE paragraph; --",
    "\" OR 1=1 --",
    "%' OR '1'='1",
    "内蒙古法制报' UNION SELECT name FROM sqlite_master --",
    "../../../../etc/passwd",
    "$(rm -rf /)",
    "%_%\\",
    "\u202eRTL\u200b零宽",
    EXTENSION_B + EMOJI,
    "x" * 5000,
    "\x00",
]


def test_hostile_strings_in_text_options_change_nothing(db_url, seed_dir, tmp_path):
    """Every text option of the listing commands is a value, never SQL, never a path outside the database."""
    run(db_url, "load", str(seed_dir))
    before = all_rows(db_url)
    listing = files_in(tmp_path)
    for value in HOSTILE:
        for args in (
            ["articles", "--newspaper", value, "--format", "json"],
            ["issues", "--newspaper", value, "--format", "json"],
            ["metrics", "--subject", value, "--unit", value, "--kind", value, "--newspaper", value, "--format", "json"],
            ["purge", value],
            *([["search", value, "--format", "json"]] if "search" in main.commands else []),
        ):
            result = CliRunner().invoke(main, ["--db", db_url, *args])
            assert "Traceback" not in result.output
            if args[0] == "purge":
                assert result.exit_code == 1 and "no loaded file" in result.stderr
            elif args[0] == "search":
                assert result.exit_code in (0, 1, 2) and len(result.stderr.splitlines()) <= 1, (args, result.output)
            elif "\x00" in value and not db_url.startswith("sqlite"):
                # PostgreSQL and MariaDB refuse NUL in a string: a one-line error, nothing else
                assert result.exit_code in (0, 1) and len(result.stderr.splitlines()) <= 1
            else:
                assert result.exit_code == 0 and json.loads(result.output) == [], (args, result.output)
    assert all_rows(db_url) == before
    assert files_in(tmp_path) == listing
    assert json.loads(run(db_url, "articles", "--date", dt.date(2020, 8, 26).isoformat(), "--format", "json").output)


HOSTILE_SQL = [
    "DROP TABLE paragraph",
    "DELETE FROM source",
    "SELECT 1; DROP TABLE paragraph",
    "WITH gone AS (DELETE FROM source RETURNING id) SELECT * FROM gone",
    "SELECT * INTO stolen FROM source",
    "SELECT text FROM source INTO OUTFILE '{out}'",
    "/*!50000 DROP TABLE paragraph */ SELECT 1",
    "ATTACH DATABASE '{out}' AS evil",
    "VACUUM INTO '{out}'",
    "PRAGMA writable_schema = 1",
    "PRAGMA journal_mode = delete",
    "COPY source TO '{out}'",
    "SELECT pg_read_file('/etc/hostname')",
    "SELECT pg_catalog.pg_ls_dir('/')",
    "SELECT lo_import('/etc/hostname')",
    "SELECT LOAD_FILE('/etc/hostname') AS f",
    "SELECT load_extension('{out}')",
    "CREATE TABLE evil (x INTEGER)",
    "UPDATE paragraph SET text = ''",
    "SELECT 1 -- ; DROP TABLE paragraph",
]


def test_hostile_sql_and_export_names_cannot_write_or_reach_outside(db_url, seed_dir, tmp_path):
    """`archive sql`, `export --query` and export names: refused with one line, or a read and nothing else."""
    run(db_url, "load", str(seed_dir))
    before = all_rows(db_url)
    out = tmp_path / "evil.out"
    listing = files_in(tmp_path)
    for statement in [q.format(out=out) for q in HOSTILE_SQL]:
        for args in (["sql", statement], ["export", "--query", statement, "--format", "jsonl"]):
            result = CliRunner().invoke(main, ["--db", db_url, *args])
            assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit), (args, result.output)
            if result.exit_code:
                assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("Error: "), (args, result.stderr)
            assert "/etc/hostname" not in result.stdout and os.uname().nodename not in result.stdout.split(), (args, result.stdout)
    for name in HOSTILE + ["../../../etc/passwd", "source; DROP TABLE paragraph", "sqlite_master", str(out)]:
        result = CliRunner().invoke(main, ["--db", db_url, "export", name, "--format", "jsonl"])
        assert result.exit_code in (0, 1, 2) and "Traceback" not in result.output, (name, result.output)
    assert all_rows(db_url) == before
    assert files_in(tmp_path) == listing and not out.exists()
