"""The loader: the only code that writes parsed pages to the database. One transaction per file."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import multiprocessing.context
import os
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from sqlalchemy import Connection, Engine, and_, bindparam, delete, exists, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from archive import bulk, searchindex
from archive.db import DiskFull, is_disk_full
from archive.formats.metadata import Metadata
from archive.inputs import iter_files, os_path, path_text
from archive.models import (
    Article,
    ArticleAuthor,
    Issue,
    Metric,
    Newspaper,
    Paragraph,
    Section,
    Source,
)
from archive.document import ParseError
from archive.workers import init_worker
from archive.prepare import PARSER_VERSION, FileError, Parsed, Prepared, parse_document, prepare_file

STATUSES = ("new", "updated", "unchanged", "failed")
RETRIES = 5
PARALLEL_MIN_FILES = 8
WINDOW = 16  # files prepared ahead of the writer: bounds memory whatever the corpus size
START_METHOD = "forkserver"  # how worker processes start (see _worker_context)


@dataclass(frozen=True)
class FileResult:
    path: str
    status: str
    source_id: int | None = None
    message: str | None = None
    format: str | None = None


@dataclass
class LoadReport:
    results: list[FileResult] = field(default_factory=list)

    @property
    def counts(self) -> Counter:
        return Counter({s: 0 for s in STATUSES}) + Counter(r.status for r in self.results)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        c = self.counts
        return f"{len(self.results)} files: {c['new']} new, {c['updated']} updated, {c['unchanged']} unchanged, {c['failed']} failed"


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
        conn.execute(delete(Source).where(Source.id == source_id))
    return issue_ids


def drop_empty_issues(conn: Connection, issue_ids: list[int]) -> None:
    """Delete those of these issues that no article belongs to any more, then newspapers left empty."""
    if issue_ids:
        paper_ids = list(conn.scalars(select(Issue.newspaper_id).where(Issue.id.in_(issue_ids)).distinct()))
        conn.execute(
            delete(Issue).where(Issue.id.in_(issue_ids), ~exists().where(Article.issue_id == Issue.id))
        )
        conn.execute(
            delete(Newspaper).where(Newspaper.id.in_(paper_ids), ~exists().where(Issue.newspaper_id == Newspaper.id))
        )


# Statements are built once: building one costs more than SQLite takes to run it (see archive.bulk).
_newspaper, _issue = Newspaper.__table__, Issue.__table__
NEWSPAPER_FIELDS = ("cn_serial", "postal_code", "website", "email", "hotline")
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


def _issue_id(conn: Connection, paper, issue, next_ids: dict[str, int]) -> int:
    """The issue's id, adding the newspaper and the issue when they are new."""
    found = bulk.rows(conn, PAPER_AND_ISSUE, {"name": paper.name, "date": issue.date})
    fields = {k: getattr(paper, k) for k in NEWSPAPER_FIELDS}
    if not found:
        newspaper_id = bulk.insert_many(conn, Newspaper, [dict(name=paper.name, **fields)], next_ids)[0]
    else:
        newspaper_id, *known, issue_id, weekday, number = found[0]
        missing = {k: v for (k, v), old in zip(fields.items(), known) if v and not old}
        if missing:
            conn.execute(update(_newspaper).where(_newspaper.c.id == newspaper_id).values(**missing))
        if issue_id is not None:
            # an inside page or a single article may have been loaded before the front page printed these
            printed = (("weekday", issue.weekday, weekday), ("number", issue.number, number))
            missing = {k: v for k, v, old in printed if v and not old}
            if missing:
                conn.execute(update(_issue).where(_issue.c.id == issue_id).values(**missing))
            return issue_id
    values = dict(newspaper_id=newspaper_id, date=issue.date, weekday=issue.weekday, number=issue.number)
    return bulk.insert_many(conn, Issue, [values], next_ids)[0]


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
        sections, paragraphs = {}, {}
        for model, out in ((Section, sections), (Paragraph, paragraphs)):
            rows = conn.execute(select(model.article_id, model.ordinal, model.id).where(model.article_id.in_(list(by_id))))
            out.update({(by_id[a], o): i for a, o, i in rows})
        return cls(articles, sections, paragraphs)


