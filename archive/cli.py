"""The `archive` command: options in, one library call, output out. No SQL here."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys

from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence, TypeVar

import click

from archive import __version__, readcommands
from archive.config import redact, redact_url, resolve_database_url
from archive.errors import ArchiveError
from archive.launch import SEARCH_ORDERS  # archive.searchtext.ORDERS (importing it costs every command ~2 ms)
from archive.output import FORMATS, render

# Each command imports what it uses in its own body: starting the CLI imports neither SQLAlchemy nor
# Alembic nor the parsers (~300 ms), and the read commands never import them (archive.readdb).
# Choices named here for the same reason; tests check them against the modules that own them.
if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

    from archive.readdb import Bind

F = TypeVar("F", bound=Callable[..., Any])
AUTO, LAYOUT_NAMES = "auto", ("page", "article", "markdown")  # archive.formats
EXPORT_FORMATS, BINARY_FORMATS = ("csv", "jsonl", "parquet", "xlsx"), ("parquet", "xlsx")  # archive.export
SQL_TIMEOUT = 30.0  # archive.sql.DEFAULT_TIMEOUT


class Context:
    def __init__(self, url: str | None = None):
        self.explicit_url = url
        self._engine: Engine | None = None
        self._reader: Engine | None = None

    @property
    def url(self) -> str:
        return resolve_database_url(self.explicit_url)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            import logging

            from archive import db

            # psycopg logs a second account of a failure it also raises ("error ignored terminating
            # <psycopg.Pipeline …>: pipeline aborted" when a shard goes away mid-batch); with no handler
            # configured Python would print it beside the file's one `path:line: reason` line.
            logging.getLogger("psycopg").addHandler(logging.NullHandler())
            self._engine = db.make_engine(self.url)
        return self._engine

    @property
    def reader(self) -> Engine:
        """A SQLAlchemy engine for commands that only read: never waits for a loader, works on a
        read-only file (SQLite mode=ro, deferred transactions)."""
        if self._reader is None:
            from archive import db

            self._reader = db.make_reader(self.url)
        return self._reader

    @contextlib.contextmanager
    def reading(self) -> Iterator[Bind]:
        """A bind for the commands that only read: the lean DB-API Reader, or, for a URL it does not
        read (another driver, URL options), a SQLAlchemy connection. Both run the readers' SQL text."""
        from archive import readdb

        reader = readdb.connect(self.url)
        if reader is not None:
            with reader:
                yield reader
            return
        with self.reader.connect() as conn:
            yield conn


def _set_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        ctx.ensure_object(Context).explicit_url = value
    return value


pass_ctx = click.make_pass_decorator(Context, ensure=True)


def _one_line(exc: Exception, url: str | None) -> str | None:
    """The one-line message for an error the user can act on, or None for one that is a bug."""
    if isinstance(exc, ArchiveError):
        return str(exc)
    sa_exc = sys.modules.get("sqlalchemy.exc")  # not loaded: nothing can have raised its errors
    if sa_exc and isinstance(exc, sa_exc.DBAPIError):  # the driver's: a server down, a login refused
        cause = exc.orig if exc.orig is not None else exc
        reason = (str(cause).strip() or type(cause).__name__).splitlines()[0]
        return f"{redact_url(url) if url else 'database'}: {reason}"
    return None


