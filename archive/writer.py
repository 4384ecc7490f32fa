"""Row writing: a parsed file's rows in, a source's rows out (purge), a source's rows derived again from its
stored text (reparse). Every function takes the caller's connection or runs its own short transactions."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

from sqlalchemy import Connection, Engine, and_, bindparam, delete, exists, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from archive import bulk, pgcopy, searchindex, shard
from archive.document import ParseError
from archive.errors import NotFound
from archive.formats.metadata import Metadata
from archive.formats.page import weekday_of
from archive.inputs import os_path, path_text
from archive.models import (
    Article,
    ArticleAuthor,
    Issue,
    Metric,
    Newspaper,
    Paragraph,
    Section,
    Source,
    SourcePath,
)
from archive.prepare import (
    ARTICLE_COLUMNS,
    AUTHOR_COLUMNS,
    METRIC_COLUMNS,
    NEWSPAPER_COLUMNS,
    PARAGRAPH_COLUMNS,
    PARSER_VERSION,
    SECTION_COLUMNS,
    Parsed,
    Prepared,
    Rows,
    parse_document,
    rows_of,
)

T = TypeVar("T")
RETRIES = 5  # how often a transaction that lost a race or a deadlock is run again
_source, _path = bulk.table_of(Source), bulk.table_of(SourcePath)
# Tables whose ids the loader hands out itself on SQLite (see bulk.insert_many).
ID_TABLES = (Newspaper, Source, Issue, Article, Section, Paragraph, Metric)


# ---------------------------------------------------------------- writing one file


def delete_source(conn: Connection, source_id: int, keep_source: bool = False) -> list[int]:
    """Remove every row parsed from a source, and the source itself unless `keep_source`. Returns the ids
    of the source's issues, for drop_empty_issues: a caller that writes rows again calls it afterwards,
    so that an issue the new rows still belong to keeps its id."""
    article_ids = select(Article.id).where(Article.source_id == source_id)
    issue_ids = list(conn.scalars(select(Article.issue_id).where(Article.source_id == source_id).distinct()))
    ids = list(conn.scalars(article_ids))
    bulk.raise_watermarks(conn, *ID_TABLES)  # SQLite: the ids freed here are not handed out again
    searchindex.remove_articles(conn, ids)
    if ids:
        for model in (Metric, Paragraph, Section, ArticleAuthor):
            conn.execute(delete(model).where(model.article_id.in_(ids)))
        conn.execute(delete(Article).where(Article.id.in_(ids)))
    if not keep_source:
        conn.execute(delete(SourcePath).where(SourcePath.source_id == source_id))
        conn.execute(delete(Source).where(Source.id == source_id))
    return issue_ids


def drop_empty_issues(conn: Connection, issue_ids: list[int], later: pgcopy.PendingRows | None = None) -> None:
    """Delete those of these issues that no article belongs to any more, then newspapers left empty.
    `later`: rows waiting for their batch's COPY, written first (articles of these issues may be among them)."""
    if issue_ids:
        if later is not None:
            later.flush(conn)
        paper_ids = list(conn.scalars(select(Issue.newspaper_id).where(Issue.id.in_(issue_ids)).distinct()))
        conn.execute(
            delete(Issue).where(Issue.id.in_(issue_ids), ~exists().where(Article.issue_id == Issue.id))
        )
        conn.execute(
            delete(Newspaper).where(Newspaper.id.in_(paper_ids), ~exists().where(Issue.newspaper_id == Newspaper.id))
        )


# Statements are built once: building one costs more than SQLite takes to run it (see archive.bulk).
_newspaper, _issue = bulk.table_of(Newspaper), bulk.table_of(Issue)
NEWSPAPER_FIELDS = NEWSPAPER_COLUMNS[1:]  # what a page may say of its newspaper besides the name
# The newspaper and, if it is there already, its issue of that date: one round trip for both.
PAPER_AND_ISSUE = (
    select(
        _newspaper.c.id,
        *(_newspaper.c[k] for k in NEWSPAPER_FIELDS),
        _issue.c.id.label("issue_id"),
        _issue.c.weekday,
        _issue.c.number,
    )
    .select_from(
        _newspaper.outerjoin(_issue, and_(_issue.c.newspaper_id == _newspaper.c.id, _issue.c.date == bindparam("date")))
    )
    .where(_newspaper.c.name == bindparam("name"))
)