def write_parsed(
    conn: Connection, source_id: int, parsed: Parsed, next_ids: dict[str, int] | None = None, keep: KeptIds | None = None
) -> None:
    """Insert the rows of a parsed document for a source that already has its row; with `keep`, articles,
    sections and paragraphs at the positions of earlier rows take those rows' ids."""
    keep = keep or KeptIds()
    doc = parsed.document
    if next_ids is None:
        next_ids = bulk.next_ids(conn, *ID_TABLES)
    issue_id = _issue_id(conn, doc.newspaper, doc.issue, next_ids)
    article_ids = bulk.insert_many(
        conn,
        Article,
        [
            dict(
                issue_id=issue_id,
                source_id=source_id,
                ordinal=a.ordinal,
                title=a.title,
                subtitle=a.subtitle,
                byline=a.byline,
                kicker=a.kicker,
                page=a.page,
                page_name=a.page_name,
                source_url=a.source_url,
                char_count=sum(len(p.text) for p in a.paragraphs),
                paragraph_count=len(a.paragraphs),
            )
            for a in doc.articles
        ],
        next_ids,
        [keep.articles.get(a.ordinal) for a in doc.articles],
    )
    authors, sections, section_keys = [], [], []
    for article, article_id in zip(doc.articles, article_ids):
        authors += [
            dict(article_id=article_id, ordinal=i, role=c.role, name=c.name)
            for i, c in enumerate(article.contributors, start=1)
        ]
        for s in article.sections:
            sections.append(dict(article_id=article_id, ordinal=s.ordinal, heading=s.heading))
            section_keys.append((article, article_id, s))
    bulk.executemany(conn, ArticleAuthor.__table__, authors)
    kept_sections = [keep.sections.get((a.ordinal, s.ordinal)) for a, _, s in section_keys]
    section_ids = bulk.insert_many(conn, Section, sections, next_ids, kept_sections)
    paragraphs, paragraph_keys = [], []
    for (article, article_id, s), section_id in zip(section_keys, section_ids):
        for p in s.paragraphs:
            paragraphs.append(
                dict(
                    article_id=article_id,
                    section_id=section_id,
                    ordinal=p.ordinal,
                    lead=p.lead,
                    text=p.text,
                    char_count=len(p.text),
                    line_start=p.line_start,
                    line_end=p.line_end,
                )
            )
            paragraph_keys.append((article.ordinal, p.ordinal, article_id))
    kept_paragraphs = [keep.paragraphs.get((a_ord, p_ord)) for a_ord, p_ord, _ in paragraph_keys]
    paragraph_ids = bulk.insert_many(conn, Paragraph, paragraphs, next_ids, kept_paragraphs)
    day = doc.issue.date
    keys = [searchindex.doc_key(day, i, title=True) for i in article_ids] + [searchindex.doc_key(day, i) for i in paragraph_ids]
    if len(parsed.index_tokens) == len(keys):  # tokenized by the parser worker
        searchindex.add_tokens(conn, list(zip(keys, parsed.index_tokens)))
    else:
        texts = [a.title for a in doc.articles] + [p["text"] for p in paragraphs]
        searchindex.add(conn, list(zip(keys, texts)))
    metrics = [
        dict(
            article_id=article_id,
            paragraph_id=paragraph_id,
            ordinal=m.ordinal,
            surface=m.surface,
            char_start=m.char_start,
            char_end=m.char_end,
            value=m.value,
            value_high=m.value_high,
            unit=m.unit,
            qualifier=m.qualifier,
            kind=m.kind,
            subject=m.subject,
            condition=m.condition,
            as_of=m.as_of,
            period=m.period,
            direction=m.direction,
            basis=m.basis,
        )
        for (a_ord, p_ord, article_id), paragraph_id in zip(paragraph_keys, paragraph_ids)
        for m in parsed.metrics.get((a_ord, p_ord), ())
    ]
    bulk.insert_many(conn, Metric, metrics, next_ids, returning=False)


_source = Source.__table__
# Tables whose ids the loader hands out itself on SQLite (see bulk.insert_many).
ID_TABLES = (Newspaper, Source, Issue, Article, Section, Paragraph, Metric)
SOURCE_BY_SHA_OR_PATH = select(_source.c.id, _source.c.sha256).where(
    or_(_source.c.sha256 == bindparam("sha256"), _source.c.path == bindparam("path"))
)


