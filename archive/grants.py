"""A read-only login role for BI tools (Metabase, Superset): PostgreSQL does it; elsewhere, say how."""

from __future__ import annotations

import re

from sqlalchemy import Engine, literal, text

from archive.sql import driver_sql

ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class GrantUnsupported(Exception):
    """The engine has no roles archive can set up; the message says what to do instead."""


class BadRoleName(ValueError):
    """A role name that is not a plain SQL identifier."""


def _instead(backend: str, role: str, database: str | None) -> str:
    if backend == "sqlite":
        return (
            "SQLite has no roles or passwords: share the archive file read-only instead (a copy, or "
            "chmod a-w), and read it with `archive sql`, `archive export` or `archive serve`, which open "
            "it read-only. Superset refuses SQLite: load the archive into PostgreSQL for it."
        )
    db = database or "ARCHIVE_DB"
    return (
        "archive does not manage MariaDB/MySQL users. As an administrator run: "
        f"CREATE USER '{role}'@'%' IDENTIFIED BY '…'; GRANT SELECT, SHOW VIEW ON `{db}`.* TO '{role}'@'%'; "
        "(a grant on db.* also covers tables a later migration adds)."
    )


def grant_readonly(engine: Engine, role: str, password: str | None = None) -> list[str]:
    """Create or update login role `role` that can read every table and view, now and later, and not write.

    Returns the statements run (the password shown as ***). Tables created later by the user running
    this (the one that runs the migrations) are covered through ALTER DEFAULT PRIVILEGES.
    """
    if not ROLE_NAME.match(role):
        raise BadRoleName(f"role name {role!r} must be letters, digits and _ (not starting with a digit)")
    backend = engine.dialect.name
    if backend != "postgresql":
        raise GrantUnsupported(_instead(backend, role, engine.url.database))
    q = engine.dialect.identifier_preparer.quote_identifier
    r = q(role)
    secret = literal(password).compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}) if password else None
    shown: list[str] = []
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        database = conn.execute(text("SELECT current_database()")).scalar_one()
        statements = [f"{'ALTER' if exists else 'CREATE'} ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"]
        if password:
            statements.append(f"ALTER ROLE {r} PASSWORD {secret}")
        statements += [
            f"ALTER ROLE {r} SET default_transaction_read_only = on",
            f"GRANT CONNECT ON DATABASE {q(database)} TO {r}",
            f"GRANT USAGE ON SCHEMA public TO {r}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {r}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {r}",
        ]
        for s in statements:
            conn.exec_driver_sql(driver_sql(conn, s))
            shown.append(s.replace(str(secret), "'***'") if password else s)
    return shown