class Archive(click.Group):
    """The `archive` group. Its invoke runs every command, so it is the one place where the library's
    errors become `Error: …` lines (exit 1), with passwords hidden; any other exception is a bug and
    keeps its traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:  # the commands' own, and click's: passwords hidden too
            # click declares message Final; redacted in place, the exception keeps its class (a UsageError its exit code 2)
            exc.message = redact(exc.message, _url(ctx))  # type: ignore[misc]
            raise
        except Exception as exc:
            url = _url(ctx)
            message = _one_line(exc, url)
            if message is None:
                raise
            raise click.ClickException(redact(message, url)) from exc


def _url(ctx: click.Context) -> str | None:
    obj = ctx.find_object(Context)
    return obj.url if obj else None


def db_command(f: Callable[..., Any]) -> Callable[..., Any]:
    """What every command on the database shares: --db (on the command as well as on the group:
    `archive load x --db URL` works too) and the context."""
    return click.option(
        "--db",
        "db_url",
        expose_value=False,
        callback=_set_db,
        is_eager=True,
        help="Database URL (default: $ARCHIVE_DATABASE_URL, then sqlite:///archive.db).",
    )(pass_ctx(f))


def format_option(choices: Sequence[str] = FORMATS, default: str = "table") -> Callable[[F], F]:
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True, help="Output format.")


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else None


@click.group(cls=Archive, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar=None, help="Database URL (default: $ARCHIVE_DATABASE_URL, then sqlite:///archive.db).")
@click.version_option(__version__, prog_name="archive")
@click.pass_context
def main(ctx: click.Context, db_url: str | None) -> None:
    """A relational archive of Chinese newspaper text."""
    obj = ctx.ensure_object(Context)
    if db_url:
        obj.explicit_url = db_url


# ---------------------------------------------------------------- loading


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--encoding", help="Decode every file with this encoding instead of detecting it.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no per-file lines, no summary.")
@click.option("--workers", type=int, default=None, help="Parser processes (default: up to 2).")
@click.option("--format", "layout", type=click.Choice([AUTO, *LAYOUT_NAMES]), default=AUTO, show_default=True, help="Layout of the files (`archive formats`); auto picks one per file.")
@click.option("--newspaper", help="Newspaper name, for files that do not print it.")
@click.option("--date", type=click.DateTime(["%Y-%m-%d"]), help="Issue date (YYYY-MM-DD), for files that do not print it.")
@click.option("--page", help="Page (版次), for files that do not print it.")
@click.option("--name-pattern", callback=lambda _c, _p, v: _check_pattern(v), help="Read metadata from file names, e.g. '{date:%Y%m%d}-{page}-{ordinal}.txt' (fields: newspaper, date, page, page_name, ordinal).")
@click.option("-v", "--verbose", is_flag=True, help="Say which format each file was read as.")
@db_command
def load(obj: Context, paths: tuple[str, ...], encoding: str | None, quiet: bool, workers: int | None, layout: str,
         newspaper: str | None, date: dt.datetime | None, page: str | None, name_pattern: str | None, verbose: bool) -> None:
    """Load files, and the *.txt and *.md files under directories (each file all or nothing)."""
    from archive import db, loader, progress
    from archive.formats.metadata import Metadata

    engine = obj.engine
    db.ensure_schema(engine)
    meta = Metadata(newspaper=newspaper, date=_day(date), page=page, name_pattern=name_pattern)
    files = list(loader.iter_files(paths, on_skip=lambda line: click.echo(line, err=True)))
    show_bar = not quiet and not verbose and sys.stderr.isatty() and len(files) > 1
    bar = progress.Progress(len(files), "loading", sys.stderr) if show_bar else None

    handled = []

    def on_result(r: loader.FileResult) -> None:
        handled.append(r.status)
        if r.status == "failed":
            line = f"{r.message} (format: {r.format})" if verbose and r.format else (r.message or "")
            if bar:
                bar.message(line)  # above the bar, not through it
            else:
                click.echo(line, err=True)
        elif verbose:
            click.echo(f"{r.describe()} (format: {r.format})")
        elif not quiet and not show_bar:
            click.echo(r.describe())
        if bar:
            bar.update(1)

    if bar:
        bar.start()
    try:
        report = loader.load_paths(
            engine, files, encoding=encoding, fmt=layout, meta=meta, workers=workers, on_result=on_result
        )
    except KeyboardInterrupt:
        if bar:
            bar.close()
        # what was reported is stored; the batch being written was rolled back (loader.GroupWriter)
        click.echo(f"interrupted after {len(handled)} of {len(files)} files; run the same command again to load the rest", err=True)
        sys.exit(130)
    except db.DiskFull as exc:  # one line, not one per remaining file
        raise click.ClickException(
            f"{exc}; stopped after {len(handled)} of {len(files)} files (those are stored): "
            "free some space and run the same command again to load the rest"
        ) from exc
    finally:
        if bar:
            bar.close()
    if not quiet:
        click.echo(report.summary())
    if report.failed:
        sys.exit(1)


def _check_pattern(pattern: str | None) -> str | None:
    if pattern:
        from archive.formats import metadata

        try:
            metadata.compile_pattern(pattern)
        except metadata.NamePatternError as exc:
            raise click.BadParameter(str(exc)) from exc
    return pattern


@main.command()
@click.argument("target")
@db_command
def purge(obj: Context, target: str) -> None:
    """Remove one loaded file (SOURCE_ID or PATH) and everything parsed from it.

    A PATH whose bytes are also loaded from other paths: only that path is forgotten."""
    from archive import writer

    click.echo(writer.purge(obj.engine, target).describe())


@main.command()
@click.argument("source_ids", nargs=-1, type=int)
@db_command
def reparse(obj: Context, source_ids: tuple[int, ...]) -> None:
    """Re-derive articles, paragraphs and metrics of stored sources (all, or SOURCE_IDS) from their text."""
    from archive import db, writer

    db.ensure_schema(obj.engine)  # a writer, like load: never into a database left at an older revision
    changed = failed = total = 0
    for r in writer.reparse(obj.engine, source_ids or None):
        if r.note:  # purged while we ran: nothing to reparse, nothing failed
            click.echo(r.note, err=True)
            continue
        total += 1
        if r.error:
            failed += 1
            click.echo(r.error, err=True)
        elif r.changed:
            changed += 1
            click.echo(f"changed: source {r.source_id} {r.path}: {r.describe()}")
    click.echo(f"{total} sources reparsed: {changed} changed, {total - changed - failed} unchanged, {failed} failed")
    if failed:
        sys.exit(1)


@main.command("formats")
@format_option()
def formats_cmd(fmt: str) -> None:
    """List the input formats `archive load --format` reads, with what each expects."""
    from archive import formats

    rows = [{"format": name, "description": module.DESCRIPTION} for name, module in formats.FORMATS.items()]
    if fmt == "table":  # one full line each: a table would cut the descriptions
        click.echo("".join(f"{r['format']:<10}{r['description']}\n" for r in rows), nl=False)
    else:
        click.echo(render(rows, fmt), nl=False)


# ---------------------------------------------------------------- reading (no SQLAlchemy: archive.readdb)


@main.command()
@format_option(("table", "json"))
@db_command
def stats(obj: Context, fmt: str) -> None:
    """Rows per table, newspapers, first and last issue date."""
    with obj.reading() as bind:
        click.echo(readcommands.stats(bind, fmt), nl=False)


@main.command("issues")
@click.option("--newspaper", help="Only this newspaper (exact name).")
@format_option()
@db_command
def issues_cmd(obj: Context, newspaper: str | None, fmt: str) -> None:
    """List issues."""
    with obj.reading() as bind:
        click.echo(readcommands.issues(bind, newspaper, fmt), nl=False)


@main.command()
@click.option("--date", type=click.DateTime(["%Y-%m-%d"]), help="Only this issue date (YYYY-MM-DD).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Issues on or after this date.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Issues on or before this date.")
@click.option("--newspaper", help="Only this newspaper (exact name).")
@click.option("--limit", type=click.IntRange(0), help="At most this many articles.")
@format_option()
@db_command
def articles(obj: Context, date: dt.datetime | None, date_from: dt.datetime | None, date_to: dt.datetime | None,
             newspaper: str | None, limit: int | None, fmt: str) -> None:
    """List articles, with the page (版次) and page name each is on."""
    with obj.reading() as bind:
        click.echo(readcommands.articles(bind, _day(date), _day(date_from), _day(date_to), newspaper, limit, fmt), nl=False)


@main.command()
@click.argument("article_id", type=int)
@format_option(("text", "json"), default="text")
@db_command
def show(obj: Context, article_id: int, fmt: str) -> None:
    """Show one article rebuilt from the database (metrics in [brackets] in the text view)."""
    with obj.reading() as bind:
        click.echo(readcommands.show(bind, article_id, fmt), nl=False)


@main.command()
@click.option("--unit", help="Only this unit (人, 起, %, 元 …).")
@click.option("--kind", help="Only this kind (count, percent, change, duration, money …).")
@click.option("--subject", help="Only metrics whose subject contains this text.")
@click.option("--subject-key", help="Only metrics of this normalised subject (exact), e.g. 民警.")
@click.option("--newspaper", help="Only this newspaper (exact name).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Issues on or after this date.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Issues on or before this date.")
@click.option("--limit", type=click.IntRange(0), help="At most this many metrics.")
@format_option()
@db_command
def metrics(obj: Context, unit: str | None, kind: str | None, subject: str | None, subject_key: str | None,
            newspaper: str | None, date_from: dt.datetime | None, date_to: dt.datetime | None, limit: int | None, fmt: str) -> None:
    """List the quantitative facts stated in the text."""
    with obj.reading() as bind:
        text = readcommands.metrics(bind, unit, kind, subject, subject_key, newspaper, _day(date_from), _day(date_to), limit, fmt)
    click.echo(text, nl=False)


@main.command("search")
@click.argument("query")
@click.option("--newspaper", help="Only this newspaper (exact name).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Only issues on or after this date.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Only issues on or before this date.")
@click.option("--limit", type=click.IntRange(0), default=20, show_default=True, help="Hits per page.")
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True, help="Hits to skip.")
@click.option("--order", type=click.Choice(SEARCH_ORDERS), default="date", show_default=True, help="Newest first, or best match first.")
@format_option()
@db_command
def search_cmd(obj: Context, query: str, newspaper: str | None, date_from: dt.datetime | None, date_to: dt.datetime | None,
               limit: int, offset: int, order: str, fmt: str) -> None:
    """Find paragraphs, titles, subtitles, kickers and headings containing every term of QUERY (exact substrings).

    Each hit says which of them matched. Terms are separated by spaces; "a phrase" keeps its spaces; -term excludes. Full-width and
    half-width forms match each other; Latin letters match in either case."""
    with obj.reading() as bind:
        text = readcommands.search(bind, query, newspaper, _day(date_from), _day(date_to), limit, offset, order, fmt)
    click.echo(text, nl=False)


@main.command("series")
@click.argument("measure")
@click.option("--place", help="Only figures that hold at this place (official name: 湖北省, 武汉市, 全国).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Figures holding on or after this date.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Figures holding on or before this date.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Also draw the series to this .png or .svg file (needs the plot extra).")
@format_option()
@db_command
def series_cmd(obj: Context, measure: str, place: str | None, date_from: dt.datetime | None, date_to: dt.datetime | None,
               plot_path: str | None, fmt: str) -> None:
    """One measure's figures in time order, each fact once (MEASURE: a key from `archive measures`, or its subject)."""
    from archive import series as series_mod

    with obj.reader.connect() as conn:
        rows = series_mod.series(conn, measure, place, _day(date_from), _day(date_to))
    if plot_path:
        series_mod.plot(rows, plot_path)
    click.echo(render(rows, fmt), nl=False)


