"""The search index's writes on each engine (its tables are made by migration 0005_search_index; 0006, 0011 and 0012
tune it): its upkeep, `index_document` for the loader, `remove_articles` and `rebuild`. Keys are archive.searchkey's;
the SQL that reads the index is archive.searchquery's.

- SQLite: a contentless FTS5 table `search_fts` over the token text (tokenizer `ascii`), with FTS5's
  prefix index of 4-letter prefixes (migration 0011): see SQLITE_CHAR_PREFIX.
- PostgreSQL: `search_doc(doc_key, tokens tsvector)` with a GIN index; phrase queries use `<->`.
- MariaDB/MySQL: `search_doc(doc_key, tokens)`, scanned with LIKE. An InnoDB FULLTEXT index over these
  tokens (4- and 8-letter words, so the default innodb_ft_min_token_size keeps them) was tried: on
  MariaDB 10.11 the same MATCH query, repeated in one transaction just after a load, returned 0 rows
  in 3 of 25 fresh databases. Exact hits matter more than speed, so search there scans.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from archive.readdb import text
from archive.searchkey import ARTICLE_FIELDS, doc_key
from archive.searchquery import engine_kind, id_list, stored_docs
from archive.searchtext import CODE_WIDTH, token_text

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from archive.prepare import Rows

BATCH = 2000


# ---------------------------------------------------------------- settings (made by the migrations)

# The index's tables and settings are made by migrations 0005, 0006, 0011 and 0012 from their frozen copy
# (migrations/frozen/search_index.py); the figures behind each setting:
#
# Every token starts with the 4-letter code of its first character, so a one-character term is the
# prefix query "code"*. Without a prefix index FTS5 answers it by merging the doclists of every bigram
# that starts with the character (thousands for a common one) before returning a single row: 55-95 ms
# for 警 or 的 at 300,000 paragraphs, whatever the LIMIT. With `prefix='4'` FTS5 keeps one doclist per
# 4-letter prefix, i.e. per character, and the newest-first page walks it backwards and stops: 0.2 ms.
# It costs index space: 1.33x the text without it, 2.29x with it on the search benchmark's corpus,
# 2.10x and 3.28x on generated pages (docs/benchmarks.md).
SQLITE_CHAR_PREFIX = "prefix='4'"

# FTS5 merges its per-transaction segments once `automerge` of them share a level (default 4). The
# loader commits one segment per file, so at 4 it spends a third of its write time merging; at 16 it
# merges less often, in bigger steps, and searches measured the same (docs/benchmarks.md, migration 0006).
SQLITE_AUTOMERGE = 16
SQLITE_DEFAULT_AUTOMERGE = 4

# FTS5 gathers a transaction's new terms in memory and writes them out as a segment at COMMIT, or as
# soon as they take `hashsize` bytes (default 1 MB). A loader's batch of 32 pages passed 1 MB two or
# three times, so it cost several segments and their merging; at 8 MB a batch is one segment, and the
# writer spends about 0.6 CPU-ms a page less (docs/benchmarks.md, session 7, migration 0012).
SQLITE_HASHSIZE = 8 * 1024 * 1024
SQLITE_DEFAULT_HASHSIZE = 1024 * 1024


# ---------------------------------------------------------------- upkeep


MAX_POSITION, MAX_POSITIONS = 16383, 256  # PostgreSQL's tsvector limits


def _tsvector(tokens: list[str]) -> tuple[str, bool]:
    """A tsvector literal with positions, and whether PostgreSQL's limits (positions up to 16383, 256
    positions per lexeme) make it lossy.

    Each token is written with its own position ("tok:1 tok:2 …"): PostgreSQL's tsvector input merges
    a repeated lexeme's positions and keeps its first 256, so no grouping is needed here (grouping in
    Python cost the PostgreSQL writer 1.6 ms a page; this costs 0.45). Texts longer than the positions
    a tsvector can hold are lossy anyway, and are grouped here, as their token list could exceed the
    1 MB a tsvector's input may hold."""
    n = len(tokens)
    if n > MAX_POSITION:
        # tsvector input holds at most 1 MB of lexemes before merging: a text this long is grouped here
        positions: dict[str, list[int]] = {}
        for pos, tok in enumerate(tokens, start=1):
            positions.setdefault(tok, []).append(pos)
        return " ".join(f"{tok}:{','.join(map(str, p[:MAX_POSITIONS]))}" for tok, p in positions.items()), True
    lossy = n > MAX_POSITIONS and max(Counter(tokens).values()) > MAX_POSITIONS
    return " ".join(map(str.__add__, tokens, _positions(n))), lossy


_SUFFIXES = [""]  # ":1", ":2" …: made once, as the longest text so far needs them


def _positions(n: int) -> list[str]:
    """The position suffixes ":1" … ":n" (concatenating them costs half what formatting each token does)."""
    if len(_SUFFIXES) <= n:
        _SUFFIXES.extend(f":{i}" for i in range(len(_SUFFIXES), n + 1))
    return _SUFFIXES[1 : n + 1]


