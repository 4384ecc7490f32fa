"""Alembic environment: the same URL resolution as the CLI, or a connection handed in by the caller."""

from alembic import context
from sqlalchemy import Engine, pool

from archive.config import resolve_database_url
from archive.db import make_engine
from archive.migrations.renamed import rename_stored
from archive.models import Base

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, parent_names) -> bool:
    # Search-index tables (FTS5 and its shadow tables) and views are made by migrations by hand;
    # autogenerate must neither propose nor drop them.
    if type_ == "table":
        return name in target_metadata.tables or name == "alembic_version"
    return True


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    # On a sharded coordinator the content tables are views over partitions on the shards (archive/shard.py):
    # archive.shard.check compares those, Alembic the rest.
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is None or table.name not in config.attributes.get("views_not_tables", ())


def _configure(connection) -> None:
    # before Alembic reads alembic_version: a database from before issue 16 stores an old revision id
    rename_stored(connection)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_name=include_name,
        include_object=include_object,
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=resolve_database_url(context.get_x_argument(as_dictionary=True).get("db")),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Engine):  # pytest-alembic hands in an engine for some checks
        with connection.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
        return
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = resolve_database_url(context.get_x_argument(as_dictionary=True).get("db"))
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
