"""Backups of a SQLite archive around schema upgrades, made and restored with SQLite's backup API.

The backup API copies a live database page by page under SQLite's own locking, WAL included, so the copy
is consistent even while another process reads; copying the file with `cp` would not be.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path

from sqlalchemy import Engine

from archive import db
from archive.config import redact_url


class MigrationFailed(db.DatabaseError):
    """An upgrade raised; the message says what the database is left as and how to restore it."""


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of a SQLite engine; None for servers and in-memory databases."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(engine.url.database)


def _copy(source: Path, target: Path) -> None:
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _reason(exc: Exception) -> str:
    return (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).splitlines()[0]


def _check_database(path: Path) -> None:
    """Raise DatabaseError unless `path` is a SQLite database that reads whole: checked before it is
    copied over the archive, which a half-copied or foreign file would destroy."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check")]
    except sqlite3.Error as exc:
        raise db.DatabaseError(f"{path}: not a SQLite database ({_reason(exc)}); the archive was not changed") from None
    if problems != ["ok"]:
        raise db.DatabaseError(f"{path}: damaged SQLite database ({problems[0]}); the archive was not changed")


def _holds_tables(path: Path) -> bool:
    """Whether the file holds anything to back up: `archive db upgrade` of a new file (which the engine
    has already created, a page of header) has nothing to keep. A file that cannot be read is copied
    anyway, and the copy says why."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return True


def backup(engine: Engine) -> Path | None:
    """Copy the SQLite database next to itself (`NAME.YYYYmmddTHHMMSSZ.bak`); None when there is nothing to copy."""
    path = sqlite_file(engine)
    if path is None or not path.exists() or path.stat().st_size == 0 or not _holds_tables(path):
        return None
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{stamp}.bak")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.{stamp}-{n}.bak")
    try:
        _copy(path, target)
    except (sqlite3.Error, OSError) as exc:  # a full disk, say: a partial copy is no backup, so none is left
        for leftover in (target, target.with_name(target.name + "-journal")):
            leftover.unlink(missing_ok=True)
        raise db.DatabaseError(f"cannot back up {path} to {target}: {_reason(exc)}; nothing was changed") from None
    return target


def restore(engine: Engine, backup_path: str | Path) -> Path:
    """Overwrite the SQLite database with a backup, through the backup API (safe with WAL files present)."""
    path = sqlite_file(engine)
    if path is None:
        raise db.DatabaseError("restore works on SQLite files; restore a server database with its own tools")
    source = Path(backup_path)
    if not source.is_file():
        raise db.DatabaseError(f"no backup file {source}")
    _check_database(source)
    engine.dispose()
    try:
        _copy(source, path)
    except (sqlite3.Error, OSError) as exc:  # the copy is one transaction: a failed one leaves the archive as it was
        raise db.DatabaseError(f"cannot restore {path} from {source}: {_reason(exc)}; the archive was not changed") from None
    return path


def migrate(engine: Engine, direction: str, revision: str, backup_path: Path | None) -> None:
    """Upgrade or downgrade; when it fails, say what state the database is in and how to get the old one back."""
    try:
        (db.upgrade if direction == "upgrade" else db.downgrade)(engine, revision)
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__
        if backup_path is not None:
            how = f"to put back the copy taken before it, run: archive --db {redact_url(str(engine.url))} db restore {backup_path}"
        elif engine.dialect.name == "postgresql":
            how = f"PostgreSQL rolled the whole {direction} back; the database is as it was"
        else:
            how = f"restore the backup you took before the {direction} (MariaDB cannot roll back schema changes)"
        raise MigrationFailed(f"{direction} to {revision} failed: {type(exc).__name__}: {reason}; {how}") from exc
