"""The `archive` script's start (and `python -m archive`'s). The read commands' usual forms (`archive
search 民警`, `archive show 1`, `archive --db URL metrics --limit 20 --format json` …) are parsed here and
run without click, whose import (inspect, typing, uuid, gettext …) was a third of such a command's time.
Anything else goes to `archive.cli`, which then does exactly what it always did: help, a mistake in
the arguments, any other command, a URL the lean reader does not read, and any error while running
(the command is run again there, so its message, exit code and redaction are click's; a read has no
side effect to repeat). docs/benchmarks.md, session 7."""

from __future__ import annotations

import datetime as dt
import os
import sys

TYPE_CHECKING = False  # typing's own constant costs `import typing` at every start
if TYPE_CHECKING:
    from typing import Any, Sequence

    Spec = tuple[tuple[tuple[str, str], ...], dict[str, tuple[str, Any]], dict[str, Any]]

# Value types, as archive.cli declares them to click: STR (a string), INT (click's int), COUNT
# (click.IntRange(0)), DATE (click.DateTime(["%Y-%m-%d"]), passed on as its date), SECONDS
# (click.FloatRange(0)), PATH (click.Path(dir_okay=False, writable=True)), FLAG (an is_flag option: no
# value), or a tuple of choices.
STR, INT, COUNT, DATE, SECONDS, PATH, FLAG = "str", "int", "count", "date", "seconds", "path", "flag"
TABLE_FORMATS = ("table", "csv", "json")
EXPORT_FORMATS, BINARY_FORMATS = ("csv", "jsonl", "parquet", "xlsx"), ("parquet", "xlsx")  # archive.export
SQL_TIMEOUT = 30.0  # archive.sql.DEFAULT_TIMEOUT
SEARCH_ORDERS = ("date", "relevance")  # archive.searchtext.ORDERS
_NEWSPAPER = {"--newspaper": ("newspaper", STR)}
_DATES = {"--from": ("date_from", DATE), "--to": ("date_to", DATE)}
_LIMIT = {"--limit": ("limit", COUNT)}
_FORMAT = {"--format": ("fmt", TABLE_FORMATS)}
# Each read command run here: its positional arguments (name, type), its options {flag: (name, type)}
# and the defaults of its keywords. tests/test_launch.py checks them against archive.cli's commands.
COMMANDS: dict[str, Spec] = {
    "stats": ((), {"--format": ("fmt", ("table", "json"))}, {"fmt": "table"}),
    "issues": ((), {**_NEWSPAPER, **_FORMAT}, {"newspaper": None, "fmt": "table"}),
    "articles": (
        (),
        {"--date": ("date", DATE), **_DATES, **_NEWSPAPER, **_LIMIT, **_FORMAT},
        {"date": None, "date_from": None, "date_to": None, "newspaper": None, "limit": None, "fmt": "table"},
    ),
    "show": ((("article_id", INT),), {"--format": ("fmt", ("text", "json"))}, {"fmt": "text"}),
    "metrics": (
        (),
        {"--unit": ("unit", STR), "--kind": ("kind", STR), "--subject": ("subject", STR), "--subject-key": ("subject_key", STR),
         **_NEWSPAPER, **_DATES, **_LIMIT, **_FORMAT},
        {"unit": None, "kind": None, "subject": None, "subject_key": None, "newspaper": None, "date_from": None,
         "date_to": None, "limit": None, "fmt": "table"},
    ),
    "search": (
        (("query", STR),),
        {**_NEWSPAPER, **_DATES, "--limit": ("limit", COUNT), "--offset": ("offset", COUNT), "--order": ("order", SEARCH_ORDERS), **_FORMAT},
        {"newspaper": None, "date_from": None, "date_to": None, "limit": 20, "offset": 0, "order": "date", "fmt": "table"},
    ),
    # `export NAME` (its NAME is optional to click, which then wants --query: that form is click's)
    "export": (
        (("name", STR),),
        {"--format": ("fmt", EXPORT_FORMATS), "--output": ("output", PATH), "-o": ("output", PATH), "--excel": ("excel", FLAG),
         "--encoding": ("encoding", STR), "--timeout": ("timeout", SECONDS)},
        {"query": None, "fmt": "csv", "output": None, "excel": False, "encoding": "utf-8", "timeout": SQL_TIMEOUT},
    ),
}


