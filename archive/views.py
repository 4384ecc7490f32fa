"""Keeping the BI views across migrations that rebuild or alter the tables they read.

SQLite cannot rename a rebuilt table while a view reads it (Alembic's batch mode does exactly that:
"error in view v_article: no such table: main.article"), and PostgreSQL refuses to change the type of
a column a view uses. A migration that touches those tables wraps its work in `views_set_aside`:

    with views_set_aside(op.get_bind()):
        with op.batch_alter_table("article") as batch:
            ...

The views are dropped and then recreated from their own stored definitions, exactly as they were
(nothing here knows their SQL, so an old migration never creates a newer view), comments included.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, inspect, text


def _create_statement(connection: Connection, name: str) -> str:
    dialect = connection.dialect.name
    quoted = connection.dialect.identifier_preparer.quote_identifier(name)
    if dialect == "sqlite":
        return connection.execute(text("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = :n"), {"n": name}).scalar_one()
    if dialect == "postgresql":
        body = connection.execute(text("SELECT pg_get_viewdef(CAST(:n AS regclass), true)"), {"n": name}).scalar_one()
        return f"CREATE VIEW {quoted} AS {body}"
    return connection.exec_driver_sql(f"SHOW CREATE VIEW {quoted}").one()[1]


@contextmanager
def views_set_aside(connection: Connection) -> Iterator[list[str]]:
    """Drop every view for the body of the block, then recreate each as it was; yields their names."""
    from archive.dictionary import apply_comments
    from archive.sql import driver_sql

    names = inspect(connection).get_view_names()
    saved = [(name, _create_statement(connection, name)) for name in names]
    quote = connection.dialect.identifier_preparer.quote_identifier
    for name in names:
        connection.exec_driver_sql(f"DROP VIEW {quote(name)}")
    yield names
    for _name, create in saved:
        connection.exec_driver_sql(driver_sql(connection, create))
    apply_comments(connection)
