"""The search index as the migrations build it, frozen at revision 0011_search_char_prefix: its DDL on
each engine, the token text and keys of every stored text, and the rebuild that fills it.

A copy of what archive/searchtext.py (token_text) and archive/searchindex.py (keys, DDL, rebuild) held
at that revision, so that the migrations build the same index whatever those modules become. The
loader keeps the index in step with the same tokens and keys: tests/test_migrations_frozen.py holds
this copy to them. A change to the tokens, the keys or the DDL comes with a migration of its own that
rebuilds the index from a frozen copy of its own. 0005 to 0011 fill the index as it stands at 0011,
as they did while they imported the application; only 0008's downgrade writes the older keys.

- SQLite: a contentless FTS5 table `search_fts` (tokenizer `ascii`), with FTS5's per-character prefix
  index from 0011 on and automerge 16 from 0006 on.
- PostgreSQL: `search_doc(doc_key, tokens tsvector, lossy)` with a GIN index, and from 0011 on
  `search_char_count` (how many texts hold each character).
- MariaDB/MySQL: `search_doc(doc_key, tokens)`, scanned with LIKE.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter
from typing import Iterator, Sequence

from sqlalchemy import text

BATCH = 2000

# ---------------------------------------------------------------- token text (archive/searchtext.py)

CODE_WIDTH = 4  # base-36 digits per character: 36**4 > 0x10FFFF
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class _FoldTable(dict):
    """Each character's NFKC form, lower-cased, where that is one character (str.translate table)."""

    def __missing__(self, code: int) -> int:
        c = chr(code)
        folded = unicodedata.normalize("NFKC", c)
        if len(folded) != 1:
            folded = c
        lower = folded.lower()
        if len(lower) == 1:
            folded = lower
        self[code] = ord(folded)
        return self[code]


class _CodeTable(dict):
    """Character -> its 4-letter token code."""

    def __missing__(self, c: str) -> str:
        n, out = ord(c), []
        for _ in range(CODE_WIDTH):
            n, d = divmod(n, 36)
            out.append(_DIGITS[d])
        self[c] = "".join(reversed(out))
        return self[c]


class _PairTable(dict):
    """Each character to its code, a space, and its code again (str.translate table)."""

    def __missing__(self, code: int) -> str:
        c = _code(chr(code))
        self[code] = f"{c} {c}"
        return self[code]


_FOLD = _FoldTable()
_code = _CodeTable().__getitem__
_PAIR = _PairTable()


def token_text(value: str) -> str:
    """A text's index tokens, space-separated: each overlapping bigram of its folded characters, then
    the last character alone."""
    folded = value.translate(_FOLD)
    if not folded:
        return ""
    return _code(folded[0]) + folded[1:].translate(_PAIR)


# ---------------------------------------------------------------- keys (from 0008_fidelity on)

ID_MASK = (1 << 31) - 1
FIELD_SHIFT = 31
DATE_SHIFT = 34
FIELDS = {"paragraph": 0, "title": 1, "subtitle": 3, "kicker": 5, "heading": 7}


def doc_key(date: dt.date, row_id: int, field: str) -> int:
    """(issue date ordinal << 34) | (field << 31) | id of the row that holds the text."""
    if not 0 < row_id <= ID_MASK:
        raise ValueError(f"row id {row_id} does not fit the search key (31 bits)")
    return (date.toordinal() << DATE_SHIFT) | (FIELDS[field] << FIELD_SHIFT) | row_id


def as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def engine_kind(bind) -> str:
    name = bind.dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


# ---------------------------------------------------------------- DDL