def _issue_id(conn: Connection, paper: tuple, issue: tuple, next_ids: dict[str, int]) -> int:
    """The issue's id, adding the newspaper and the issue when they are new (Rows.newspaper, Rows.issue)."""
    name, *values = paper
    date, printed_weekday, printed_number = issue
    found = bulk.rows(conn, PAPER_AND_ISSUE, {"name": name, "date": date})
    fields = dict(zip(NEWSPAPER_FIELDS, values))
    if not found:
        newspaper_id = bulk.insert_many(conn, Newspaper, [dict(name=name, **fields)], next_ids)[0]
    else:
        newspaper_id, *known, issue_id, weekday, number = found[0]
        missing = {k: v for (k, v), old in zip(fields.items(), known) if v and not old}
        if missing:
            conn.execute(update(_newspaper).where(_newspaper.c.id == newspaper_id).values(**missing))
        if issue_id is not None:
            # an inside page or a single article may have been loaded before the front page printed these
            printed = (("weekday", printed_weekday, weekday), ("number", printed_number, number))
            missing = {k: v for k, v, old in printed if v and not old}
            if missing:
                conn.execute(update(_issue).where(_issue.c.id == issue_id).values(**missing))
            return issue_id
    weekday = printed_weekday or weekday_of(date)  # a reader wants it whether or not the page printed it
    row = dict(newspaper_id=newspaper_id, date=date, weekday=weekday, number=printed_number)
    return bulk.insert_many(conn, Issue, [row], next_ids)[0]


@dataclass(frozen=True)
class KeptIds:
    """Ids a source's rows had, by position: reparse gives them to the rows parsed at the same places."""

    articles: dict[int, int] = field(default_factory=dict)  # article ordinal -> id
    sections: dict[tuple[int, int], int] = field(default_factory=dict)  # (article, section ordinal) -> id
    paragraphs: dict[tuple[int, int], int] = field(default_factory=dict)  # (article, paragraph ordinal) -> id

    @classmethod
    def of_source(cls, conn: Connection, source_id: int) -> KeptIds:
        articles = dict(conn.execute(select(Article.ordinal, Article.id).where(Article.source_id == source_id)).all())
        by_id = {i: o for o, i in articles.items()}
        sections: dict[tuple[int, int], int] = {}
        paragraphs: dict[tuple[int, int], int] = {}
        for model, out in ((Section, sections), (Paragraph, paragraphs)):
            rows = conn.execute(select(model.article_id, model.ordinal, model.id).where(model.article_id.in_(list(by_id))))
            out.update({(by_id[a], o): i for a, o, i in rows})
        return cls(articles, sections, paragraphs)


Presets = tuple[list[int | None] | None, list[int | None] | None, list[int | None] | None]
CONTENT_ID_TABLES = ("article", "section", "paragraph")  # whose ids write_parsed hands on to other rows


def _presets(rows: Rows, keep: KeptIds | None) -> Presets:
    """The ids articles, sections and paragraphs keep from an earlier version of the source (None: a
    new id), each None when nothing is kept."""
    if keep is None:
        return None, None, None
    articles, sections = rows.articles, rows.sections

    def kept(ids: dict, keys: Iterable) -> list[int | None] | None:
        return [ids.get(k) for k in keys] if ids else None  # nothing kept: no list of Nones to build

    return (
        kept(keep.articles, (a[0] for a in articles)),
        kept(keep.sections, ((articles[a][0], c[0]) for a, c in sections)),
        kept(keep.paragraphs, ((articles[sections[s][0]][0], c[0]) for s, c in rows.paragraphs)),
    )