def store(conn: Connection, prepared: Prepared) -> FileResult:
    """Write one prepared file inside the caller's transaction: new, updated (same path) or unchanged."""
    fmt = prepared.parsed.format
    # One statement, one snapshot: asked apart, a loader racing us could commit the same file between
    # the two questions, and its fresh copy would be taken for an earlier version and replaced.
    found = bulk.rows(conn, SOURCE_BY_SHA_OR_PATH, {"sha256": prepared.sha256, "path": prepared.path})
    same = [source_id for source_id, sha256 in found if sha256 == prepared.sha256]
    if same:
        return FileResult(prepared.path, "unchanged", same[0], format=fmt)
    earlier = [source_id for source_id, _ in found]
    # a new version of a file loaded before: its articles, sections and paragraphs keep their ids by position
    kept = KeptIds.of_source(conn, earlier[0]) if earlier else None
    old_issues = [i for source_id in earlier for i in delete_source(conn, source_id)]
    next_ids = bulk.next_ids(conn, *ID_TABLES)
    source = dict(
        path=prepared.path,
        sha256=prepared.sha256,
        encoding=prepared.encoding,
        byte_count=prepared.byte_count,
        text=prepared.text,
        # whole seconds: MariaDB's DATETIME keeps no fraction, and every engine should hold the same value
        loaded_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0),
        parser_version=PARSER_VERSION,
        format=prepared.parsed.format,
        options=prepared.meta.to_json() if prepared.meta else None,
    )
    source_id = bulk.insert_many(conn, Source, [source], next_ids)[0]
    write_parsed(conn, source_id, prepared.parsed, next_ids, kept)
    drop_empty_issues(conn, old_issues)
    return FileResult(prepared.path, "updated" if earlier else "new", source_id, format=fmt)


def store_with_retry(engine: Engine, prepared: Prepared) -> FileResult:
    """One transaction per file; a race with another loader (unique key, lock) is retried, then reported."""
    last: Exception | None = None
    for _ in range(RETRIES):
        try:
            # A Core connection, not a Session: nothing here needs the ORM, and its per-transaction
            # cost is a tenth of what SQLite takes to write a page.
            with engine.begin() as conn:
                return store(conn, prepared)
        except DBAPIError as exc:
            if is_disk_full(exc):  # every file after this one would fail alike: stop here, once
                raise DiskFull(f"{prepared.path}: not stored, the database's disk is full ({_reason(exc)})") from exc
            if isinstance(exc, (IntegrityError, OperationalError)):
                # Another process stored the same file or newspaper first, or a lock timed out: a
                # fresh transaction sees its rows and decides again.
                last = exc
                continue
            # Anything else the database refuses (a value it cannot hold, say) costs this file, not
            # the batch; the transaction has been rolled back.
            last = exc
            break
    return FileResult(prepared.path, "failed", None, f"{prepared.path}:1: database error: {_reason(last)}")


def _reason(exc: Exception | None) -> str:
    return str(getattr(exc, "orig", exc)).splitlines()[0]


# ---------------------------------------------------------------- many files


