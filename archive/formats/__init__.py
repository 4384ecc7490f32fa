"""Text layouts the archive can parse: a registry of format modules.

Each module has NAME, DESCRIPTION, sniff(text) -> score in [0, 1] (how sure it is that the text is in
its layout), TOP_SCORE (the highest score its sniff gives) and parse(text, meta) -> Document. `auto`
takes the highest score; ties go to the earlier format in FORMATS, so text no format recognises gets
the page parser's error.
"""

from __future__ import annotations

from archive.document import Document, ParseError, refused_as
from archive.formats import article, markdown, page
from archive.formats.metadata import Metadata
from archive.limits import check_document

FORMATS = {m.NAME: m for m in (page, article, markdown)}
AUTO = "auto"


def detect(text: str) -> str:
    """The name of the format whose sniff scores `text` highest (the first such in FORMATS).

    A format whose TOP_SCORE does not beat the best score so far is not sniffed: a page (0.9) is not
    read again as an article file (at most 0.8), which cost a tenth of a millisecond a page."""
    best_name, best = next(iter(FORMATS)), -1.0
    for name, module in FORMATS.items():
        if module.TOP_SCORE > best and (score := module.sniff(text)) > best:
            best_name, best = name, score
    return best_name


def parse_text(text: str, fmt: str | None = None, meta: Metadata | None = None) -> tuple[str, Document]:
    """Parse with the named format, or pick one from the content; return (format name, document)."""
    if fmt and fmt != AUTO:
        if fmt not in FORMATS:
            raise ParseError(1, f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
        name = fmt
    else:
        name = detect(text)
    document = FORMATS[name].parse(text, meta)
    with refused_as(name):  # the text was read as `name`: `load -v` says so of this refusal too
        check_document(document)  # a field longer than its column would fail on PostgreSQL and MySQL only
    return name, document
