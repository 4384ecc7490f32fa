"""The search index's query side: the SQL that finds the keys (archive.searchkey) of the texts a query
matches, on each engine, and the stored texts behind keys. Reads only; the index writes are in
archive.searchindex, which reads the stored texts through this module too.

- SQLite: an FTS5 MATCH expression on `search_fts`.
- PostgreSQL: a tsquery on `search_doc.tokens`; rows whose tsvector lost positions (`lossy`) are
  matched on their text instead.
- MariaDB/MySQL: a LIKE per term on `search_doc.tokens` (archive.searchindex says why it scans).
"""

from __future__ import annotations

import datetime as dt

# No SQLAlchemy at import: `archive search` reads through archive.readdb's lean connection.
from archive.readdb import text
from archive.searchkey import FIELD_MASK, FIELD_NAMES, FIELD_SHIFT, FIELDS, ID_MASK, doc_key
from archive.searchtext import Query, Term

TYPE_CHECKING = False  # typing.TYPE_CHECKING without `import typing`
if TYPE_CHECKING:
    from typing import Any, Iterable

    from archive.readdb import Bind


def engine_kind(bind: Bind) -> str:
    """sqlite, postgresql or mysql (MariaDB too): which index a bind's database has."""
    holder: Any = bind.get_bind() if hasattr(bind, "get_bind") else bind  # a Session's engine; a Reader or Connection itself
    name: str = holder.dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


def id_list(ids: Iterable[int]) -> str:
    """Ids written into SQL as a comma list: integers (from keys or the database), not bound one by one."""
    return ",".join(str(int(i)) for i in ids)


# ---------------------------------------------------------------- the texts behind keys

# Every indexed text: titles always (an article has one), the other fields where they hold something.
_DOCS_SQL = """
SELECT i.date, {title}, a.id, a.title FROM article a JOIN issue i ON i.id = a.issue_id WHERE {where_a}
UNION ALL
SELECT i.date, {subtitle}, a.id, a.subtitle FROM article a JOIN issue i ON i.id = a.issue_id
WHERE a.subtitle IS NOT NULL AND a.subtitle <> '' AND {where_a}
UNION ALL
SELECT i.date, {kicker}, a.id, a.kicker FROM article a JOIN issue i ON i.id = a.issue_id
WHERE a.kicker IS NOT NULL AND a.kicker <> '' AND {where_a}
UNION ALL
SELECT i.date, {heading}, s.id, s.heading FROM section s JOIN article a ON a.id = s.article_id
JOIN issue i ON i.id = a.issue_id WHERE s.heading IS NOT NULL AND s.heading <> '' AND {where_s}
UNION ALL
SELECT i.date, {paragraph}, p.id, p.text FROM paragraph p JOIN article a ON a.id = p.article_id
JOIN issue i ON i.id = a.issue_id WHERE {where_p}
"""


def _date(v: object) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def stored_docs(bind: Bind, article_ids: Iterable[int] | None = None) -> list[tuple[int, str]]:
    """(key, text) of every stored text the index holds (of the given articles, or all)."""
    if article_ids is None:
        where = dict(where_a="1 = 1", where_s="1 = 1", where_p="1 = 1")
    else:
        ids = id_list(article_ids)
        if not ids:
            return []
        where = dict(where_a=f"a.id IN ({ids})", where_s=f"s.article_id IN ({ids})", where_p=f"p.article_id IN ({ids})")
    sql = _DOCS_SQL.format(**where, **FIELDS)
    return [(doc_key(_date(d), rid, FIELD_NAMES[int(f)]), body) for d, f, rid, body in bind.execute(text(sql))]


def char_count(bind: Bind, term: Term) -> int:
    """How many indexed texts hold this one-character term (PostgreSQL's search_char_count)."""
    found = bind.execute(text("SELECT docs FROM search_char_count WHERE code = :c"), {"c": term.tokens[0]}).scalar()
    return int(found or 0)


# ---------------------------------------------------------------- match expressions


def _fts5_term(t: Term) -> str:
    return f'"{t.tokens[0]}"*' if t.is_prefix else '"' + " ".join(t.tokens) + '"'


def _tsquery_term(t: Term) -> str:
    return f"{t.tokens[0]}:*" if t.is_prefix else "(" + " <-> ".join(t.tokens) + ")"


def _like_term(t: Term) -> str:
    return "% " + " ".join(t.tokens) + ("%" if t.is_prefix else " %")


def fts5_match(query: Query) -> str:
    """The FTS5 MATCH expression for a query with at least one term to include (SQLite index)."""
    m = "(" + " AND ".join(_fts5_term(t) for t in query.include) + ")"
    for t in query.exclude:
        m = f"({m} NOT {_fts5_term(t)})"
    return m