def _prepare(args: tuple[str, str | None, str | None, Metadata | None]) -> Prepared | FileError:
    try:
        return prepare_file(*args)
    except FileError as exc:
        return exc
    except Exception as exc:  # a parser bug must cost one file, not the batch
        return FileError(path_text(args[0]), 1, f"internal parser error: {type(exc).__name__}: {exc}")


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers forked from a small server process that has imported the parser, not from the writer.

    A worker forked from the writer would start with the writer's heap (the list of every file to
    load among it), so its memory would grow with the corpus; a forkserver's does not (measured:
    docs/benchmarks.md). Where there is no forkserver (Windows, macOS spawn), the platform default.
    """
    if START_METHOD not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context()
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        context.set_forkserver_preload(["archive._forkserver"])  # imports the loader; ends with us
    return context


def _prepared_stream(
    files: list[str], encoding: str | None, fmt: str | None, meta: Metadata | None, workers: int
) -> Iterator[Prepared | FileError]:
    jobs = ((f, encoding, fmt, meta) for f in files)
    if workers <= 1 or len(files) < PARALLEL_MIN_FILES:
        yield from map(_prepare, jobs)
        return
    pool = _pool(workers)
    pending: list[tuple[tuple, Future]] = []
    try:
        for job in jobs:
            try:
                fut = pool.submit(_prepare, job)
            except BrokenProcessPool:  # a worker died earlier: the rest go to a fresh pool
                pool.shutdown(wait=False)
                pool = _pool(workers)
                fut = pool.submit(_prepare, job)
            pending.append((job, fut))
            if len(pending) >= WINDOW:
                yield _result(*pending.pop(0))
        for job, fut in pending:
            yield _result(job, fut)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _pool(workers: int, context: multiprocessing.context.BaseContext | None = None) -> ProcessPoolExecutor:
    """Parser processes that end when the loader does (archive.workers), however it ends."""
    context = context or _worker_context()
    # a forked worker's parent is this process; a forkserver's worker knows its server's pid itself
    parent = os.getpid() if context.get_start_method() == "fork" else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker, initargs=(parent,))


def _result(job: tuple, fut: Future) -> Prepared | FileError:
    """A worker's result; when a worker died (out of memory, a crash in a C library), every file it
    left unfinished is tried again alone, so that only the file that kills a process fails."""
    try:
        return fut.result()
    except BrokenProcessPool:
        with _pool(1, multiprocessing.get_context()) as alone:
            try:
                return alone.submit(_prepare, job).result()
            except BrokenProcessPool:
                return FileError(path_text(job[0]), 1, "the parser process died on this file (out of memory or a crash)")


def load_paths(
    engine: Engine,
    paths: Iterable[str | os.PathLike],
    *,
    encoding: str | None = None,
    fmt: str | None = None,
    meta: Metadata | None = None,
    workers: int | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> LoadReport:
    """Load files and directories: parse in worker processes, write each file in its own transaction."""
    files = list(iter_files(paths))
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    report = LoadReport()
    for item in _prepared_stream(files, encoding, fmt, meta, workers):
        if isinstance(item, FileError):
            result = FileResult(item.path, "failed", None, str(item), format=item.format)
        else:
            result = store_with_retry(engine, item)
        report.results.append(result)
        if on_result:
            on_result(result)
    return report


@dataclass(frozen=True)
class ReparseResult:
    source_id: int
    path: str
    before: dict
    after: dict
    error: str | None = None

    @property
    def changed(self) -> bool:
        return self.error is None and self.before != self.after

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
    the current parser rejects keeps its old rows.
    """
    with Session(engine) as session:
        q = select(Source.id).order_by(Source.id)
        if source_ids is not None:
            q = q.where(Source.id.in_(list(source_ids)))
        ids = list(session.scalars(q))
    for source_id in ids:
        with Session(engine) as session, session.begin():
            source = session.get(Source, source_id)
            before = _source_state(session, source_id)
            try:
                parsed = parse_document(source.text, source.format, Metadata.from_json(source.options))
            except ParseError as exc:
                result = ReparseResult(source_id, source.path, before, before, f"{source.path}:{exc.line}: {exc.reason}")
            else:
                conn = session.connection()
                kept = KeptIds.of_source(conn, source_id)
                issue_ids = delete_source(conn, source_id, keep_source=True)
                write_parsed(conn, source_id, parsed, keep=kept)
                drop_empty_issues(conn, issue_ids)  # one the text no longer dates to, say
                source.parser_version = PARSER_VERSION
                result = ReparseResult(source_id, source.path, before, _source_state(session, source_id))
        yield result


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


def purge(engine: Engine, target: str) -> int:
    """Remove one loaded file (by source id or path) and everything parsed from it; return its id."""
    with engine.begin() as conn:
        if "\x00" in target:  # no path holds a NUL byte (and Path refuses one)
            source_id = None
        else:
            if target.isdigit():
                where = Source.id == int(target)
            else:
                where = Source.path.in_(_stored_paths(target))
            source_id = conn.execute(select(Source.id).where(where)).scalar_one_or_none()
        if not source_id:
            raise LookupError(f"no loaded file {target!r}")
        drop_empty_issues(conn, delete_source(conn, source_id))
        return source_id
