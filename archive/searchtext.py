"""Search text, pure: character folding, the index tokens of a text, and the query language.

Exact substring search over Chinese without a word segmenter: a text of n characters is indexed as its
n-1 overlapping bigrams plus its last character, each at its own position. A term of k >= 2 characters
occurs in the text exactly when its k-1 bigrams occur at consecutive positions (a phrase query); a term
of one character occurs exactly when some token starts with it (a prefix query). Every character is
indexed, punctuation and spaces too, so the index answers exactly and no candidate needs re-checking.

Tokens are written as fixed-width base-36 code points (4 characters per character), so every engine's
own tokenizer sees plain lower-case ASCII words and none of them splits, folds or drops anything.
"""

from __future__ import annotations

import unicodedata
from collections import namedtuple

from archive.errors import QueryError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without `import typing` (archive search starts fast)
if TYPE_CHECKING:
    from typing import NamedTuple

    class _TermFields(NamedTuple):
        text: str
        exclude: bool = False

    class _QueryFields(NamedTuple):
        terms: tuple[Term, ...]
else:
    # Named tuples, not dataclasses: `import dataclasses` (with inspect) was ~11 ms of `archive search`.
    _TermFields = namedtuple("_TermFields", ("text", "exclude"), defaults=(False,))
    _QueryFields = namedtuple("_QueryFields", ("terms",))

ORDERS = ("date", "relevance")  # how search results can be sorted: newest first, or best match first
CODE_WIDTH = 4  # 36**4 > 0x10FFFF: every code point fits
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class EmptyQuery(QueryError):
    """The query has nothing to search for."""


class _FoldTable(dict):
    """str.translate table built on demand: each character's NFKC form, lower-cased, where that is one
    character. One character in, one out, so offsets in the folded text are offsets in the original."""

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


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Full-width to half-width (１２ -> 12, ，-> ,), compatibility forms to their plain character, Latin
    lower-cased; same length as `text`. Traditional and simplified characters are left as they are."""
    return text.translate(_FOLD)


class _CodeTable(dict):
    """Character -> its token code, computed once per distinct character (indexing is per character)."""

    def __missing__(self, c: str) -> str:
        n, out = ord(c), []
        for _ in range(CODE_WIDTH):
            n, d = divmod(n, 36)
            out.append(_DIGITS[d])
        self[c] = "".join(reversed(out))
        return self[c]


_code = _CodeTable().__getitem__


def doc_tokens(text: str) -> list[str]:
    """The index tokens of a text, in position order: each bigram, then the last character."""
    codes = list(map(_code, fold(text)))
    if not codes:
        return []
    return list(map(str.__add__, codes, codes[1:])) + [codes[-1]]


class _PairTable(dict):
    """Character (as it is in the text, before folding) -> its folded character's code, a space, and
    that code again."""

    def __missing__(self, c: str) -> str:
        code = _code(fold(c))
        self[c] = f"{code} {code}"
        return self[c]


_pair = _PairTable().__getitem__


def token_text(text: str) -> str:
    """The index tokens of a text as one space-separated string: `" ".join(doc_tokens(text))`.

    Bigrams c0c1 c1c2 … c(n-2)c(n-1) c(n-1) are c0, then "c1 c1", "c2 c2", …, "c(n-1) c(n-1)" written
    one after the other. Folding is a character at a time, so the table goes from each character as it
    is to its folded code: one lookup a character and one join, in C (the loader's workers make this
    for every paragraph; two str.translate passes with int keys took twice as long)."""
    if not text:
        return ""
    return _code(fold(text[0])) + "".join(map(_pair, text[1:]))


class Term(_TermFields):
    """One thing to look for: `text` already folded; `exclude` for a -term."""

    __slots__ = ()

    @property
    def tokens(self) -> list[str]:
        """For a phrase query: the bigram tokens; for one character: the prefix its tokens start with."""
        codes = [_code(c) for c in self.text]
        if len(codes) == 1:
            return codes
        return [a + b for a, b in zip(codes, codes[1:])]

    @property
    def is_prefix(self) -> bool:
        return len(self.text) == 1


class Query(_QueryFields):
    """The terms of a query, each once, in the order written."""

    __slots__ = ()

    @property
    def include(self) -> list[Term]:
        return [t for t in self.terms if not t.exclude]

    @property
    def exclude(self) -> list[Term]:
        return [t for t in self.terms if t.exclude]

    def matches(self, text: str) -> bool:
        """The meaning of the query, by brute force: every term in, every -term out."""
        folded = fold(text)
        return all((t.text in folded) != t.exclude for t in self.terms)


def parse_query(query: str) -> Query:
    """Space-separated terms (all must occur), "…" for a phrase with spaces, -term to exclude.

    Everything else is literal: an unmatched quote, a lone -, `*`, `(`, `OR` and `NEAR` are characters
    to search for. A leading - only excludes when something follows it."""
    q = fold(query)
    terms: list[Term] = []
    i, n = 0, len(q)
    while i < n:
        if q[i].isspace():
            i += 1
            continue
        exclude = q[i] == "-" and i + 1 < n and not q[i + 1].isspace()
        start = i + 1 if exclude else i
        if q[start] == '"' and q.find('"', start + 1) > start + 1:
            end = q.find('"', start + 1)
            text, i = q[start + 1 : end], end + 1
        else:
            end = start
            while end < n and not q[end].isspace():
                end += 1
            text, i = q[start:end], end
        terms.append(Term(text, exclude))
    if not terms:
        raise EmptyQuery("nothing to search for: the query is empty")
    return Query(tuple(dict.fromkeys(terms)))


def spans(text: str, query: Query) -> list[tuple[int, int]]:
    """Where the query's included terms occur in `text` (original offsets), left to right, no overlaps."""
    folded = fold(text)
    found = []
    for term in query.include:
        start = folded.find(term.text)
        while start >= 0:
            found.append((start, start + len(term.text)))
            start = folded.find(term.text, start + 1)
    out: list[tuple[int, int]] = []
    for s, e in sorted(found, key=lambda se: (se[0], -se[1])):
        if not out or s >= out[-1][1]:
            out.append((s, e))
    return out
