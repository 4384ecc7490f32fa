"""Searching the archive: a query in, one page of hits and their count out. A hit is a paragraph, or an
article's title, subtitle or kicker, or a section heading; each says which (`hit`)."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple

from archive.output import render, to_json
from archive.readdb import text  # SQLAlchemy's text() where SQLAlchemy runs the search, else plain SQL
from archive.searchkey import ARTICLE_FIELDS, key_range, split_key
from archive.searchquery import Candidates, char_count, id_list, stored_docs
from archive.queries import WITH_ISSUE
from archive.searchtext import Query, parse_query, spans

TYPE_CHECKING = False  # typing.TYPE_CHECKING without `import typing`
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, NamedTuple

    from archive.readdb import Bind

    class Filters(NamedTuple):
        newspaper: str | None = None
        date_from: dt.date | None = None
        date_to: dt.date | None = None
else:
    # a named tuple, not a dataclass: `import dataclasses` (with inspect) was ~11 ms of `archive search`
    Filters = namedtuple("Filters", ("newspaper", "date_from", "date_to"), defaults=(None, None, None))


__all__ = ["Filters", "render_hits", "search"]

PG_WINDOW = 2000  # newest index rows tried by a plain walk before the GIN index is used
ALL = 1 << 62  # LIMIT for "every hit": all engines take a number here, not NULL
SNIPPET_BEFORE = 20
SNIPPET_AFTER = 40
TABLE_CONTEXT = 6  # characters before the match in a table cell, which holds about 20

def search(
    session: Bind,
    query: str,
    *,
    filters: Filters = Filters(),
    limit: int = 20,
    offset: int = 0,
    order: str = "date",
) -> dict:
    """{"query", "total", "offset", "limit", "hits"}: hits newest first (or best first), snippets marked."""
    q = parse_query(query)
    total, keys = find_keys(session, q, filters=filters, limit=limit, offset=offset, order=order)
    hits = hits_for_keys(session, q, keys)
    return {"query": query, "total": total, "offset": offset, "limit": limit, "hits": hits}


def find_keys(
    session: Bind,
    q: Query,
    *,
    filters: Filters = Filters(),
    limit: int | None = 20,
    offset: int = 0,
    order: str = "date",
    count: bool = True,
) -> tuple[int | None, list[int]]:
    """(number of hits, index keys of one page of them); limit None for all, count False to skip
    counting (None is returned) when only the page is wanted."""
    lo, hi = key_range(filters.date_from, filters.date_to)
    cand = Candidates(session, q, lo=lo, hi=hi, newspaper=filters.newspaper)
    k, params, body = cand.key_col, cand.params, cand.from_where()
    one_char = len(q.terms) == 1 and not q.terms[0].exclude and q.terms[0].is_prefix
    counted = count and cand.lossy and one_char and not cand.narrowed  # PostgreSQL keeps these counts in a table
    total: int | None
    if counted:
        total = char_count(session, q.terms[0])
    else:
        total = session.execute(text(f"SELECT count(*) FROM {body}"), params).scalar_one() if count else None
    ranked = order == "relevance" and cand.rank
    order_by = f"{cand.rank}, {k} DESC" if ranked else f"{k} DESC"
    if limit is None:
        limit = ALL
    if cand.lossy and not ranked:
        keys = _pg_newest(session, cand, offset + limit)
    else:
        keys = list(
            session.execute(
                text(f"SELECT {k} AS k FROM {body} ORDER BY {order_by} LIMIT :lim OFFSET :off"),
                {**params, "lim": offset + limit if cand.lossy else limit, "off": 0 if cand.lossy else offset},
            ).scalars()
        )
    if cand.lossy:
        extra = _lossy_hits(session, q, cand)
        if total is not None and not counted:  # the count table counted lossy texts already
            total += len(extra)
        keys = (keys + extra if ranked else sorted(keys + extra, reverse=True))[offset : offset + limit]
    return total, keys


def _pg_newest(session: Bind, cand: Candidates, n: int) -> list[int]:
    """The newest n hits on PostgreSQL. Asked for them in one query, the planner walks the primary key
    backwards testing every row: instant for a common term, a scan of the whole table for a rare one
    (measured: 3.3 s on 1,000,000 paragraphs). So walk a bounded window of the newest rows first, and
    when it holds fewer than n hits, take every hit from the GIN index and sort those."""
    keys = list(
        session.execute(
            text(f"SELECT d.doc_key FROM {cand.from_where(cand.newest_window())} ORDER BY d.doc_key DESC LIMIT :lim"),
            {**cand.params, "window": PG_WINDOW, "lim": n},
        ).scalars()
    )
    if len(keys) >= n:
        return keys
    return list(
        session.execute(
            text(f"WITH m AS MATERIALIZED (SELECT d.doc_key FROM {cand.from_where()}) SELECT doc_key FROM m ORDER BY doc_key DESC LIMIT :lim"),
            {**cand.params, "lim": n},
        ).scalars()
    )


def _lossy_hits(session: Bind, q: Query, cand: Candidates) -> list[int]:
    """Keys of PostgreSQL rows whose tsvector lost positions (very long or repetitive texts): whether
    they match is decided on the text itself."""
    lossy_keys = set(session.execute(text(f"SELECT d.doc_key FROM {cand.lossy_rows()}"), cand.params).scalars())
    if not lossy_keys:
        return []
    docs = stored_docs(session, _article_ids(session, lossy_keys))
    return sorted((key for key, t in docs if key in lossy_keys and q.matches(t)), reverse=True)


def _article_ids(session: Bind, keys: Iterable[int]) -> set[int]:
    ids: set[int] = set()
    by_field: dict[str, list[int]] = {}
    for key in keys:
        field, rid = split_key(key)
        by_field.setdefault(field, []).append(rid)
    for field in ARTICLE_FIELDS:
        ids.update(by_field.get(field, ()))
    for table, field in (("paragraph", "paragraph"), ("section", "heading")):
        if by_field.get(field):
            ids |= set(session.execute(text(f"SELECT article_id FROM {table} WHERE id IN ({id_list(by_field[field])})")).scalars())
    return ids


def hits_for_keys(session: Bind, q: Query, keys: list[int]) -> list[dict]:
    """The hits for index keys, in the order given."""
    wanted: dict[str, list[int]] = {}
    for field, rid in map(split_key, keys):
        wanted.setdefault(field, []).append(rid)
    found: dict[tuple[str, int], dict] = {}
    if wanted.get("paragraph"):
        rows = session.execute(text(
            "SELECT paragraph.id, paragraph.text, article.id, article.title, section.heading, issue.date, newspaper.name "
            "FROM paragraph JOIN section ON section.id = paragraph.section_id JOIN article ON article.id = paragraph.article_id"
            f"{WITH_ISSUE} WHERE paragraph.id IN ({id_list(wanted['paragraph'])})"
        ))
        for pid, body, aid, title, heading, date, paper in rows:
            found[("paragraph", pid)] = _hit(q, "paragraph", paper, date, aid, title, heading, pid, body)
    if wanted.get("heading"):
        rows = session.execute(text(
            "SELECT section.id, section.heading, article.id, article.title, issue.date, newspaper.name "
            f"FROM section JOIN article ON article.id = section.article_id{WITH_ISSUE} WHERE section.id IN ({id_list(wanted['heading'])})"
        ))
        for sid, heading, aid, title, date, paper in rows:
            found[("heading", sid)] = _hit(q, "heading", paper, date, aid, title, heading, None, heading)
    article_ids = {rid for field in ARTICLE_FIELDS for rid in wanted.get(field, ())}
    if article_ids:
        rows = session.execute(text(
            "SELECT article.id, article.title, article.subtitle, article.kicker, issue.date, newspaper.name "
            f"FROM article{WITH_ISSUE} WHERE article.id IN ({id_list(article_ids)})"
        ))
        for aid, title, subtitle, kicker, date, paper in rows:
            texts = {"title": title, "subtitle": subtitle, "kicker": kicker}
            for field in ARTICLE_FIELDS:
                if texts[field]:
                    found[(field, aid)] = _hit(q, field, paper, date, aid, title, None, None, texts[field])
    return [found[split_key(k)] for k in keys if split_key(k) in found]


def _hit(q: Query, field: str, paper: str, date: dt.date | str, article_id: int, title: str | None,
         heading: str | None, paragraph_id: int | None, body: str) -> dict[str, Any]:
    where = spans(body, q)
    start = max(0, where[0][0] - SNIPPET_BEFORE) if where else 0
    end = min(len(body), (where[0][1] if where else 0) + SNIPPET_AFTER)
    return {
        "newspaper": paper,
        "date": date.isoformat() if isinstance(date, dt.date) else str(date),
        "article_id": article_id,
        "title": title,
        "heading": heading,
        "paragraph_id": paragraph_id,
        "hit": field,  # which text matched: title, subtitle, kicker, heading or paragraph
        "snippet": body[start:end],
        "snippet_start": start,
        "matches": [{"start": s, "end": e} for s, e in where],
    }


def marked_snippet(hit: dict, before: int | None = None) -> str:
    """The snippet with each match in brackets and … where text was cut: …公安[民警]旁听. `before`
    trims the context ahead of the first match to that many characters."""
    snippet, base = hit["snippet"], hit["snippet_start"]
    if before is not None and hit["matches"]:
        cut = max(0, hit["matches"][0]["start"] - base - before)
        snippet, base = snippet[cut:], base + cut
    out, pos = [], 0
    for m in hit["matches"]:
        s, e = m["start"] - base, m["end"] - base
        if s < pos or e > len(snippet):
            continue
        out += [snippet[pos:s], "[", snippet[s:e], "]"]
        pos = e
    out.append(snippet[pos:])
    return ("…" if base > 0 else "") + "".join(out)


TABLE_COLUMNS = ("newspaper", "date", "article_id", "title", "heading", "paragraph_id", "hit", "snippet")
CSV_COLUMNS = TABLE_COLUMNS + ("snippet_start", "match_start", "match_end")


def render_hits(found: dict, fmt: str) -> str:
    """Table (matches in [brackets], then the count), csv (first match's offsets) or json (everything)."""
    if fmt == "json":
        return to_json(found)
    hits = found["hits"]
    if fmt == "csv":
        rows = [
            {**h, "match_start": h["matches"][0]["start"] if h["matches"] else None,
             "match_end": h["matches"][0]["end"] if h["matches"] else None}
            for h in hits
        ]
        return render(rows, "csv", CSV_COLUMNS)
    rows = [{**h, "snippet": marked_snippet(h, TABLE_CONTEXT)} for h in hits]
    first = found["offset"] + 1
    shown = f", showing {first}-{found['offset'] + len(hits)}" if hits else ""
    return (render(rows, "table", TABLE_COLUMNS) if hits else "") + f"{found['total']} hits{shown}\n"
