"""The archive sharded across PostgreSQL servers: declarative partitioning with postgres_fdw partitions.

`archive db shard --shards URL…` turns a PostgreSQL archive at the head revision (its content tables
still empty) into a coordinator: each content table moves to schema `shards` as a table hash-partitioned
on `source_id` whose partitions are foreign tables, one per shard server; `public` keeps a view of the
same name and columns, so every reader and the loader's SQL run unchanged. `newspaper`, `issue`,
`source`, `source_path` and the small tables stay on the coordinator.

On each shard the content tables carry `source_id` in their primary key and foreign keys, as Citus
wants of a distributed table (docs/scaling.md): moving to Citus is a deployment change.

A file's rows go to one shard in one remote transaction: the loader calls `route` after the source row
is written; it sets `archive.source_id` for the transaction (the default of `source_id` on the tables
whose model has no such column) and records the source in `source_mark` on its shard. postgres_fdw
commits the shard's transaction just before the coordinator's, so a crash between the two, or a shard
restored from an older backup, can leave one side without the other: `heal` (run by every load) finds
such sources by their marks and removes the half that is there, so the file loads again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, create_engine, make_url, pool, text
from sqlalchemy.exc import DBAPIError, OperationalError

from archive import searchindex
from archive.errors import DatabaseError
from archive.grants import driver_sql

SCHEMA = "shards"
# Parents first: each table's foreign keys on a shard name tables before it.
CONTENT = ("article", "article_author", "section", "paragraph", "metric", "search_doc")
# On a shard: (column, table it names by id), each key carrying source_id.
REFERENCES = {
    "article_author": (("article_id", "article"),),
    "section": (("article_id", "article"),),
    "paragraph": (("article_id", "article"), ("section_id", "section")),
    "metric": (("article_id", "article"), ("paragraph_id", "paragraph")),
}
MARK = "source_mark"
SETTING = "archive.source_id"


class ShardError(DatabaseError):
    """The database cannot be sharded as asked (not PostgreSQL, not at head, content already loaded …)."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool


# ---------------------------------------------------------------- archive db check


def check(conn: Connection) -> list[str]:
    """What differs between the models and a coordinator's content tables, one line each: each view in
    public has its model's columns, with their types and comments, and its table's comment; every
    partition on every shard answers a query naming those columns (a shard that lacks one, or is down, says so)."""
    from sqlalchemy import inspect

    from archive.models import Base

    problems = []
    inspector = inspect(conn)
    views = set(inspector.get_view_names())
    for table in CONTENT:
        model = Base.metadata.tables.get(table)
        if model is None:  # search_doc: the index, not a model table
            continue
        if table not in views:
            problems.append(f"{table}: no view public.{table}")
            continue
        # by name, as Alembic compares a table (migrations add columns at the end, not where the model has them)
        want = {c.name: (c.type.compile(conn.dialect), c.comment) for c in model.columns}
        got = {c["name"]: (c["type"].compile(conn.dialect), c.get("comment")) for c in inspector.get_columns(table)}
        problems += [f"{table}: no column {name}" for name in want if name not in got]
        problems += [f"{table}: column {name} is not in the model" for name in got if name not in want]
        problems += [f"{table}.{name}: {what} {got[name][i]!r}, the model has {want[name][i]!r}"
                     for name in want if name in got for i, what in ((0, "type"), (1, "comment")) if want[name][i] != got[name][i]]
        if (comment := inspector.get_table_comment(table)["text"]) != model.comment:
            problems.append(f"{table}: comment {comment!r}, the model has {model.comment!r}")
        columns = ", ".join(f'"{c.name}"' for c in model.columns)
        partitions = conn.scalars(
            text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = CAST(:t AS regclass) ORDER BY 1"),
            {"t": f"{SCHEMA}.{table}"},
        ).all()
        if not partitions:
            problems.append(f"{SCHEMA}.{table}: no partitions")
        for partition in partitions:
            try:
                with conn.begin_nested():
                    conn.execute(text(f"SELECT {columns} FROM {partition} LIMIT 1")).all()
            except DBAPIError as exc:
                problems.append(f"{partition}: {str(exc.orig).strip().splitlines()[0]}")
    return problems


# ---------------------------------------------------------------- the loader's side


