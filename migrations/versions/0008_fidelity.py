"""source_path, weekdays from the date, v_article's page columns, headings and the like in the search index

Revision ID: 0008_fidelity
Revises: 0007_id_watermark
Create Date: 2026-12-04 17:10:00

- `source_path`: every path a file's bytes were seen at; filled from each source's own path (and the
  page and ordinal its file name gave, kept in source.options).
- `issue.weekday`: worked out from the date where no page printed it.
- `v_article`: gains `page` and `page_name` (after issue_number).
- The search index: keys now carry a field (title, subtitle, kicker, heading, paragraph) and subtitles,
  kickers and section headings are indexed too, so the index is rebuilt; the downgrade rebuilds it with
  the keys 0005_search_index first had (titles and paragraphs only).
"""
import json
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from archive.migrations.frozen import search_index
from archive.migrations.frozen.bi_views import view_sql
from archive.migrations.frozen.view_comments import comment_views

revision: str = "0008_fidelity"
down_revision: Union[str, Sequence[str], None] = "0007_id_watermark"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WEEKDAYS = "一二三四五六日"
BATCH = 1000
COMMENTS = (  # (table, column, type, nullable, old comment, new comment); SQLite keeps none
    ("issue", "weekday", sa.String(length=10), True, "Weekday as printed, e.g. 星期三 (checked against the date).",
     "Weekday as printed, e.g. 星期三 (checked against the date); worked out from the date when no page of the issue prints it."),
    ("source", "path", sa.String(length=700), False, "Absolute path of the file when it was loaded.",
     "Absolute path of the file when it was loaded; every path its bytes were seen at is in source_path."),
)


ISSUE_NUMBER = "AS issue_number, "
OLD_PG_COMMENT = (
    "COMMENT ON TABLE search_doc IS 'Search index (archive search): one row per paragraph or article "
    "title; doc_key = date ordinal << 32 | title bit << 31 | id. Maintained by the loader.'"
)


def v_article_sql(dialect: str, q, with_page: bool) -> str:
    sql = view_sql(dialect, q)["v_article"].strip()
    if with_page:
        assert ISSUE_NUMBER in sql
        sql = sql.replace(ISSUE_NUMBER, f"{ISSUE_NUMBER}a.page AS page, a.page_name AS page_name, ", 1)
    return sql


def _replace_v_article(with_page: bool) -> None:
    bind = op.get_bind()
    op.execute("DROP VIEW IF EXISTS v_article")
    op.execute(f"CREATE VIEW v_article AS {v_article_sql(bind.dialect.name, bind.dialect.identifier_preparer.quote_identifier, with_page)}")
    comment_views(bind)


def _comments(upgrade: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column, type_, nullable, old, new in COMMENTS:
        op.alter_column(table, column, existing_type=type_, existing_nullable=nullable,
                        comment=new if upgrade else old, existing_comment=old if upgrade else new)


def _fill_source_paths(bind) -> None:
    rows = bind.execute(sa.text("SELECT id, path, options, loaded_at FROM source ORDER BY id")).all()
    insert = sa.text("INSERT INTO source_path (source_id, path, page, ordinal, seen_at) VALUES (:s, :p, :page, :o, :t)")
    values = []
    for source_id, path, options, loaded_at in rows:
        said = json.loads(options) if options else {}
        ordinal = said.get("ordinal")
        values.append({"s": source_id, "p": path, "page": said.get("page"), "o": int(ordinal) if ordinal is not None else None,
                       "t": loaded_at})
    for i in range(0, len(values), BATCH):
        bind.execute(insert, values[i : i + BATCH])


def _fill_weekdays(bind) -> None:
    rows = bind.execute(sa.text("SELECT id, date FROM issue WHERE weekday IS NULL")).all()
    update = sa.text("UPDATE issue SET weekday = :w WHERE id = :i")
    values = [{"i": i, "w": "星期" + WEEKDAYS[search_index.as_date(d).weekday()]} for i, d in rows]
    for i in range(0, len(values), BATCH):
        bind.execute(update, values[i : i + BATCH])


def _rebuild_old_index(bind) -> None:
    """The index as 0005 to 0007 keyed it: date ordinal << 32 | title bit << 31 | id, titles and paragraphs."""
    if search_index.engine_kind(bind) == "sqlite":
        bind.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))
    else:
        bind.execute(sa.text("DELETE FROM search_doc"))
    sql = """SELECT i.date, 1, a.id, a.title FROM article a JOIN issue i ON i.id = a.issue_id
UNION ALL SELECT i.date, 0, p.id, p.text FROM paragraph p JOIN article a ON a.id = p.article_id
JOIN issue i ON i.id = a.issue_id"""
    docs = []
    for d, title, rid, body in bind.execute(sa.text(sql)):
        docs.append(((search_index.as_date(d).toordinal() << 32) | (int(title) << 31) | rid, body))
    search_index.add(bind, docs, search_index.has_char_count(bind))


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "source_path",
        sa.Column("id", sa.Integer(), nullable=False, comment="Surrogate key."),
        sa.Column("source_id", sa.Integer(), nullable=False, comment="The file's bytes as loaded (source.id)."),
        sa.Column("path", sa.String(length=700), nullable=False, comment="Absolute path the file was seen at."),
        sa.Column("page", sa.String(length=20), nullable=True, comment="Page (版次) the load gave this path (--page, or the file name under --name-pattern {page}), else null."),
        sa.Column("ordinal", sa.Integer(), nullable=True, comment="Position on the page the file name gives under --name-pattern {ordinal}, else null."),
        sa.Column("seen_at", sa.DateTime(), nullable=False, comment="When a load first saw the file at this path (UTC)."),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], name=op.f("fk_source_path_source_id_source"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_path")),
        sa.UniqueConstraint("path", name=op.f("uq_source_path_path")),
        comment="Every path a loaded file was seen at: byte-identical files at other paths (a page saved twice) are recorded here, not loaded again.",
    )
    op.create_index(op.f("ix_source_path_source_id"), "source_path", ["source_id"], unique=False)
    _fill_source_paths(bind)
    _fill_weekdays(bind)
    _comments(upgrade=True)
    _replace_v_article(with_page=True)
    if bind.dialect.name == "postgresql":
        op.execute(search_index.PG_COMMENT)
    search_index.rebuild(bind)


def downgrade() -> None:
    bind = op.get_bind()
    _rebuild_old_index(bind)
    _replace_v_article(with_page=False)
    _comments(upgrade=False)
    if bind.dialect.name == "postgresql":
        op.execute(OLD_PG_COMMENT)
    # Weekdays worked out from dates stay: they are right, and nothing says which were printed.
    op.drop_table("source_path")  # its index goes with it (MariaDB will not drop one a foreign key needs)
