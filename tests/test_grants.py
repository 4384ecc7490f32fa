"""`archive db grant-readonly`: a PostgreSQL login role that reads everything, now and later, and cannot write."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.bi_data import archive, cli  # noqa: F401  (fixture)


def test_grant_readonly(archive, monkeypatch):
    url, facts = archive
    role = f"archive_ro_{uuid.uuid4().hex[:8]}"
    if not url.startswith("postgresql"):
        result = cli(url, "db", "grant-readonly", role)
        assert result.exit_code == 1
        assert ("SQLite has no roles" if url.startswith("sqlite") else "GRANT SELECT, SHOW VIEW ON") in result.output
        return
    monkeypatch.setenv("ARCHIVE_RO_PASSWORD", "s3cret'%pw")
    admin = create_engine(url)
    try:
        result = cli(url, "db", "grant-readonly", role, "--password-env", "ARCHIVE_RO_PASSWORD")
        assert result.exit_code == 0, result.output
        assert "s3cret" not in result.output and "PASSWORD '***'" in result.output
        reader = create_engine(make_url(url).set(username=role, password="s3cret'%pw"))
        with reader.connect() as c:
            assert c.execute(text("SELECT count(*) FROM v_paragraph")).scalar() == facts["paragraphs"]
            assert c.execute(text("SELECT count(*) FROM metric")).scalar() == 4
        with pytest.raises(DBAPIError, match="permission denied|read-only"):
            with reader.begin() as c:
                c.execute(text("INSERT INTO newspaper (name) VALUES ('x')"))
        with admin.begin() as c:  # a table a later migration adds
            c.execute(text("CREATE TABLE later_table (id INTEGER PRIMARY KEY)"))
            c.execute(text("INSERT INTO later_table VALUES (7)"))
        with reader.connect() as c:
            assert c.execute(text("SELECT id FROM later_table")).scalar() == 7
        reader.dispose()
        # Running it again updates the role instead of failing.
        assert cli(url, "db", "grant-readonly", role).exit_code == 0
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP OWNED BY {role}"))
            c.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_role_name_is_checked(sqlite_url):
    result = cli(sqlite_url, "db", "grant-readonly", "x; DROP TABLE metric")
    assert result.exit_code == 1 and "role name" in result.output
