"""Who may read: a read-only login role for BI tools (Metabase, Superset), and the temporary read-only
login `archive sql` runs queries as when the URL's user could reach the server's files."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, Engine, literal, pool, text

from archive.db import make_engine, parse_url
from archive.errors import InputError, UnavailableError


def driver_sql(connection: Connection, statement: str) -> str:
    """`statement` as the DBAPI driver expects it when no parameters are bound (a literal % doubled)."""
    if connection.dialect.paramstyle in ("format", "pyformat"):
        return statement.replace("%", "%%")
    return statement

ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class GrantUnsupported(UnavailableError):
    """The engine has no roles archive can set up; the message says what to do instead."""


class BadRoleName(InputError):
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


def _pg_reader_grants(role: str, database: str) -> list[str]:
    """What a PostgreSQL reader may do: read-only transactions, connect, and SELECT on the archive's
    tables (the role and database names given quoted)."""
    return [
        f"ALTER ROLE {role} SET default_transaction_read_only = on",
        f"GRANT CONNECT ON DATABASE {database} TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
    ]


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
        statements += [*_pg_reader_grants(r, q(database)), f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {r}"]
        for s in statements:
            conn.exec_driver_sql(driver_sql(conn, s))
            shown.append(s.replace(str(secret), "'***'") if password else s)
    return shown


# --- The temporary reader ------------------------------------------------------------------------
# A read-only transaction does not stop a superuser: pg_read_file, COPY … TO PROGRAM, lo_import on
# PostgreSQL; LOAD_FILE and INTO OUTFILE with the FILE privilege on MariaDB. SET ROLE / SET SESSION
# AUTHORIZATION are no boundary either: the statement itself can call
# set_config('session_authorization', 'postgres', false) and be a superuser again. So a privileged
# URL's queries run on a login of their own that can only SELECT from this database, made for the one
# command (random name and password; on PostgreSQL valid for a day at most) and dropped when it ends.
READER_PREFIX = "archive_sql_"

PG_PRIVILEGED = text(
    "SELECT r.rolsuper OR pg_has_role(current_user, 'pg_read_server_files', 'MEMBER') "
    "OR pg_has_role(current_user, 'pg_write_server_files', 'MEMBER') "
    "OR pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER') "
    "FROM pg_roles AS r WHERE r.rolname = current_user"
)
# USER_PRIVILEGES lists every account an administrator can see: keep the current one's.
MYSQL_PRIVILEGED = text(
    "SELECT count(*) FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN ('FILE', 'SUPER') "
    "AND GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', "
    "SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')"
)


class ReaderUnavailable(UnavailableError):
    """The URL's user could reach server files, and no temporary read-only login could be made for it."""


def reaches_outside(conn: Connection) -> bool:
    """Whether the connection's user can read or write the server's files or run programs on it."""
    if conn.dialect.name == "postgresql":
        return bool(conn.execute(PG_PRIVILEGED).scalar())
    if conn.dialect.name in ("mysql", "mariadb"):
        return bool(conn.execute(MYSQL_PRIVILEGED).scalar())
    return False


def _create_pg_reader(conn: Connection, name: str, password: str) -> list[str]:
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    q = conn.dialect.identifier_preparer.quote_identifier
    until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
    drop = [f"DROP OWNED BY {name}", f"DROP ROLE IF EXISTS {name}"]
    conn.exec_driver_sql(
        f"CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION "
        f"CONNECTION LIMIT 2 PASSWORD '{password}' VALID UNTIL '{until}'"
    )
    try:
        for s in _pg_reader_grants(name, q(database)):
            conn.exec_driver_sql(driver_sql(conn, s))
    except Exception:
        for s in drop:
            conn.exec_driver_sql(s)
        raise
    return drop


def _create_mysql_reader(conn: Connection, name: str, password: str) -> list[str]:
    host = conn.execute(text("SELECT SUBSTRING_INDEX(USER(), '@', -1)")).scalar_one()  # as the server sees us
    database = conn.execute(text("SELECT DATABASE()")).scalar_one()
    account = f"'{name}'@'{host.replace(chr(39), '')}'"
    conn.exec_driver_sql(f"CREATE USER {account} IDENTIFIED BY '{password}' WITH MAX_USER_CONNECTIONS 2")
    try:
        conn.exec_driver_sql(driver_sql(conn, f"GRANT SELECT, SHOW VIEW ON `{database.replace('`', '``')}`.* TO {account}"))
    except Exception:
        conn.exec_driver_sql(f"DROP USER IF EXISTS {account}")
        raise
    return [f"DROP USER IF EXISTS {account}"]


@contextmanager
def reader_url(url: str) -> Iterator[tuple[str, bool]]:
    """(URL, temporary) to run read-only SQL with: `url` itself when its user cannot reach outside the
    database (SQLite; a role like the one grant_readonly makes), else a temporary SELECT-only login."""
    parsed = parse_url(url)
    if parsed.get_backend_name() not in ("postgresql", "mysql", "mariadb"):
        yield url, False
        return
    admin = make_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    name, password = f"{READER_PREFIX}{secrets.token_hex(6)}", secrets.token_hex(16)
    drop: list[str] = []
    try:
        with admin.connect() as conn:
            privileged = reaches_outside(conn)
            if privileged:
                create = _create_pg_reader if conn.dialect.name == "postgresql" else _create_mysql_reader
                try:
                    drop = create(conn, name, password)
                except Exception as exc:
                    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                    raise ReaderUnavailable(
                        "this login may reach the server's files, so archive sql runs queries as a temporary "
                        f"read-only login, which it could not create ({reason}): connect as a role without "
                        "those rights (archive db grant-readonly makes one on PostgreSQL)"
                    ) from None
        if not privileged:
            yield url, False
        else:
            yield parsed.set(username=name, password=password).render_as_string(hide_password=False), True
    finally:
        if drop:
            with admin.connect() as conn:
                for s in drop:
                    conn.exec_driver_sql(s)
        admin.dispose()