def _new_ids(rows: Rows, presets: Presets) -> dict[str, int]:
    """How many new ids write_parsed's articles, sections and paragraphs take (pgcopy.take_ids)."""
    counts = (len(rows.articles), len(rows.sections), len(rows.paragraphs))
    return {t: pgcopy.missing(p, n) for t, p, n in zip(CONTENT_ID_TABLES, presets, counts)}


def write_parsed(
    conn: Connection,
    source_id: int,
    parsed: Parsed | Rows,
    next_ids: dict[str, int] | None = None,
    keep: KeptIds | None = None,
    index: searchindex.PendingIndex | None = None,
    taken: dict[str, list[int]] | None = None,
    later: pgcopy.PendingRows | None = None,
) -> None:
    """Insert the rows of a parsed document (or its Rows, as a worker sends them) for a source that
    already has its row; with `keep`, articles, sections and paragraphs at the positions of earlier
    rows take those rows' ids; with `index`, the search index entries wait there for the caller's
    batch (searchindex.PendingIndex) instead of being written now. On PostgreSQL's COPY path
    (archive.pgcopy) the new rows' ids are taken from the sequences first, all in one round trip, or
    come in `taken` (add_source takes them with the source's); with `later`, the rows wait there for
    their batch's COPY (pgcopy.PendingRows)."""
    rows = parsed if isinstance(parsed, Rows) else rows_of(parsed)
    shard.route(conn, source_id)  # a sharded coordinator: the rows below go to the source's shard
    if next_ids is None:
        next_ids = bulk.next_ids(conn, *ID_TABLES)
    issue_id = _issue_id(conn, rows.newspaper, rows.issue, next_ids)
    articles, sections, paragraphs = rows.articles, rows.sections, rows.paragraphs
    presets = _presets(rows, keep)
    if pgcopy.usable(conn):  # every row written with its id: bulk.insert_rows copies rows whose ids are all given
        taken = taken or pgcopy.take_ids(conn, _new_ids(rows, presets))
        presets = (
            pgcopy.fill(presets[0], len(articles), taken["article"]),
            pgcopy.fill(presets[1], len(sections), taken["section"]),
            pgcopy.fill(presets[2], len(paragraphs), taken["paragraph"]),
        )
    article_preset, section_preset, paragraph_preset = presets

    head = (issue_id, source_id)
    article_ids = bulk.insert_rows(
        conn, Article, ("issue_id", "source_id", *ARTICLE_COLUMNS), [head + a for a in articles], next_ids, article_preset,
        later=later,
    )
    bulk.insert_tuples(
        conn, bulk.table_of(ArticleAuthor), ("article_id", *AUTHOR_COLUMNS), [(article_ids[a],) + c for a, c in rows.authors], later
    )
    section_ids = bulk.insert_rows(
        conn, Section, ("article_id", *SECTION_COLUMNS), [(article_ids[a],) + c for a, c in sections], next_ids, section_preset,
        later=later,
    )
    section_article = [a for a, _ in sections]
    paragraph_ids = bulk.insert_rows(
        conn, Paragraph, ("article_id", "section_id", *PARAGRAPH_COLUMNS),
        [(article_ids[section_article[s]], section_ids[s]) + c for s, c in paragraphs], next_ids, paragraph_preset, later=later,
    )
    searchindex.index_document(conn, rows, article_ids, section_ids, paragraph_ids, index)
    paragraph_article = [article_ids[section_article[s]] for s, _ in paragraphs]
    _insert_metrics(conn, rows, [(paragraph_article[p], paragraph_ids[p]) + c for p, c in rows.metrics], next_ids, later)


def _insert_metrics(conn: Connection, rows: Rows, metrics: list[tuple], next_ids: dict[str, int], later: pgcopy.PendingRows | None = None) -> None:
    """The metric rows (article id, paragraph id, METRIC_COLUMNS); as they are when a parser worker made
    their values for SQLite (Rows.sqlite_values), converted by the columns' bind processors otherwise."""
    columns = ("article_id", "paragraph_id", *METRIC_COLUMNS)
    if not rows.sqlite_values:
        bulk.insert_rows(conn, Metric, columns, metrics, next_ids, returning=False, later=later)
    elif bulk.direct(conn):
        bulk.insert_driver_values(conn, Metric, columns, metrics, next_ids)
    else:
        raise ValueError(f"metric rows made for SQLite cannot be written to {conn.dialect.name}")