PG_COMMENT = (
    "COMMENT ON TABLE search_doc IS 'Search index (archive search): one row per paragraph, article title, "
    "subtitle, kicker or section heading; doc_key = date ordinal << 34 | field << 31 | id. Maintained by the loader.'"
)
_SQLITE_CREATE = "CREATE VIRTUAL TABLE search_fts USING fts5(tokens, content='', tokenize='ascii'{})"
SQLITE_CHAR_PREFIX = "prefix='4'"  # 0011: one doclist per character
DDL = {
    "sqlite": {"create": [_SQLITE_CREATE.format("")], "drop": ["DROP TABLE IF EXISTS search_fts"]},
    "postgresql": {
        "create": [
            "CREATE TABLE search_doc (doc_key BIGINT PRIMARY KEY, tokens TSVECTOR NOT NULL, lossy BOOLEAN NOT NULL)",
            "CREATE INDEX ix_search_doc_tokens ON search_doc USING gin (tokens)",
            "CREATE INDEX ix_search_doc_lossy ON search_doc (doc_key) WHERE lossy",
            PG_COMMENT,
        ],
        "drop": ["DROP TABLE IF EXISTS search_doc"],
    },
    "mysql": {
        "create": [
            "CREATE TABLE search_doc (doc_key BIGINT NOT NULL PRIMARY KEY, "
            "tokens LONGTEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL) ENGINE=InnoDB "
            "COMMENT='Search index (archive search): one row per paragraph, title, subtitle, kicker or heading. "
            "Maintained by the loader.'",
        ],
        "drop": ["DROP TABLE IF EXISTS search_doc"],
    },
}
CHAR_COUNT_DDL = (  # PostgreSQL, 0011
    "CREATE TABLE search_char_count (code VARCHAR(4) PRIMARY KEY, docs BIGINT NOT NULL)",
    "COMMENT ON TABLE search_char_count IS 'How many indexed texts (search_doc rows) hold each character, "
    "by its 4-letter index code (archive/searchtext.py). Maintained by the loader.'",
)
SQLITE_AUTOMERGE = 16  # 0006
SQLITE_DEFAULT_AUTOMERGE = 4  # FTS5's own
SQLITE_HASHSIZE = 8 * 1024 * 1024  # 0012: bytes of pending terms before FTS5 writes a segment
SQLITE_DEFAULT_HASHSIZE = 1024 * 1024  # FTS5's own


def create_index(bind) -> None:
    """The index's tables on this engine, filled from the stored texts (0005_search_index)."""
    for stmt in DDL[engine_kind(bind)]["create"]:
        bind.execute(text(stmt))
    rebuild(bind)


def drop_index(bind) -> None:
    for stmt in DDL[engine_kind(bind)]["drop"]:
        bind.execute(text(stmt))


def set_automerge(bind, value: int) -> None:
    """FTS5's automerge on SQLite's index (kept in the database); other engines have none."""
    if engine_kind(bind) == "sqlite":
        bind.execute(text(f"INSERT INTO search_fts(search_fts, rank) VALUES ('automerge', {int(value)})"))


def set_hashsize(bind, value: int) -> None:
    """FTS5's hashsize on SQLite's index (kept in the database): how many bytes of pending terms a
    transaction gathers before FTS5 writes them out as a segment. Other engines have none."""
    if engine_kind(bind) == "sqlite":
        bind.execute(text(f"INSERT INTO search_fts(search_fts, rank) VALUES ('hashsize', {int(value)})"))


def recreate_sqlite_index(bind, char_prefix: bool) -> int:
    """SQLite's index made again, with or without the per-character prefix index, keeping its automerge
    and hashsize settings, and filled again; return how many texts it holds."""
    config = dict(bind.execute(text("SELECT k, v FROM search_fts_config WHERE k IN ('automerge', 'hashsize')")).all())
    bind.execute(text("DROP TABLE search_fts"))
    bind.execute(text(_SQLITE_CREATE.format(f", {SQLITE_CHAR_PREFIX}" if char_prefix else "")))
    if "automerge" in config:
        set_automerge(bind, int(config["automerge"]))
    if "hashsize" in config:
        set_hashsize(bind, int(config["hashsize"]))
    return rebuild(bind)


def create_char_count(bind) -> None:
    """PostgreSQL's per-character count table, filled from every stored text."""
    for stmt in CHAR_COUNT_DDL:
        bind.execute(text(stmt))
    for docs in _stored_batches(bind):
        _count_chars(bind, _char_counts(token_text(t) for _, t in docs))


# ---------------------------------------------------------------- filling it

MAX_POSITION, MAX_POSITIONS = 16383, 256  # PostgreSQL's tsvector limits
_INSERT = {
    "sqlite": "INSERT INTO search_fts(rowid, tokens) VALUES (:k, :t)",
    "postgresql": "INSERT INTO search_doc (doc_key, tokens, lossy) VALUES (:k, CAST(:t AS tsvector), :lossy)",
    "mysql": "INSERT INTO search_doc (doc_key, tokens) VALUES (:k, :t)",
}
_CHAR_COUNT_UPSERT = (
    "INSERT INTO search_char_count (code, docs) VALUES (:c, :n) "
    "ON CONFLICT (code) DO UPDATE SET docs = search_char_count.docs + EXCLUDED.docs"
)


