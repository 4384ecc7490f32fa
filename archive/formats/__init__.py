"""Text layouts the archive can parse: a registry of format modules, each with parse(text) -> Document."""

from __future__ import annotations

from archive.document import Document, ParseError
from archive.formats import page

FORMATS = {page.NAME: page}


def parse_text(text: str, fmt: str | None = None) -> tuple[str, Document]:
    """Parse with the named format, or pick one from the content; return (format name, document)."""
    if fmt and fmt != "auto":
        if fmt not in FORMATS:
            raise ParseError(1, f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
        return fmt, FORMATS[fmt].parse(text)
    return page.NAME, page.parse(text)