def _now() -> dt.datetime:
    # whole seconds: MariaDB's DATETIME keeps no fraction, and every engine should hold the same value
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


PATH_COLUMNS = ("path", "page", "ordinal", "seen_at")  # a source_path row's, besides its source_id


def _path_row(prepared: Prepared) -> tuple:
    meta = prepared.meta
    return (prepared.path, meta.page if meta else None, meta.ordinal if meta else None, _now())


def add_path(conn: Connection, source_id: int, prepared: Prepared) -> None:
    """Record that a source's bytes were read from this path."""
    # through bulk, as the other rows: building an insert with .values() each time cost more than running it
    bulk.insert_tuples(conn, _path, ("source_id", *PATH_COLUMNS), [(source_id, *_path_row(prepared))])


def forget_path(conn: Connection, source_id: int, path: str, later: pgcopy.PendingRows | None = None) -> bool:
    """Drop one path of a source; when it was the source's last, the source and its rows go too.
    Returns whether the source went. `later`: as drop_empty_issues."""
    others = list(conn.scalars(select(_path.c.path).where(_path.c.source_id == source_id, _path.c.path != path).order_by(_path.c.id)))
    if not others:
        drop_empty_issues(conn, delete_source(conn, source_id), later)
        return True
    conn.execute(delete(_path).where(_path.c.source_id == source_id, _path.c.path == path))
    # source.path names a path the file is still at
    conn.execute(update(_source).where(_source.c.id == source_id, _source.c.path == path).values(path=others[0]))
    return False


def add_source(
    conn: Connection, prepared: Prepared, kept: KeptIds | None = None, index: searchindex.PendingIndex | None = None,
    later: pgcopy.PendingRows | None = None,
) -> int:
    """Insert a prepared file's source row, its path and every row parsed from it; returns the source's id.
    With `kept` (the ids of an earlier version's rows), rows at the same positions take those ids; with
    `index`, its search index entries wait there, with `later` its other rows (write_parsed)."""
    next_ids = bulk.next_ids(conn, *ID_TABLES)
    source = dict(
        path=prepared.path,
        sha256=prepared.sha256,
        encoding=prepared.encoding,
        byte_count=prepared.byte_count,
        text=prepared.text,
        loaded_at=_now(),
        parser_version=PARSER_VERSION,
        format=prepared.format,
        options=prepared.meta.to_json() if prepared.meta else None,
    )
    rows = prepared.table_rows()
    if pgcopy.usable(conn):
        source_id, taken = _add_source_copying(conn, prepared, source, _new_ids(rows, _presets(rows, kept)))
        write_parsed(conn, source_id, rows, next_ids, kept, index, taken, later)
        return source_id
    source_id = bulk.insert_many(conn, Source, [source], next_ids)[0]
    add_path(conn, source_id, prepared)
    write_parsed(conn, source_id, rows, next_ids, kept, index)
    return source_id


def _add_source_copying(conn: Connection, prepared: Prepared, source: dict, counts: dict[str, int]) -> tuple[int, dict[str, list[int]]]:
    """PostgreSQL's COPY path: the source row, its path and the ids of its rows in one round trip
    (pgcopy.insert_source); the source's id and the ids taken."""
    columns = tuple(source)
    values = bulk.converted(conn, _source, columns, tuple(source.values()))
    path = bulk.converted(conn, _path, PATH_COLUMNS, _path_row(prepared))
    return pgcopy.insert_source(conn, (columns, values), (PATH_COLUMNS, path), counts)


# ---------------------------------------------------------------- reparse