@main.command("measures")
@click.option("--contains", help="Only measures whose key contains this text.")
@format_option()
@db_command
def measures_cmd(obj: Context, contains: str | None, fmt: str) -> None:
    """The measures (series) in the database: facts, printings, places and the dates they cover."""
    from archive import series as series_mod

    with obj.reader.connect() as conn:
        click.echo(render(series_mod.measures(conn, contains), fmt), nl=False)


# ---------------------------------------------------------------- SQL, exports, the data dictionary and the web view (issue 6)


def _progress(label: str) -> Callable[[int], None]:
    """Rows-so-far on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        return lambda _n: None

    def show(n: int) -> None:
        click.echo(f"\r{label}: {n:,} rows", err=True, nl=False)

    return show


def timeout_option(f: F) -> F:
    return click.option(
        "--timeout", type=click.FloatRange(0), default=SQL_TIMEOUT, show_default=True, metavar="SECONDS",
        help="Stop the query after this many seconds (0: no limit).",
    )(f)


@main.command("sql")
@click.argument("query")
@format_option(("table", "csv", "json", "jsonl"))
@timeout_option
@db_command
def sql_cmd(obj: Context, query: str, fmt: str, timeout: float) -> None:
    """Run one read-only SQL statement (SELECT, WITH, VALUES, EXPLAIN, SHOW, PRAGMA); writes are refused."""
    from archive import export as exporting
    from archive import sql as readonly_sql

    with readonly_sql.query(obj.url, query, timeout) as rows:
        if fmt in ("csv", "jsonl"):
            for _ in exporting.export(rows, fmt, sys.stdout.buffer):
                pass
            return
        value = exporting.json_value if fmt == "json" else exporting.text_value
        records = [{c: value(v) for c, v in zip(rows.columns, r)} for r in rows.rows]
    click.echo(render(records, fmt, rows.columns), nl=False)


@contextlib.contextmanager
def _writing(output: str | None) -> Iterator[None]:
    """An output that cannot be written (a full disk, a closed pipe) is one line, not a traceback."""
    try:
        yield
    except OSError as exc:
        if not output:  # Python would try to flush stdout again at exit, and print a second error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if isinstance(exc, BrokenPipeError):  # `archive export x | head`: the reader has all it wanted
            sys.exit(1)
        raise click.ClickException(f"cannot write {output or 'standard output'}: {exc.strerror or exc}") from exc


@main.command("export")
@click.argument("name", required=False)
@click.option("--query", help="Export the rows of this read-only SQL statement instead of a table or view.")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to this file (default: stdout; required for parquet and xlsx).")
@click.option("--excel", is_flag=True, help="CSV as UTF-8 with a byte-order mark and CRLF, which Excel and WPS open right.")
@click.option("--encoding", default="utf-8", show_default=True, help="CSV text encoding, e.g. gb18030 for older tools.")
@timeout_option
@db_command
def export_cmd(obj: Context, name: str | None, query: str | None, fmt: str, output: str | None, excel: bool,
               encoding: str, timeout: float) -> None:
    """Export a table or view (NAME) or a query's rows, streamed, as csv, jsonl, parquet or xlsx."""
    if fmt in BINARY_FORMATS and not output:
        raise click.UsageError(f"{fmt} is a binary format: give --output FILE")
    try:
        "".encode(encoding)
    except LookupError as exc:
        raise click.UsageError(f"unknown encoding {encoding}") from exc
    from archive import export as exporting

    show = _progress(f"exporting {name or 'query'}")
    warn = lambda m: click.echo(f"warning: {m}", err=True)  # noqa: E731
    with exporting.open_rows(obj.url, name=name, query=query, timeout=timeout, csv=fmt == "csv") as rows, _writing(output):
        with exporting.destination(output) as out:
            total = 0
            for n in exporting.export(rows, fmt, out, encoding=encoding, excel=excel, warn=warn):
                total += n
                show(total)
    if sys.stderr.isatty():
        click.echo(f"\rexported {total:,} rows" + (f" to {output}" if output else ""), err=True)


