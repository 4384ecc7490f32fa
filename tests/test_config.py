"""The one function that resolves the database URL (archive.config.resolve_database_url)."""

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.config import ENV_VAR, resolve_database_url
from tests.conftest import SERVER_ENV


def test_order_is_option_then_environment_then_default(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_database_url(None) == "sqlite:///archive.db"
    monkeypatch.setenv(ENV_VAR, " sqlite:///from-env.db ")
    assert resolve_database_url(None) == "sqlite:///from-env.db"
    assert resolve_database_url("sqlite:///given.db") == "sqlite:///given.db"
    assert resolve_database_url("  ") == "sqlite:///from-env.db"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg2", "POSTGRESQL+PSYCOPG2", "postgresql+psycopg"])
def test_a_postgresql_url_runs_on_psycopg_whatever_driver_it_names(scheme):
    url = f"{scheme}://u:p%40ss@db.example:5433/archive?sslmode=require"
    assert resolve_database_url(url) == "postgresql+psycopg://u:p%40ss@db.example:5433/archive?sslmode=require"


def test_other_urls_are_left_as_written():
    for url in ("sqlite:////tmp/postgresql://x.db", "mysql+pymysql://root@h/test", "mariadb+pymysql://root@h/test"):
        assert resolve_database_url(url) == url


def test_psycopg2_url_works_for_sql_and_export(monkeypatch, seed_dir):
    server = __import__("os").environ.get(SERVER_ENV["postgresql"])
    if not server:
        pytest.skip(f"needs {SERVER_ENV['postgresql']}")
    from tests.conftest import server_database

    databases = server_database("postgresql")
    url = next(databases).replace("postgresql+psycopg://", "postgresql+psycopg2://", 1)
    try:
        runner = CliRunner()
        assert runner.invoke(main, ["--db", url, "load", "-q", str(seed_dir)]).exit_code == 0
        result = runner.invoke(main, ["--db", url, "sql", "SELECT count(*) AS n FROM article", "--format", "csv"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[1] != "0"
        result = runner.invoke(main, ["--db", url, "export", "issue", "--format", "csv"])
        assert result.exit_code == 0 and "2020-08-26" in result.output, result.output
    finally:
        databases.close()