@dataclass(frozen=True)
class ReparseResult:
    source_id: int
    path: str
    before: dict
    after: dict
    error: str | None = None
    note: str | None = None  # skipped, not failed: the source was purged while reparse ran

    @property
    def changed(self) -> bool:
        return self.error is None and self.note is None and self.before != self.after

    def describe(self) -> str:
        diffs = [f"{k} {self.before[k]}→{self.after[k]}" for k in self.after if k != "digest" and self.before[k] != self.after[k]]
        return ", ".join(diffs) or "same counts, other content"


def _source_state(session: Session, source_id: int) -> dict:
    """Row counts of what a source produced, and a digest of the content (texts, leads, metrics)."""
    article_ids = list(session.scalars(select(Article.id).where(Article.source_id == source_id).order_by(Article.ordinal)))
    paragraphs = session.execute(
        select(Paragraph.id, Paragraph.ordinal, Paragraph.lead, Paragraph.text)
        .where(Paragraph.article_id.in_(article_ids)).order_by(Paragraph.article_id, Paragraph.ordinal)
    ).all()
    metrics = session.execute(
        select(Paragraph.ordinal, Metric.ordinal, Metric.surface, Metric.value, Metric.unit, Metric.qualifier, Metric.subject)
        .join(Paragraph, Metric.paragraph_id == Paragraph.id)
        .where(Metric.article_id.in_(article_ids)).order_by(Metric.article_id, Paragraph.ordinal, Metric.ordinal)
    ).all()
    headings = list(session.scalars(select(Section.heading).where(Section.article_id.in_(article_ids)).order_by(Section.article_id, Section.ordinal)))
    digest = hashlib.sha256(repr(([p[1:] for p in paragraphs], [tuple(map(str, m)) for m in metrics], headings)).encode()).hexdigest()
    return {"article": len(article_ids), "section": len(headings), "paragraph": len(paragraphs), "metric": len(metrics), "digest": digest}


def reparse(engine: Engine, source_ids: Iterable[int] | None = None) -> Iterator[ReparseResult]:
    """Re-derive the rows of stored sources from source.text with the current parser and extractor.

    Uses the format and options each source was loaded with. One transaction per source; a source
    the current parser rejects keeps its old rows, and one purged meanwhile is skipped with a note.
    """
    with Session(engine) as session:
        q = select(Source.id).order_by(Source.id)
        if source_ids is not None:
            q = q.where(Source.id.in_(list(source_ids)))
        ids = list(session.scalars(q))
    for source_id in ids:
        yield retry_deadlocks(lambda: _reparse_one(engine, source_id))


def _reparse_one(engine: Engine, source_id: int) -> ReparseResult:
    with Session(engine) as session, session.begin():
        # Locked: a purge running now either finishes first (and the source is gone) or waits for us.
        source = session.scalars(select(Source).where(Source.id == source_id).with_for_update()).one_or_none()
        if source is None:
            return ReparseResult(source_id, "", {}, {}, note=f"source {source_id}: skipped, purged since the list was read")
        before = _source_state(session, source_id)
        meta = Metadata.from_json(source.options)
        if source.format is None and meta is None:
            meta = _meta_from_rows(session, source_id)
        try:
            parsed = parse_document(source.text, source.format, meta)
        except ParseError as exc:
            return ReparseResult(source_id, source.path, before, before, f"{source.path}:{exc.line}: {exc.reason}")
        conn = session.connection()
        kept = KeptIds.of_source(conn, source_id)
        issue_ids = delete_source(conn, source_id, keep_source=True)
        write_parsed(conn, source_id, parsed, keep=kept)
        drop_empty_issues(conn, issue_ids)  # one the text no longer dates to, say
        source.parser_version = PARSER_VERSION
        if source.format is None:  # recorded now, so that the next reparse reads the text as this one did
            source.format, source.options = parsed.format, meta.to_json() if meta else None
        return ReparseResult(source_id, source.path, before, _source_state(session, source_id))


