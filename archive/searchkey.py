"""The search index's key: one number per searchable text (a paragraph, or an article's title, subtitle or
kicker, or a section heading) that sorts newest first: (issue date ordinal << 34) | (field << 31) | row id,
where the row is the paragraph, the article or the section. Walking the index by key descending therefore
walks the archive newest first, and a date range is a key range. Every field but `paragraph` has bit 31
set, so `key & NOT_PARAGRAPH = 0` picks out paragraphs (Datasette's canned query relies on it).

Pure: the index writes (archive.searchindex) and the query side (archive.searchquery) both read it.
"""

from __future__ import annotations

import datetime as dt

ID_MASK = (1 << 31) - 1
FIELD_SHIFT = 31
DATE_SHIFT = 34
FIELD_MASK = 7 << FIELD_SHIFT
NOT_PARAGRAPH = 1 << FIELD_SHIFT
# What a key's row id names, by field: the text it indexes is that row's column of the same name
# (a paragraph's text). Odd codes but paragraph's: bit 31 says "not a paragraph".
FIELDS = {"paragraph": 0, "title": 1, "subtitle": 3, "kicker": 5, "heading": 7}
FIELD_NAMES = {code: name for name, code in FIELDS.items()}
ARTICLE_FIELDS = ("title", "subtitle", "kicker")  # row id is the article's; heading's is the section's


def doc_key(date: dt.date, row_id: int, field: str = "paragraph") -> int:
    if not 0 < row_id <= ID_MASK:
        raise ValueError(f"row id {row_id} does not fit the search key (31 bits)")
    return (date.toordinal() << DATE_SHIFT) | (FIELDS[field] << FIELD_SHIFT) | row_id


def split_key(key: int) -> tuple[str, int]:
    """(field, id of the paragraph, article or section that holds the text)."""
    return FIELD_NAMES[(key & FIELD_MASK) >> FIELD_SHIFT], key & ID_MASK


def key_range(date_from: dt.date | None, date_to: dt.date | None) -> tuple[int | None, int | None]:
    """The lowest and highest key of texts in issues of these dates (None: unbounded)."""
    lo = date_from.toordinal() << DATE_SHIFT if date_from else None
    hi = ((date_to.toordinal() + 1) << DATE_SHIFT) - 1 if date_to else None
    return lo, hi