_INSERT = {
    "sqlite": "INSERT INTO search_fts(rowid, tokens) VALUES (:k, :t)",
    "postgresql": "INSERT INTO search_doc (doc_key, tokens, lossy) VALUES (:k, CAST(:t AS tsvector), :lossy)",
    "mysql": "INSERT INTO search_doc (doc_key, tokens) VALUES (:k, :t)",
}


def _tsvector_of(tokens: str) -> tuple[str, bool]:
    """A token text's tsvector text and whether it is lossy (see _tsvector)."""
    return _tsvector(tokens.split(" ") if tokens else [])


def _row(kind: str, key: int, tokens: str) -> dict:
    if kind == "postgresql":
        vec, lossy = _tsvector_of(tokens)
        return {"k": key, "t": vec, "lossy": lossy}
    return {"k": key, "t": tokens}


# PostgreSQL: how many texts hold each character (by its 4-letter code), kept by add/remove/rebuild.
# Counting a common character's hits through the index reads most of search_doc's tsvectors: 250-400 ms
# for 警 at 300,000 paragraphs, whatever the plan (docs/benchmarks.md). The count of a query that is
# one character, unfiltered, is then one row. Made by migration 0011.
# One statement for a whole batch of counts, inserted in the order given. Codes and counts go as two
# space-separated strings (codes are letters and digits): psycopg dumps a Python list item by item in
# Python, which cost more than the upsert.
_CHAR_COUNT_UPSERT = (
    "INSERT INTO search_char_count (code, docs) "
    "SELECT * FROM unnest(string_to_array(:c, ' '), CAST(string_to_array(:n, ' ') AS BIGINT[])) "
    "ON CONFLICT (code) DO UPDATE SET docs = search_char_count.docs + EXCLUDED.docs"
)


def recount_chars(bind: Connection) -> None:
    """Count again, from every stored text, how many texts hold each character (PostgreSQL)."""
    bind.execute(text("DELETE FROM search_char_count"))
    for _source, docs in _stored_batches(bind):
        _count_chars(bind, _char_counts(token_text(t) for _, t in docs), 1, present=True)


def _char_counts(token_texts: Iterable[str]) -> Counter:
    """How many of these token texts hold each character: every token starts with its first
    character's code, so the codes a text holds are its tokens' first 4 letters."""
    counts: Counter = Counter()
    for tokens in token_texts:
        if tokens:
            counts.update({tok[:CODE_WIDTH] for tok in tokens.split(" ")})
    return counts


def has_char_count(bind: Connection) -> bool:
    # migrations before 0011 (and downgrades past it) index texts while the table does not exist
    return bool(bind.execute(text("SELECT to_regclass('search_char_count') IS NOT NULL")).scalar())


def _count_chars(bind: Connection, counts: Counter[str], sign: int, present: bool | None = None) -> None:
    """Add (sign 1) or take away (-1) these counts; `present`: whether search_char_count exists, when the
    caller knows (None: look, one query)."""
    if not counts or not (has_char_count(bind) if present is None else present):
        return
    # sorted: two writers touching the same codes take their row locks in the same order
    codes = sorted(counts)
    bind.execute(text(_CHAR_COUNT_UPSERT), {"c": " ".join(codes), "n": " ".join(str(sign * counts[c]) for c in codes)})


def add(bind: Connection, docs: Sequence[tuple[int, str]], char_count: bool | None = None) -> None:
    """Index texts: (key, text) pairs."""
    add_tokens(bind, [(k, token_text(t)) for k, t in docs], char_count)


def add_tokens(bind: Connection, docs: Sequence[tuple[int, str]], char_count: bool | None = None) -> None:
    """Index texts already turned into token text (searchtext.token_text): (key, token text) pairs.
    `char_count`: whether PostgreSQL's search_char_count exists, where the caller knows (the loader
    writes only at the head revision, where it does); None looks it up."""
    from sqlalchemy import Connection

    from archive import bulk, pgcopy

    kind = engine_kind(bind)
    if kind == "sqlite" and isinstance(bind, Connection) and bulk.direct(bind):
        # the loader's hot path: one executemany straight to the driver, as archive.bulk does for rows
        bulk.driver(bind, "INSERT INTO search_fts(rowid, tokens) VALUES (?, ?)", list(docs), many=True)
        return
    if kind == "postgresql" and isinstance(bind, Connection) and pgcopy.usable(bind):
        # COPY: each tsvector as its text, read by the server as CAST(... AS tsvector) reads it
        pgcopy.copy_rows(bind, "search_doc", ("doc_key", "tokens", "lossy"), [(k, *_tsvector_of(t)) for k, t in docs])
    else:
        for i in range(0, len(docs), BATCH):
            bind.execute(text(_INSERT[kind]), [_row(kind, k, t) for k, t in docs[i : i + BATCH]])
    if kind == "postgresql":
        _count_chars(bind, _char_counts(t for _, t in docs), 1, char_count)