# The article a key's text belongs to, in SQL: a paragraph's or a heading's article, or the key's own id.
_NEWSPAPER_FILTER = f"""EXISTS (SELECT 1 FROM article fa JOIN issue fi ON fi.id = fa.issue_id
JOIN newspaper fn ON fn.id = fi.newspaper_id WHERE fn.name = :newspaper AND fa.id = CASE ({{k}} & {FIELD_MASK})
WHEN 0 THEN (SELECT fp.article_id FROM paragraph fp WHERE fp.id = ({{k}} & {ID_MASK}))
WHEN {FIELDS["heading"] << FIELD_SHIFT} THEN (SELECT fs.article_id FROM section fs WHERE fs.id = ({{k}} & {ID_MASK}))
ELSE ({{k}} & {ID_MASK}) END)"""


class Candidates:
    """The index rows (table alias d) that a query matches on one engine, narrowed to a key range and a
    newspaper: `from_where()` is the SQL after FROM, `key_col` the key's column in it, `rank` an ORDER BY
    for relevance where the engine has one, and `params` the parameters all of them take."""

    def __init__(self, bind: Bind, query: Query, *, lo: int | None = None, hi: int | None = None, newspaper: str | None = None):
        self.kind = engine_kind(bind)
        self.query = query
        self.params: dict = {}
        self.table = "search_fts AS d" if self.kind == "sqlite" else "search_doc AS d"
        self.key_col = "d.rowid" if self.kind == "sqlite" else "d.doc_key"
        self._match, self.rank = self._match_conditions()
        self._ranges = self._key_range(lo, hi)
        self._filters = self._ranges + (self._newspaper(newspaper) if newspaper else [])

    @property
    def narrowed(self) -> bool:
        """Whether a date range or a newspaper narrows the matches."""
        return bool(self._filters)

    @property
    def lossy(self) -> bool:
        """Whether some index rows cannot say whether they match (PostgreSQL's `lossy` rows): from_where
        leaves them out, lossy_rows lists them, and their texts decide."""
        return self.kind == "postgresql"

    def from_where(self, source: str | None = None) -> str:
        """`table WHERE conditions` selecting the matching rows; `source`: a table expression aliased d to
        read instead of the whole index (newest_window)."""
        conditions = self._match + self._filters + (["NOT d.lossy"] if self.lossy else [])
        return f"{source or self.table} WHERE " + " AND ".join(conditions)

    def lossy_rows(self) -> str:
        """`table WHERE conditions` selecting PostgreSQL's lossy rows in the range and newspaper, matching or not."""
        return f"{self.table} WHERE " + " AND ".join(self._filters + ["d.lossy"])

    def newest_window(self) -> str:
        """A source for from_where on PostgreSQL: the newest :window index rows in the key range."""
        inner = f"SELECT * FROM {self.table}" + "".join(f" {'AND' if i else 'WHERE'} {r}" for i, r in enumerate(self._ranges))
        return f"({inner} ORDER BY d.doc_key DESC LIMIT :window) AS d"

    def _match_conditions(self) -> tuple[list[str], str | None]:
        inc, exc = self.query.include, self.query.exclude
        if self.kind == "sqlite":
            if inc:
                self.params["m"] = fts5_match(self.query)
                return ["search_fts MATCH :m"], "d.rank"
            self.params["m"] = " OR ".join(_fts5_term(t) for t in exc)
            return ["d.rowid NOT IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :m)"], None
        if self.kind == "postgresql":
            self.params["m"] = " & ".join([_tsquery_term(t) for t in inc] + ["!" + _tsquery_term(t) for t in exc])
            return ["d.tokens @@ CAST(:m AS tsquery)"], "ts_rank(d.tokens, CAST(:m AS tsquery)) DESC"
        conditions = []
        for i, t in enumerate(inc + exc):
            self.params[f"p{i}"] = _like_term(t)
            conditions.append(("NOT " if t.exclude else "") + f"CONCAT(' ', d.tokens, ' ') LIKE :p{i}")
        return conditions, None

    def _key_range(self, lo: int | None, hi: int | None) -> list[str]:
        ranges = []
        if lo is not None:
            ranges.append(f"{self.key_col} >= :lo")
            self.params["lo"] = lo
        if hi is not None:
            ranges.append(f"{self.key_col} <= :hi")
            self.params["hi"] = hi
        return ranges

    def _newspaper(self, name: str) -> list[str]:
        self.params["newspaper"] = name
        return [_NEWSPAPER_FILTER.format(k=self.key_col)]