class _Unread(Exception):
    """A value this module does not take as click would: click is to read the whole command line."""


def _convert(value: str, kind: str | tuple[str, ...]) -> object:
    """`value` as click converts it, or _Unread where click would refuse it (click then says why)."""
    if isinstance(kind, tuple):
        if value not in kind:
            raise _Unread(value)
        return value
    if kind == STR:
        return value
    if kind == DATE:
        try:
            return dt.datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            raise _Unread(value) from None
    if kind == PATH:
        return _path(value)
    if kind == SECONDS:
        try:
            seconds = float(value)
        except ValueError:
            raise _Unread(value) from None
        if not seconds >= 0:  # (nan too, which click takes: it then reads the line itself, the same way)
            raise _Unread(value)
        return seconds
    try:
        number = int(value)
    except ValueError:
        raise _Unread(value) from None
    if kind == COUNT and number < 0:
        raise _Unread(value)
    return number


def _path(value: str) -> str:
    """`value` as click.Path(dir_okay=False, writable=True) takes it: a path that does not exist, or one
    that is no folder and may be read and written (click says why not)."""
    import stat

    try:
        st = os.stat(value)
    except OSError:
        return value
    if stat.S_ISDIR(st.st_mode) or not os.access(value, os.R_OK) or not os.access(value, os.W_OK):
        raise _Unread(value)
    return value


def _options(args: Sequence[str], i: int, options: dict[str, tuple[str, Any]], values: dict[str, Any],
             positional: list[str]) -> str | None:
    """Read args[i:] into `values` (options) and `positional`; the last --db given, "" if none."""
    db = ""
    while i < len(args):
        flag, eq, inline = args[i].partition("=")
        if not flag.startswith("-"):
            positional.append(args[i])
            i += 1
            continue
        if flag != "--db" and flag not in options:
            raise _Unread(flag)  # -h, --help, --, an unknown or mistyped option
        if flag in options and options[flag][1] == FLAG:
            if eq:  # click: the option does not take a value
                raise _Unread(flag)
            values[options[flag][0]] = True
            i += 1
            continue
        if eq and not flag.startswith("--"):  # click reads -o=x as the value "=x"
            raise _Unread(flag)
        if eq:
            value, i = inline, i + 1
        elif i + 1 < len(args):
            value, i = args[i + 1], i + 2  # click takes the next word as the value, whatever it is
        else:
            raise _Unread(flag)
        if flag == "--db":
            db = value
        else:
            name, kind = options[flag]
            values[name] = _convert(value, kind)
    return db


def parse(args: Sequence[str]) -> tuple[str, str | None, dict[str, Any]] | None:
    """(command, the --db URL given or None, its keywords) for a command line run here, else None."""
    i, group_db = 0, ""
    while i < len(args) and args[i].partition("=")[0] == "--db":  # the group's --db, before the command
        if "=" in args[i]:
            group_db, i = args[i].partition("=")[2], i + 1
        elif i + 1 < len(args):
            group_db, i = args[i + 1], i + 2
        else:
            return None
    if i >= len(args) or args[i] not in COMMANDS:
        return None
    command = args[i]
    arguments, options, defaults = COMMANDS[command]
    values, positional = dict(defaults), list[str]()
    try:
        command_db = _options(args, i + 1, options, values, positional)
        if len(positional) != len(arguments):
            return None
        for (name, kind), value in zip(arguments, positional):
            values[name] = _convert(value, kind)
    except _Unread:
        return None
    # click: the group's --db, then the command's (is_eager); each only when not empty
    return command, command_db or group_db or None, values


def _plain_stdout() -> bool:
    """Whether click.echo would write our text to stdout and stderr unchanged: POSIX (no console wrapping
    or wildcard expansion), a UTF-8 stdout and stderr (click wraps an ASCII one), no shell completion asked for."""
    encodings = [(getattr(f, "encoding", None) or "").lower().replace("_", "-") for f in (sys.stdout, sys.stderr)]
    return os.name == "posix" and all(e in ("utf-8", "utf8") for e in encodings) and not any(
        k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ
    )