@main.command("schema")
@click.option("--format", "fmt", type=click.Choice(("markdown", "json")), default="markdown", show_default=True)
def schema_cmd(fmt: str) -> None:
    """The data dictionary: every table, view and column with its type and description."""
    from archive import dictionary

    click.echo(dictionary.to_markdown() if fmt == "markdown" else dictionary.to_json(), nl=False)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", "-p", type=int, default=8001, show_default=True)
@click.option("--immutable", is_flag=True, help="Open the file immutable (faster; only while nothing loads into it).")
@db_command
def serve_cmd(obj: Context, host: str, port: int, immutable: bool) -> None:
    """Browse the SQLite archive in Datasette (read-only), with facets and canned queries."""
    from archive import serve as serving

    ds = serving.prepare(obj.url, immutable)
    click.echo(f"serving {redact_url(obj.url)} read-only on http://{host}:{port}/{serving.DATABASE_NAME}/", err=True)
    serving.run(ds, host, port)


# ---------------------------------------------------------------- archive db …: the schema and the database file


@main.group("db")
def db_group() -> None:
    """Schema migrations (Alembic)."""


@db_group.command()
@click.argument("revision", default="head")
@db_command
def upgrade(obj: Context, revision: str) -> None:
    """Upgrade the schema to REVISION (default: head); a SQLite file is backed up first."""
    from archive import db
    from archive.migrations.renamed import new_name

    current = db.current_revision(obj.engine)
    if revision == "head" and current == db.head_revision():
        click.echo(f"already at revision {current}")
        return
    if new_name(current) != current:
        click.echo(f"revision {current} is now named {new_name(current)}")
    _migrate(obj.engine, "upgrade", revision)