def is_sharded(conn: Connection) -> bool:
    """Whether this is a sharded coordinator; asked once per pooled connection."""
    info = conn.connection.info
    if "archive_sharded" not in info:
        info["archive_sharded"] = conn.dialect.name == "postgresql" and bool(
            conn.execute(text(f"SELECT to_regprocedure('{SCHEMA}.route(integer)') IS NOT NULL")).scalar()
        )
    return info["archive_sharded"]


def route(conn: Connection, source_id: int) -> None:
    """Before a source's content rows are written in this transaction: send them to its shard."""
    if is_sharded(conn):
        conn.execute(text(f"SELECT {SCHEMA}.route(:id)"), {"id": source_id})


def heal(engine: Engine) -> tuple[list[int], list[int]]:
    """Make coordinator and shards agree on which sources are loaded: a source on the coordinator whose
    shard has no mark of it goes (the next load stores the file again); rows on a shard of a source the
    coordinator does not have go. Returns (coordinator sources removed, shard sources removed)."""
    with engine.connect() as conn:
        if not is_sharded(conn):
            return [], []
    try:
        return _heal(engine)
    except OperationalError:  # a shard is down: its files fail one by one as they are stored
        return [], []


def _heal(engine: Engine) -> tuple[list[int], list[int]]:
    # Each read in its own transaction, in this order: the shard commits before the coordinator, so a
    # source committed before the first read has its mark by the second.
    sources = _ids(engine, "SELECT id FROM source")
    marks = dict(_rows(engine, f"SELECT source_id, xid FROM {SCHEMA}.{MARK}"))
    unmarked = sorted(sources - set(marks))
    candidates = [i for i in marks if i not in sources]
    orphans: list[int] = []
    if candidates:
        status = dict(_rows(engine, "SELECT i, pg_xact_status(x) FROM unnest(CAST(:i AS integer[]), CAST(:x AS xid8[])) AS t(i, x)",
                            {"i": candidates, "x": [str(marks[i]) for i in candidates]}))
        now = _ids(engine, "SELECT id FROM source")
        # in progress: a load that has committed on the shard and is committing on the coordinator
        orphans = sorted(i for i, s in status.items() if s != "in progress" and i not in now)
    with engine.begin() as conn:
        if orphans:
            for table in (*reversed(CONTENT), MARK):
                conn.execute(text(f"DELETE FROM {SCHEMA}.{table} WHERE source_id = ANY(:ids)"), {"ids": orphans})
        if unmarked:
            conn.execute(text("DELETE FROM source WHERE id = ANY(:ids)"), {"ids": unmarked})
            conn.execute(text("DELETE FROM issue i WHERE NOT EXISTS (SELECT 1 FROM article a WHERE a.issue_id = i.id)"))
            conn.execute(text("DELETE FROM newspaper n WHERE NOT EXISTS (SELECT 1 FROM issue i WHERE i.newspaper_id = n.id)"))
            searchindex.recount_chars(conn)  # the coordinator counted the texts its shard lost
    return unmarked, orphans


def _run(conn: Connection, statement: str) -> None:
    conn.exec_driver_sql(driver_sql(conn, statement))


def _rows(engine: Engine, sql: str, params: dict | None = None) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params or {})]


def _ids(engine: Engine, sql: str) -> set[int]:
    return {r[0] for r in _rows(engine, sql)}


# ---------------------------------------------------------------- making the layout


def shard(engine: Engine, shard_urls: list[str]) -> list[str]:
    """Make `engine`'s database the coordinator of these shard databases; returns one line per shard."""
    from archive import db, views

    if engine.dialect.name != "postgresql":
        raise ShardError("sharding needs PostgreSQL (declarative partitioning and postgres_fdw)")
    if not shard_urls:
        raise ShardError("name at least one shard database (--shards URL)")
    if db.current_revision(engine) != db.head_revision():
        raise ShardError("upgrade the coordinator to the head revision first (archive db upgrade)")
    with engine.begin() as conn:
        if conn.execute(text(f"SELECT to_regnamespace('{SCHEMA}') IS NOT NULL")).scalar():
            raise ShardError(f"already sharded (schema {SCHEMA} exists)")
        if conn.execute(text("SELECT EXISTS (SELECT 1 FROM source)")).scalar():
            raise ShardError("shard an empty archive, then load it: this one already holds sources")
        layout = {t: (_columns(conn, t), _primary_key(conn, t), _indexes(conn, t)) for t in CONTENT}
        source_type = next(c.type for c in layout["article"][0] if c.name == "source_id")
        made: list[str] = []
        try:
            for url in shard_urls:
                _make_shard_tables(url, layout, source_type)
                made.append(url)
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgres_fdw"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            servers = [_add_server(conn, n, url) for n, url in enumerate(shard_urls, 1)]
            with views.views_set_aside(conn):
                for table in CONTENT:
                    _move_table(conn, table, layout[table][0], source_type, servers)
            _add_marks(conn, source_type, servers)
        except Exception:
            for url in made:  # the coordinator's part rolls back: leave the shards empty again, for a rerun
                _drop_shard_tables(url)
            raise
        database = conn.execute(text("SELECT current_database()")).scalar_one()
        for setting in ("enable_partitionwise_aggregate", "enable_partitionwise_join"):
            _run(conn, f'ALTER DATABASE "{database}" SET {setting} = on')
    return [f"{server}: {_redacted(url)}" for server, url in zip(servers, shard_urls)]


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _columns(conn: Connection, table: str) -> list[Column]:
    rows = conn.execute(
        text(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        ),
        {"t": f"public.{table}"},
    )
    return [Column(*r) for r in rows]


