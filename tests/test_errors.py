"""Errors as types (archive/errors.py): what the archive refuses is an ArchiveError, which the CLI shows
as one `Error: …` line with exit code 1; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
import sqlite3

import pytest
from click.testing import CliRunner

import archive
from archive import errors
from archive.cli import main
from archive.document import ParseError
from archive.formats import parse_text
from archive.formats.metadata import Metadata
from archive.prepare import FileError, prepare_bytes
from tests.conftest import SEED

# Exceptions that never leave their module: raised and caught inside it.
INTERNAL = {"archive.inputs._Skipped", "archive.launch._Unread"}


def _archive_exceptions() -> dict[str, type[BaseException]]:
    found = {}
    for info in pkgutil.walk_packages(archive.__path__, "archive."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == info.name:
                found[f"{info.name}.{name}"] = obj
    return found


def test_every_exception_the_library_defines_is_an_archive_error():
    found = _archive_exceptions()
    assert "archive.sql.QueryRejected" in found and "archive.document.ParseError" in found
    assert {name for name, cls in found.items() if not issubclass(cls, errors.ArchiveError)} == INTERNAL


@pytest.mark.parametrize(
    "name, base",
    [
        ("archive.document.ParseError", errors.InputError),
        ("archive.decode.DecodeError", errors.InputError),
        ("archive.prepare.FileError", errors.InputError),
        ("archive.formats.metadata.NamePatternError", errors.InputError),
        ("archive.grants.BadRoleName", errors.InputError),
        ("archive.db.DiskFull", errors.DatabaseError),
        ("archive.backup.MigrationFailed", errors.DatabaseError),
        ("archive.readdb.ReadError", errors.DatabaseError),
        ("archive.sql.QueryRejected", errors.QueryError),
        ("archive.sql.QueryFailed", errors.QueryError),
        ("archive.sql.TimeLimitExceeded", errors.QueryError),
        ("archive.searchtext.EmptyQuery", errors.QueryError),
        ("archive.export.UnknownRelation", errors.NotFound),
        ("archive.export.ExportUnavailable", errors.UnavailableError),
        ("archive.series.PlotUnavailable", errors.UnavailableError),
        ("archive.serve.ServeUnavailable", errors.UnavailableError),
        ("archive.grants.GrantUnsupported", errors.UnavailableError),
        ("archive.grants.ReaderUnavailable", errors.UnavailableError),
    ],
)
def test_each_module_s_errors_keep_their_names_under_the_hierarchy(name, base):
    module, _, cls = name.rpartition(".")
    found = getattr(importlib.import_module(module), cls)
    assert issubclass(found, base) and issubclass(found, errors.ArchiveError)
    # a bug's KeyError or IndexError is never mistaken for one of these, nor one of these for a bug's
    assert not issubclass(found, (LookupError, ValueError, RuntimeError))


def test_the_hierarchy():
    from archive import db, queries

    assert db.DatabaseError is errors.DatabaseError and queries.NotFound is errors.NotFound
    assert issubclass(errors.SchemaError, errors.DatabaseError) and issubclass(errors.NotFound, errors.QueryError)
    for cls in (errors.InputError, errors.DatabaseError, errors.QueryError, errors.UnavailableError):
        assert cls.__bases__ == (errors.ArchiveError,)
    assert errors.ArchiveError.__bases__ == (Exception,)


# ---------------------------------------------------------------- the CLI: one line, exit 1


def _cli(url: str, *args: str):
    return CliRunner().invoke(main, ["--db", url, *args])


def _one_error_line(result) -> str:
    assert result.exit_code == 1, (result.output, result.exception)
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert isinstance(result.exception, SystemExit)  # click's own exit: no traceback
    return result.output[len("Error: "):].strip()


@pytest.fixture
def loaded(sqlite_url, seed_dir) -> str:
    assert _cli(sqlite_url, "load", "-q", str(seed_dir)).exit_code == 0
    return sqlite_url


@pytest.mark.parametrize(
    "args, says",
    [
        (("show", "999"), "no article with id 999"),  # NotFound
        (("purge", "999"), "no loaded file '999'"),  # NotFound, from the loader
        (("export", "nowhere"), "nowhere"),  # UnknownRelation
        (("search", ""), "nothing to search for"),  # EmptyQuery
        (("sql", "DELETE FROM article"), "DELETE"),  # QueryRejected
        (("sql", "SELECT * FROM nowhere"), "nowhere"),  # QueryFailed
        (("db", "grant-readonly", "1 bad"), "role name '1 bad'"),  # BadRoleName: an InputError
        (("db", "grant-readonly", "reader"), "SQLite"),  # GrantUnsupported: an UnavailableError
    ],
)
def test_the_cli_shows_each_user_facing_error_as_one_line(loaded, args, says):
    assert says in _one_error_line(_cli(loaded, *args))


def test_database_and_schema_errors_are_one_line(tmp_path):
    missing = tmp_path / "none.db"
    assert _one_error_line(_cli(f"sqlite:///{missing}", "stats")) == f"no SQLite archive at {missing}"  # ReadError
    sqlite3.connect(tmp_path / "empty.db").close()
    assert "holds no archive yet" in _one_error_line(_cli(f"sqlite:///{tmp_path / 'empty.db'}", "stats"))  # SchemaError
    (tmp_path / "junk.db").write_bytes(b"not a backup")
    said = _one_error_line(_cli(f"sqlite:///{tmp_path / 'a.db'}", "db", "restore", str(tmp_path / "junk.db")))
    assert "not a SQLite database" in said  # db.DatabaseError
    served = _cli("postgresql://u@127.0.0.1:1/x", "serve")  # ServeUnavailable, after its `serving …` line
    assert served.exit_code == 1 and served.output.splitlines()[-1].startswith("Error: archive serve reads a SQLite archive")


def test_a_database_changed_behind_the_models_back_fails_db_check(loaded):
    path = loaded.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE newspaper ADD COLUMN extra INTEGER")
    assert "extra" in _one_error_line(_cli(loaded, "db", "check"))  # SchemaError, from Alembic's diff


def test_a_server_that_refuses_the_connection_is_one_line_without_the_password(tmp_path):
    said = _one_error_line(_cli("postgresql+psycopg://user:s3cret@127.0.0.1:1/x", "db", "upgrade"))  # DBAPIError
    assert said.startswith("postgresql+psycopg://user:***@127.0.0.1:1/x: ") and "s3cret" not in said


@pytest.mark.parametrize("bug", [KeyError("article_id"), IndexError("list index out of range"), LookupError("bug")])
def test_a_bug_inside_a_command_keeps_its_traceback(loaded, monkeypatch, bug):
    """A KeyError is a bug, not a refusal: it must reach the user with its traceback, not as `Error: …`."""
    from archive import queries

    def broken(_bind):
        raise bug

    monkeypatch.setattr(queries, "stats", broken)
    result = _cli(loaded, "stats")
    assert result.exception is bug and "Error:" not in result.output
    with pytest.raises(type(bug)):
        CliRunner().invoke(main, ["--db", loaded, "stats"], catch_exceptions=False)


# ---------------------------------------------------------------- ParseError.format: the format that refused


@pytest.mark.parametrize(
    "fmt, text, reason",
    [
        ("page", "没有报头的一段文字。\n", "no masthead"),
        ("article", "# 标题\n\n正文。\n", "is Markdown, not an article file's title block"),
        ("markdown", "---\ntitle: [\n---\n\n正文。\n", "front matter is not valid YAML"),
        ("markdown", "---\ntitle: 标题\ndate: 2021-03-07\n---\n\n正文。\n", "does not say its newspaper"),  # meta.require
    ],
)
def test_each_format_names_itself_on_its_refusals(fmt, text, reason):
    with pytest.raises(ParseError) as err:
        parse_text(text, fmt, Metadata())
    assert err.value.format == fmt and reason in err.value.reason
    assert str(err.value) == f"line {err.value.line}: {err.value.reason}"


def test_auto_detection_names_the_format_it_read_the_text_as():
    # the markdown format accepted the text; the column check refused it, and names the format it was read as
    text = "---\ntitle: 标题\ndate: 2021-03-07\npage: " + "A" * 30 + "\n---\n\n正文。\n"
    with pytest.raises(ParseError) as err:
        parse_text(text, None, Metadata(newspaper="江城晚报"))
    assert err.value.format == "markdown"
    broken = SEED.read_text(encoding="utf-8").replace("2020年8月26日", "2020年2月30日", 1)
    with pytest.raises(ParseError) as err:
        parse_text(broken)
    assert err.value.format == "page" and "impossible date" in err.value.reason


def test_a_refusal_before_any_format_names_none():
    with pytest.raises(ParseError) as err:
        parse_text("正文。\n", "docx")
    assert err.value.format is None and "unknown format 'docx'" in err.value.reason


def test_the_format_reaches_the_file_error_and_survives_pickling():
    """Worker processes send refusals back pickled: every field must come through."""
    with pytest.raises(FileError) as err:
        prepare_bytes("pages/x.md", "---\ntitle: [\n---\n".encode(), fmt="markdown")
    assert err.value.format == "markdown" and str(err.value).startswith("pages/x.md:")
    for exc in (err.value, ParseError(3, "why", "page")):
        back = pickle.loads(pickle.dumps(exc))
        assert (type(back), str(back), back.format) == (type(exc), str(exc), exc.format)