@db_group.command()
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Downgrade even when it drops columns or tables that hold data.")
@db_command
def downgrade(obj: Context, revision: str, yes: bool) -> None:
    """Downgrade the schema to REVISION (`base` removes every table); a SQLite file is backed up first.

    Refused without --yes when the columns or tables it drops hold data."""
    from archive import dataloss

    lost = dataloss.losses(obj.engine, revision)
    if lost and not yes:
        raise click.ClickException(dataloss.refusal(revision, lost, obj.engine.dialect.name == "sqlite"))
    saved = _migrate(obj.engine, "downgrade", revision)
    if lost:
        restore = f"archive --db {redact_url(obj.url)} db restore {saved}" if saved else None
        click.echo(dataloss.aftermath(lost, restore))


def _migrate(engine: Engine, direction: str, revision: str) -> Path | None:
    from archive import backup, db

    saved = backup.backup(engine)
    if saved:
        click.echo(f"backup of the database before the {direction}: {saved}")
    backup.migrate(engine, direction, revision, saved)
    click.echo(f"at revision {db.current_revision(engine) or 'base'}")
    return saved


@db_group.command()
@db_command
def current(obj: Context) -> None:
    """Print the database's current revision."""
    from archive import db

    click.echo(db.current_revision(obj.reader) or "base (empty database)")