class PendingIndex:
    """The index entries of the files a transaction holds, written together just before it commits.

    The loader writes several files in one transaction, each in a savepoint of its own (archive.loader
    GroupWriter). FTS5 turns its pending terms into a new segment of the index at every COMMIT and also
    at every SAVEPOINT opened after it was written to: indexed file by file, the batch would still cost
    one segment, one flush and its share of merging per file, which is most of what SQLite spends
    writing a page. Held here, a batch's texts become one segment. The entries of a file whose savepoint
    is rolled back are dropped (`mark`, `rollback_to`). On PostgreSQL the per-character counts are
    added once per batch, not once per file.

    The rows the entries name must not be deleted before `flush` (a contentless FTS5 table forgets a
    text only when given the tokens it holds): the loader commits a batch before a file at a path the
    batch already wrote, the only way a file can replace rows of the same batch."""

    def __init__(self) -> None:
        self.docs: list[tuple[int, str]] = []

    def mark(self) -> int:
        return len(self.docs)

    def rollback_to(self, mark: int) -> None:
        del self.docs[mark:]

    def flush(self, conn: Connection) -> None:
        if self.docs:
            # In key order: FTS5 also writes out its pending terms whenever a rowid is not above the
            # last one it took (a file's texts come titles, headings, then paragraphs, whose keys are
            # not in that order), which would cost a segment at each of those steps.
            self.docs.sort()
            # the loader writes only at the head revision, where PostgreSQL's character counts exist
            add_tokens(conn, self.docs, char_count=True)
            self.docs = []


def index_document(
    conn: Connection, rows: Rows, article_ids: Sequence[int], section_ids: Sequence[int], paragraph_ids: Sequence[int],
    pending: PendingIndex | None = None,
) -> None:
    """Index the texts of one document the loader has just written: `rows` as the worker prepared them
    (each text's field, position and token text), the ids the loader gave its articles, sections and
    paragraphs. With `pending`, the entries are held there until the transaction's batch is flushed."""
    ids = {**dict.fromkeys(ARTICLE_FIELDS, article_ids), "heading": section_ids, "paragraph": paragraph_ids}
    day = rows.issue[0]
    held = pending if pending is not None else PendingIndex()
    held.docs += zip([doc_key(day, ids[f][i], f) for f, i in rows.index_fields], rows.index_tokens)
    if pending is None:
        held.flush(conn)


def remove(bind: Connection, docs: Sequence[tuple[int, str]]) -> None:
    """Unindex texts: the same (key, text) pairs they were indexed with."""
    if engine_kind(bind) == "sqlite":
        # A contentless FTS5 table forgets a row only when given the tokens it was indexed with.
        rows = [{"k": k, "t": token_text(t)} for k, t in docs]
        if rows:
            bind.execute(text("INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', :k, :t)"), rows)
        return
    if engine_kind(bind) == "postgresql":
        _count_chars(bind, _char_counts(token_text(t) for _, t in docs), -1)
    keys = [k for k, _ in docs]
    for i in range(0, len(keys), BATCH):
        bind.execute(text(f"DELETE FROM search_doc WHERE doc_key IN ({id_list(keys[i : i + BATCH])})"))


def remove_articles(bind: Connection, article_ids: Sequence[int]) -> None:
    """Unindex every text of these articles (before their rows are deleted)."""
    if article_ids:
        remove(bind, stored_docs(bind, article_ids))


def rebuild(bind: Connection, route: Callable[[Connection, int], None] | None = None) -> int:
    """Empty the index and index every stored text again (titles, subtitles, kickers, headings,
    paragraphs); return how many. With `route` (a sharded coordinator's archive.shard.route), texts are
    indexed source by source, `route(bind, source_id)` called before each source's."""
    if engine_kind(bind) == "sqlite":
        bind.execute(text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))
    else:
        bind.execute(text("DELETE FROM search_doc"))
    counted = engine_kind(bind) == "postgresql" and has_char_count(bind)  # looked up once, not per batch
    if counted:
        bind.execute(text("DELETE FROM search_char_count"))
    count = 0
    for source_id, docs in _stored_batches(bind, by_source=route is not None):
        if route is not None:
            route(bind, source_id)
        add(bind, docs, counted)
        count += len(docs)
    return count


def _stored_batches(bind: Connection, by_source: bool = False) -> Iterator[tuple[int, list[tuple[int, str]]]]:
    """Every stored text as (key, text), BATCH articles at a time (memory stays bounded), with the source
    of the batch's last article; `by_source`: no batch mixes two sources."""
    rows = bind.execute(text("SELECT id, source_id FROM article ORDER BY source_id, id" if by_source else "SELECT id, source_id FROM article ORDER BY id")).all()
    batch: list[int] = []
    for i, (article_id, source_id) in enumerate(rows):
        batch.append(article_id)
        last = i + 1 == len(rows)
        if last or len(batch) == BATCH or (by_source and rows[i + 1][1] != source_id):
            yield source_id, stored_docs(bind, batch)
            batch = []