def _primary_key(conn: Connection, table: str) -> list[str]:
    return list(
        conn.scalars(
            text(
                "SELECT a.attname FROM pg_index i CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indrelid = CAST(:t AS regclass) AND i.indisprimary ORDER BY k.n"
            ),
            {"t": f"public.{table}"},
        )
    )


def _indexes(conn: Connection, table: str) -> list[str]:
    """The table's other indexes, as CREATE INDEX statements that run on a shard as they are."""
    return list(
        conn.scalars(
            text("SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = CAST(:t AS regclass) AND NOT indisprimary"),
            {"t": f"public.{table}"},
        )
    )


def _shard_ddl(table: str, columns: list[Column], key: list[str], indexes: list[str], source_type: str) -> list[str]:
    """A content table as a shard holds it: source_id leads its primary key and foreign keys; the old
    key keeps an index of its own (rows are looked up by id alone: `archive show 12`)."""
    names = [c.name for c in columns]
    cols = [f'"{c.name}" {c.type}{" NOT NULL" if c.not_null else ""}' for c in columns]
    if "source_id" not in names:
        cols.append(f"source_id {source_type} NOT NULL")
    cols.append(f"CONSTRAINT pk_{table} PRIMARY KEY (source_id, {', '.join(key)})")
    cols += [
        f"CONSTRAINT fk_{table}_{col}_{parent} FOREIGN KEY (source_id, {col}) REFERENCES {parent} (source_id, id) ON DELETE CASCADE"
        for col, parent in REFERENCES.get(table, ())
    ]
    return [
        f"CREATE TABLE {table} ({', '.join(cols)})",
        f"CREATE INDEX ix_{table}_{'_'.join(key)} ON {table} ({', '.join(key)})",
        *indexes,
    ]


def _shard_engine(url: str) -> Engine:
    return create_engine(url, poolclass=pool.NullPool)


def _make_shard_tables(url: str, layout: dict[str, tuple[list[Column], list[str], list[str]]], source_type: str) -> None:
    engine = _shard_engine(url)
    try:
        with engine.begin() as conn:
            held = [t for t in (*CONTENT, MARK) if conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f"public.{t}"}).scalar()]
            if held:
                raise ShardError(f"{_redacted(url)} already holds archive tables ({', '.join(held)}): give each shard an empty database")
            for table in CONTENT:
                columns, key, indexes = layout[table]
                for statement in _shard_ddl(table, columns, key, indexes, source_type):
                    _run(conn, statement)
            _run(conn, f"CREATE TABLE {MARK} (source_id {source_type} PRIMARY KEY, xid xid8 NOT NULL)")
            _run(conn, 
                f"COMMENT ON TABLE {MARK} IS 'Sources whose rows this shard holds, written in the same transaction as the rows "
                "(xid: the coordinator''s transaction). Maintained by the loader (archive/shard.py).'"
            )
    finally:
        engine.dispose()


def _drop_shard_tables(url: str) -> None:
    engine = _shard_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {MARK}, {', '.join(reversed(CONTENT))}")
    finally:
        engine.dispose()