def _meta_from_rows(session: Session, source_id: int) -> Metadata | None:
    """What the load options said about a source whose format and options are not stored (loaded before
    revision 0004, or a downgrade dropped them), read back from the rows it produced: its newspaper and
    date when it made one issue, its page and page name when all its articles share them. The parser
    takes from these only what the text lacks, as it did at load time."""
    rows = session.execute(
        select(Newspaper.name, Issue.date, Article.page, Article.page_name, Article.ordinal)
        .join(Issue, Article.issue_id == Issue.id).join(Newspaper, Issue.newspaper_id == Newspaper.id)
        .where(Article.source_id == source_id)
    ).all()
    if not rows:
        return None
    return Metadata(
        newspaper=_shared([r[0] for r in rows]), date=_shared([r[1] for r in rows]), page=_shared([r[2] for r in rows]),
        page_name=_shared([r[3] for r in rows]), ordinal=rows[0][4] if len(rows) == 1 else None,
    )


def _shared(values: list[T]) -> T | None:
    """The value every one of `values` has, or None when they differ."""
    return values[0] if len(set(values)) == 1 else None


# MariaDB/MySQL: 1213 deadlock, 1205 lock wait timeout; PostgreSQL: 40P01 deadlock, 40001 serialization.
DEADLOCK_CODES = {1213, 1205, "40P01", "40001"}


def is_deadlock(exc: DBAPIError) -> bool:
    orig = exc.orig
    args = getattr(orig, "args", None)
    code = getattr(orig, "sqlstate", None) or (args[0] if args else None)
    return code in DEADLOCK_CODES


def retry_deadlocks(transaction: Callable[[], T]) -> T:
    """Run a short write transaction again when the server chose it as a deadlock victim (it was rolled
    back whole, so running it again is safe); a few times, then the error stands."""
    attempts = 0
    while True:
        try:
            return transaction()
        except DBAPIError as exc:
            attempts += 1
            if attempts == RETRIES or not is_deadlock(exc):
                raise
            time.sleep(0.05 * attempts)


# ---------------------------------------------------------------- purge


@dataclass(frozen=True)
class Purged:
    source_id: int
    source_removed: bool  # False: the bytes are still loaded from another path
    path: str | None = None  # the path purged, when a path was named

    def describe(self) -> str:
        if self.source_removed:
            return f"purged source {self.source_id}"
        return f"purged path {self.path}; source {self.source_id} is still loaded from its other paths"


def purge(engine: Engine, target: str) -> Purged:
    """Remove a loaded file: by source id, the source and everything parsed from it; by path, that path,
    and the source with it when no other path holds the same bytes. Retried when chosen as a deadlock victim."""
    return retry_deadlocks(lambda: _purge(engine, target))


def _stored_paths(target: str) -> set[str]:
    """The paths a file named `target` on the command line may be stored under: given as the file system
    has it, or as the archive shows it (inputs.path_text, which escapes names that are not UTF-8)."""
    candidates = {path_text(target), *(path_text(Path(p).resolve()) for p in (target, os_path(target)))}
    try:
        target.encode("utf-8")
        candidates.add(target)  # a name shown escaped, typed as shown
    except UnicodeEncodeError:  # a name that is not UTF-8, as the file system has it: no column holds it
        pass
    return candidates


def _purge(engine: Engine, target: str) -> Purged:
    with engine.begin() as conn:
        if "\x00" in target:  # no path holds a NUL byte (and Path refuses one)
            found = None
        elif target.isdigit():
            # locked: a reparse of this source finishes first, or waits until it is gone
            source_id = conn.execute(select(Source.id).where(Source.id == int(target)).with_for_update()).scalar_one_or_none()
            if source_id:
                drop_empty_issues(conn, delete_source(conn, source_id))
                return Purged(source_id, True)
            found = None
        else:
            found = conn.execute(
                select(_path.c.source_id, _path.c.path).where(_path.c.path.in_(_stored_paths(target)))
            ).first()
            if found:  # locked, as above
                conn.execute(select(Source.id).where(Source.id == found[0]).with_for_update()).all()
        if not found:
            raise NotFound(f"no loaded file {target!r}")
        source_id, path = found
        return Purged(source_id, forget_path(conn, source_id, path), path)
