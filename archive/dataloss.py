"""What a schema downgrade would throw away: the columns and tables it drops that hold values.

A downgrade drops the columns and tables later revisions added, and upgrading again brings them back
empty: `db downgrade 0001` then `db upgrade` kept every row but nulled article.kicker, page, page_name,
source_url and source.format, options (after which reparse could no longer read most sources). So the
loss is counted before anything changes, and the command refuses without --yes.

Which columns go is read from the migrations themselves: a scratch in-memory SQLite database is taken
to the current revision and then down to the target, and the model tables of both are compared. The
search index is left out: it is derived from the text, and the upgrade that adds it builds it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, column, func, inspect, select, table

from archive import db
from archive.migrations.renamed import new_name
from archive.models import Base


@dataclass(frozen=True)
class Loss:
    table: str
    column: str | None  # None: the whole table is dropped
    count: int  # non-null values of the column, or rows of the table

    def __str__(self) -> str:
        if self.column is None:
            return f"table {self.table} ({self.count} rows)"
        return f"{self.table}.{self.column} ({self.count} values)"


def _model_columns(engine: Engine) -> dict[str, set[str]]:
    names = inspect(engine).get_table_names()
    return {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in names if t in Base.metadata.tables}


def dropped(current: str | None, revision: str) -> dict[str, set[str] | None]:
    """Table -> columns the downgrade from `current` to `revision` drops (None: the whole table)."""
    from alembic.util import CommandError

    scratch = db.make_engine("sqlite://")
    try:
        if current:
            db.upgrade(scratch, current)
        before = _model_columns(scratch)
        db.downgrade(scratch, revision)
        after = _model_columns(scratch)
    except CommandError as exc:  # an unknown revision, or one above the current
        raise db.DatabaseError(f"cannot downgrade to {revision}: {exc}") from None
    finally:
        scratch.dispose()
    gone: dict[str, set[str] | None] = {t: None for t in before if t not in after}
    gone.update({t: cols - after[t] for t, cols in before.items() if t in after and cols - after[t]})
    return gone


def losses(engine: Engine, revision: str) -> list[Loss]:
    """The dropped columns that hold values and the dropped tables that hold rows, counted."""
    found = []
    with engine.connect() as conn:
        for name, cols in sorted(dropped(new_name(db.current_revision(engine)), revision).items()):
            if cols is None:
                n = conn.execute(select(func.count()).select_from(table(name))).scalar_one()
                found += [Loss(name, None, n)] if n else []
                continue
            for c in sorted(cols):
                n = conn.execute(select(func.count(column(c))).select_from(table(name, column(c)))).scalar_one()
                found += [Loss(name, c, n)] if n else []
    return found


def refusal(revision: str, lost: list[Loss], sqlite: bool) -> str:
    first = "a copy of the file is taken first" if sqlite else "back the database up first (pg_dump, mariadb-dump)"
    return (
        f"downgrade to {revision} would drop data that upgrading again does not bring back: "
        f"{', '.join(map(str, lost))}; give --yes to downgrade anyway ({first})"
    )


def aftermath(lost: list[Loss], restore_command: str | None) -> str:
    how = (
        f"to get them back, run: {restore_command}" if restore_command
        else "they are gone from the database; only a backup of your own has them"
    )
    return f"dropped with the downgrade: {', '.join(map(str, lost))}; {how}"