def _quote(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _add_server(conn: Connection, n: int, url: str) -> str:
    u = make_url(url)
    name = f"shard{n}"
    options = {"host": u.host or "localhost", "port": u.port or 5432, "dbname": u.database or "postgres",
               "async_capable": "true", "batch_size": 100, "fetch_size": 1000}
    rendered = ", ".join(f"{k} {_quote(v)}" for k, v in options.items())
    _run(conn, f"CREATE SERVER {name} FOREIGN DATA WRAPPER postgres_fdw OPTIONS ({rendered})")
    login = {"user": u.username or "postgres", **({"password": u.password} if u.password else {})}
    rendered = ", ".join(f"{k} {_quote(v)}" for k, v in login.items())
    # The current user's mapping: views owned by it reach the shards as it, whoever reads them.
    _run(conn, f"CREATE USER MAPPING FOR CURRENT_USER SERVER {name} OPTIONS ({rendered})")
    return name


def _partitions(conn: Connection, table: str, servers: list[str]) -> None:
    for remainder, server in enumerate(servers):
        _run(conn, 
            f"CREATE FOREIGN TABLE {SCHEMA}.{table}_{server} PARTITION OF {SCHEMA}.{table} "
            f"FOR VALUES WITH (MODULUS {len(servers)}, REMAINDER {remainder}) "
            f"SERVER {server} OPTIONS (schema_name 'public', table_name {_quote(table)})"
        )


def _move_table(conn: Connection, table: str, columns: list[Column], source_type: str, servers: list[str]) -> None:
    """public.TABLE becomes shards.TABLE, partitioned on the shards, and a view of it in its place."""
    comments = _comments(conn, table)
    names = [c.name for c in columns]
    # the id sequence stays on the coordinator: ids are unique across shards
    if "id" in names:
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": f"public.{table}"}).scalar()
        if seq:
            _run(conn, f"ALTER SEQUENCE {seq} OWNED BY NONE")
    extra = "" if "source_id" in names else f", source_id {source_type} NOT NULL DEFAULT CAST(current_setting('{SETTING}') AS {source_type})"
    _run(conn, 
        f"CREATE TABLE {SCHEMA}.{table} (LIKE public.{table} INCLUDING DEFAULTS{extra}) PARTITION BY HASH (source_id)"
    )
    _partitions(conn, table, servers)
    _run(conn, f"DROP TABLE public.{table} CASCADE")
    column_list = ", ".join(f'"{n}"' for n in names)
    _run(conn, f"CREATE VIEW public.{table} AS SELECT {column_list} FROM {SCHEMA}.{table}")
    for statement in comments:
        _run(conn, statement)


def _comments(conn: Connection, table: str) -> list[str]:
    """COMMENT statements that put the table's comments on the view that replaces it."""
    rows = conn.execute(
        text(
            "SELECT NULL, obj_description(CAST(:t AS regclass), 'pg_class') UNION ALL "
            "SELECT attname, col_description(attrelid, attnum) FROM pg_attribute "
            "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"
        ),
        {"t": f"public.{table}"},
    )
    return [
        f"COMMENT ON VIEW public.{table} IS {_quote(c)}" if col is None else f'COMMENT ON COLUMN public.{table}."{col}" IS {_quote(c)}'
        for col, c in rows
        if c is not None
    ]


def _add_marks(conn: Connection, source_type: str, servers: list[str]) -> None:
    """source_mark, the function the loader routes with, and a trigger that drops a purged source's mark."""
    _run(conn, 
        f"CREATE TABLE {SCHEMA}.{MARK} (source_id {source_type} NOT NULL, xid xid8 NOT NULL DEFAULT pg_current_xact_id()) "
        "PARTITION BY HASH (source_id)"
    )
    _partitions(conn, MARK, servers)
    _run(conn, 
        f"CREATE FUNCTION {SCHEMA}.route(sid {source_type}) RETURNS void LANGUAGE sql AS $$ "
        f"SELECT set_config('{SETTING}', CAST(sid AS text), true); "
        f"INSERT INTO {SCHEMA}.{MARK} (source_id) SELECT sid "
        f"WHERE NOT EXISTS (SELECT 1 FROM {SCHEMA}.{MARK} WHERE source_id = sid) $$"
    )
    _run(conn, 
        f"CREATE FUNCTION {SCHEMA}.forget_mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"DELETE FROM {SCHEMA}.{MARK} WHERE source_id = OLD.id; RETURN OLD; END $$"
    )
    _run(conn, 
        f"CREATE TRIGGER source_forget_mark AFTER DELETE ON public.source FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.forget_mark()"
    )