def _tsvector(tokens: list[str]) -> tuple[str, bool]:
    """A tsvector literal with positions, and whether PostgreSQL's limits make it lossy."""
    n = len(tokens)
    if n > MAX_POSITION:  # more than a tsvector's input may hold unmerged: grouped here
        positions: dict[str, list[int]] = {}
        for pos, tok in enumerate(tokens, start=1):
            positions.setdefault(tok, []).append(pos)
        return " ".join(f"{tok}:{','.join(map(str, p[:MAX_POSITIONS]))}" for tok, p in positions.items()), True
    lossy = n > MAX_POSITIONS and max(Counter(tokens).values()) > MAX_POSITIONS
    return " ".join(map("{}:{}".format, tokens, range(1, n + 1))), lossy


def _row(kind: str, key: int, tokens: str) -> dict:
    if kind == "postgresql":
        vec, lossy = _tsvector(tokens.split(" ") if tokens else [])
        return {"k": key, "t": vec, "lossy": lossy}
    return {"k": key, "t": tokens}


def _char_counts(token_texts) -> Counter:
    """How many of these token texts hold each character (a token starts with its first character's code)."""
    counts: Counter = Counter()
    for tokens in token_texts:
        if tokens:
            counts.update({tok[:CODE_WIDTH] for tok in tokens.split(" ")})
    return counts


def _count_chars(bind, counts: Counter) -> None:
    rows = [{"c": c, "n": n} for c, n in sorted(counts.items())]
    for i in range(0, len(rows), BATCH):
        bind.execute(text(_CHAR_COUNT_UPSERT), rows[i : i + BATCH])


def add(bind, docs: Sequence[tuple[int, str]], char_count: bool = False) -> None:
    """Index texts, (key, text) pairs; `char_count`: PostgreSQL's search_char_count exists and counts them."""
    kind = engine_kind(bind)
    tokenized = [(k, token_text(t)) for k, t in docs]
    for i in range(0, len(tokenized), BATCH):
        bind.execute(text(_INSERT[kind]), [_row(kind, k, t) for k, t in tokenized[i : i + BATCH]])
    if kind == "postgresql" and char_count:
        _count_chars(bind, _char_counts(t for _, t in tokenized))


# Every indexed text: titles always, the other fields where they hold something.
_DOCS_SQL = """
SELECT i.date, 'title', a.id, a.title FROM article a JOIN issue i ON i.id = a.issue_id WHERE {where_a}
UNION ALL
SELECT i.date, 'subtitle', a.id, a.subtitle FROM article a JOIN issue i ON i.id = a.issue_id
WHERE a.subtitle IS NOT NULL AND a.subtitle <> '' AND {where_a}
UNION ALL
SELECT i.date, 'kicker', a.id, a.kicker FROM article a JOIN issue i ON i.id = a.issue_id
WHERE a.kicker IS NOT NULL AND a.kicker <> '' AND {where_a}
UNION ALL
SELECT i.date, 'heading', s.id, s.heading FROM section s JOIN article a ON a.id = s.article_id
JOIN issue i ON i.id = a.issue_id WHERE s.heading IS NOT NULL AND s.heading <> '' AND {where_s}
UNION ALL
SELECT i.date, 'paragraph', p.id, p.text FROM paragraph p JOIN article a ON a.id = p.article_id
JOIN issue i ON i.id = a.issue_id WHERE {where_p}
"""


def _stored_batches(bind) -> Iterator[list[tuple[int, str]]]:
    """Every stored text as (key, text), BATCH articles at a time: memory stays bounded."""
    article_ids = list(bind.execute(text("SELECT id FROM article ORDER BY id")).scalars())
    for i in range(0, len(article_ids), BATCH):
        ids = ",".join(str(int(a)) for a in article_ids[i : i + BATCH])
        sql = _DOCS_SQL.format(where_a=f"a.id IN ({ids})", where_s=f"s.article_id IN ({ids})", where_p=f"p.article_id IN ({ids})")
        yield [(doc_key(as_date(d), rid, field), body) for d, field, rid, body in bind.execute(text(sql))]


def has_char_count(bind) -> bool:
    return engine_kind(bind) == "postgresql" and bind.execute(text("SELECT to_regclass('search_char_count') IS NOT NULL")).scalar()


def rebuild(bind) -> int:
    """Empty the index and index every stored text again; return how many."""
    if engine_kind(bind) == "sqlite":
        bind.execute(text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))
    else:
        bind.execute(text("DELETE FROM search_doc"))
    counted = has_char_count(bind)
    if counted:
        bind.execute(text("DELETE FROM search_char_count"))
    count = 0
    for docs in _stored_batches(bind):
        add(bind, docs, counted)
        count += len(docs)
    return count