def run(command: str, db: str | None, values: dict[str, Any]) -> bool:
    """Run a parsed read command and print its text; False (nothing printed) for archive.cli to run it."""
    if command == "export":
        return export(db, **values)
    from archive import readcommands, readdb
    from archive.config import resolve_database_url

    try:
        reader = readdb.connect(resolve_database_url(db))
        if reader is None:  # another driver, URL options: SQLAlchemy reads it, under click
            return False
        with reader:
            text: str = getattr(readcommands, command)(reader, **values)
    except KeyboardInterrupt:  # as click says it
        sys.stderr.write("\nAborted!\n")
        sys.exit(1)
    except Exception:  # a missing file, another revision, a bug: archive.cli says it as it always has
        return False
    if "\033" in text:  # click.echo strips terminal escapes from text not written to a terminal
        return False
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `archive search 警 | head -1`: as click, exit 1 and no complaint at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    return True


def export(db: str | None, name: str, query: None, fmt: str, output: str | None, excel: bool, encoding: str,
           timeout: float) -> bool:
    """`archive export NAME` as archive.cli's export command runs it (the same archive.export calls, the same
    stderr). Until its first byte is written (to stdout; a file appears only when finished), any error
    returns False and archive.cli runs the command again and says it; after that, an error is said here
    as archive.cli says it: `Error: …` (password hidden), exit 1, a closed pipe exit 1 silently."""
    from archive.config import redact
    from archive.errors import ArchiveError

    if fmt in BINARY_FORMATS and not output:  # click's usage error
        return False
    try:
        "".encode(encoding)
    except LookupError:
        return False
    url = ""
    tty = sys.stderr.isatty()
    if tty and "\033" in name:  # click.echo would not pass the progress line's name through unchanged
        return False
    warned, begun, total = False, False, 0

    def warn(message: str) -> None:
        nonlocal warned
        warned = True
        _say(f"warning: {message}\n")

    try:
        from archive import export as exporting
        from archive.config import resolve_database_url

        url = resolve_database_url(db)
        with exporting.open_rows(url, name=name, timeout=timeout, csv=fmt == "csv") as rows, exporting.destination(output) as out:
            batches = exporting.export(rows, fmt, out, encoding=encoding, excel=excel, warn=warn)
            begun = output is None  # from here stdout may hold a part: the command cannot be run again
            for n in batches:
                total += n
                if tty:
                    _say(f"\rexporting {name}: {total:,} rows")
    except KeyboardInterrupt:  # as click says it
        sys.stderr.write("\nAborted!\n")
        sys.exit(1)
    except Exception as exc:
        if not (begun or warned):
            return False  # nothing written (a file is removed unfinished): archive.cli says it
        if isinstance(exc, OSError) and output is None:  # archive.cli's _writing
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            if isinstance(exc, BrokenPipeError):
                sys.exit(1)
            message = f"cannot write standard output: {exc.strerror or exc}"
        elif isinstance(exc, ArchiveError):
            message = str(exc)
        else:
            raise  # a bug: its traceback, as under click
        _say(f"Error: {redact(message, url)}\n", strip=not tty)
        sys.exit(1)
    if tty:
        _say(f"\rexported {total:,} rows" + (f" to {output}" if output else "") + "\n")
    return True


def _say(text: str, strip: bool = False) -> None:
    """`text` on stderr as click.echo writes it there (terminal escapes taken out when it is no terminal)."""
    if strip and "\033" in text:
        import re

        text = re.sub(r"\033\[[;?0-9]*[a-zA-Z]", "", text)  # click's strip_ansi
    sys.stderr.write(text)
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None, prog_name: str | None = None) -> None:
    """The `archive` command: a read command's usual form here, anything else through archive.cli."""
    parsed = parse(sys.argv[1:] if argv is None else argv) if _plain_stdout() else None
    if parsed is None or not run(*parsed):
        from archive.cli import main as click_main

        click_main(argv, prog_name=prog_name)
