"""Revision ids before issue 16, and the names they have now.

The ids were bare numbers that did not follow the chain (0001→0003→0004→0005→0002→0006→…). They are
now the file names, numbered in chain order. A database an older archive made still stores an old id
in alembic_version; env.py gives it its new name in place before Alembic reads it, so such a database
upgrades like any other. Old and new ids never collide: every new id carries its name after the number.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

RENAMED = {
    "0001": "0001_initial_schema",
    "0003": "0002_bi_views",
    "0004": "0003_article_page_fields",
    "0005": "0004_source_format_options",
    "0002": "0005_search_index",
    "0006": "0006_search_automerge",
    "0007": "0007_id_watermark",
    "0008": "0008_fidelity",
    "0009": "0009_metric_subject_key",
    "0010": "0010_metric_series",
    "0011": "0011_search_char_prefix",
}


def new_name(revision: str | None) -> str | None:
    """The id a revision has now: an old id renamed, any other returned as it is.

    Alembic takes a unique prefix for an id, so an old id handed to it unrenamed would name another
    revision ("0002" is now 0002_bi_views, not the search index): rename before asking it."""
    return RENAMED.get(revision, revision) if revision else revision


def rename_stored(connection: Connection) -> None:
    """Rename an old id stored in alembic_version, in the caller's transaction (or one of its own)."""
    if connection.in_transaction():
        _rename(connection)
        return
    with connection.begin():
        _rename(connection)


def _rename(connection: Connection) -> None:
    if not inspect(connection).has_table("alembic_version"):
        return
    for (stored,) in connection.execute(text("SELECT version_num FROM alembic_version")).all():
        if stored in RENAMED:
            connection.execute(
                text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"),
                {"new": RENAMED[stored], "old": stored},
            )