@db_group.command()
def history() -> None:
    """List the migrations."""
    from archive import db

    click.echo(db.history(), nl=False)


@db_group.command()
@db_command
def check(obj: Context) -> None:
    """Fail when the models and the database schema disagree."""
    from archive import db

    db.check(obj.engine)
    click.echo("schema matches the models")


@db_group.command()
@db_command
def reindex(obj: Context) -> None:
    """Rebuild the search index from the stored titles, subtitles, kickers, headings and paragraphs."""
    from archive import searchindex, shard

    with obj.engine.begin() as conn:
        # on a sharded coordinator each source's texts are indexed on its own shard
        n = searchindex.rebuild(conn, route=shard.route if shard.is_sharded(conn) else None)
    click.echo(f"indexed {n} texts (titles, subtitles, kickers, headings, paragraphs)")


@db_group.command()
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
@db_command
def restore(obj: Context, backup_file: str) -> None:
    """Put a SQLite backup (as `archive db upgrade` and `downgrade` make) back in place of the database."""
    from archive import backup, db

    path = backup.restore(obj.engine, backup_file)
    click.echo(f"restored {path} from {backup_file}; at revision {db.current_revision(obj.engine) or 'base'}")


@db_group.command("shard")
@click.option("--shards", "shard_urls", multiple=True, required=True, metavar="URL",
              help="A shard's database (PostgreSQL, empty); repeat, or give several separated by spaces.")
@db_command
def shard_cmd(obj: Context, shard_urls: tuple[str, ...]) -> None:
    """Make this PostgreSQL archive (at head, still empty) the coordinator of shard databases (docs/scaling.md)."""
    from archive import shard

    lines = shard.shard(obj.engine, [u for urls in shard_urls for u in urls.split()])
    for line in lines:
        click.echo(line)
    click.echo(f"content tables partitioned on source_id across {len(lines)} shards")


@db_group.command("grant-readonly")
@click.argument("role")
@click.option("--password-env", metavar="VAR", help="Set the role's password from this environment variable.")
@db_command
def grant_readonly(obj: Context, role: str, password_env: str | None) -> None:
    """Create or update a login ROLE that can read every table and view (PostgreSQL), or say what to do instead."""
    from archive import grants

    password = None
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise click.UsageError(f"--password-env {password_env}: that environment variable is empty or not set")
    for statement in grants.grant_readonly(obj.engine, role, password):
        click.echo(statement)
    click.echo(f"role {role} can read every table and view, including ones added later, and cannot write")


if __name__ == "__main__":  # `python -m archive.cli` works as well as `python -m archive`
    main(prog_name="archive")
