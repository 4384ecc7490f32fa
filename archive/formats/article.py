"""One article per file, as digital-edition crawls save them.

Lines 1–3 are the title block by position: the kicker (引题, may be an empty line), the title (主题),
the subtitle (副题, may be empty or missing). Then the body: paragraphs indented with U+3000, bylines
padded with U+00A0 at its head or wrapped at its end (`（本报记者…报道）`), photo credits (`…摄（…）`),
a dateline opening the first paragraph (`本报北京5月20日电（记者…）`, kept as body text), and closing
page furniture (`版式设计：…`, `《人民日报》（2020年05月21日 第11版）`) that is not body text.
The file does not name its newspaper or date unless it has such a source line: those come from
--newspaper/--date/--page or the file name.
"""

from __future__ import annotations

import re
from dataclasses import replace

from archive.document import Contributor, Document, IssueInfo, NewspaperInfo, ParseError
from archive.formats import credits
from archive.formats.metadata import Metadata, source_line
from archive.formats.page import (
    EDITOR_LINE,
    ArticleBuilder,
    BodyReader,
    Line,
    fold,
    is_heading_line,
    is_masthead_date,
)

NAME = "article"
DESCRIPTION = "one article per file (crawl): 引题, 主题, 副题, U+3000-indented paragraphs; newspaper/date from options or file name"

RAW_LINES = re.compile(r"\r\n|\r|\n")
STRIP = " \t\u3000\u00a0\ufeff"
SOURCE_LINE = re.compile(r"^《[^》]{2,30}》\s*[（(].*\d{4}\s*年.*[）)]$")
URL_LINE = re.compile(r"^(?:原文链接|原文地址|链接|来源|URL)?\s*[:：]?\s*https?://\S+$", re.IGNORECASE)
TITLE_SLOTS = 3
SENTENCE_END = re.compile(r"[。！？!?…][”’」』）)]*$")  # a closing quote alone ends a phrase, not a sentence


def _indented(raw: str) -> bool:
    raw = raw.lstrip("\ufeff")
    return raw.startswith(("\u3000", "\t", "  "))


def _lines(text: str) -> list[tuple[Line, bool]]:
    """Numbered lines stripped of padding, each with whether it was indented."""
    return [
        (Line(n, raw.strip(STRIP)), _indented(raw))
        for n, raw in enumerate(RAW_LINES.split(text), start=1)
    ]


def _credit(text: str) -> credits.Credit | None:
    return credits.byline_credit(text) or credits.photo_credit(text)


def sniff(text: str) -> float:
    """Most body lines indented with U+3000 below a short unindented title block."""
    lines = _lines(text[:4000])
    head = [ln.text for ln, _ in lines[:TITLE_SLOTS] if ln.text]
    body = [(ln, ind) for ln, ind in lines[TITLE_SLOTS:] if ln.text]
    if not head or not body or any(is_masthead_date(t) for t in head) or head[0].startswith(("---", "#")):
        return 0.0
    indented = sum(1 for _, ind in body if ind) / len(body)
    return 0.8 if indented >= 0.5 else 0.3 if indented > 0 else 0.05


def _title_block(lines: list[tuple[Line, bool]]) -> tuple[str | None, str, str | None, int]:
    """Kicker, title, subtitle and the index where the body starts."""
    slots: list[str] = []
    for ln, indented in lines[:TITLE_SLOTS]:
        # titles may be centred with U+3000 too: an indented line is body only when it ends a sentence
        if (indented and SENTENCE_END.search(ln.text)) or (ln.text and _credit(ln.text)):
            break
        slots.append(ln.text)
    body_start = len(slots)
    filled = [s for s in slots if s]
    if not filled:
        raise ParseError(1, "no title: expected 引题 (or an empty line), 主题 and 副题 on the first three lines")
    if len(filled) == 1:
        return None, filled[0], None, body_start
    kicker, title = slots[0] or None, slots[1]
    subtitle = slots[2] if len(slots) > 2 else None
    if not title:
        raise ParseError(2, "no title (主题) on line 2")
    if subtitle:
        subtitle = subtitle.lstrip("—-－").strip() or None
    return kicker, title, subtitle or None, body_start


def parse(text: str, meta: Metadata | None = None) -> Document:
    """Parse one article file; newspaper and date come from a source line in it, else from `meta`."""
    meta = meta or Metadata()
    lines = _lines(text)
    kicker, title, subtitle, start = _title_block(lines)
    said: dict = {}
    bylines: list[str] = []
    # writers first, then photographers, then reporters only a dateline names
    writers: list[Contributor] = []
    photographers: list[Contributor] = []
    dateline: tuple[Contributor, ...] = ()
    reader = BodyReader(ArticleBuilder(meta.ordinal or 1, title, subtitle, None, ()))
    first_paragraph = None
    for line, indented in lines[start:]:
        t = line.text
        if not t:
            continue
        if EDITOR_LINE.match(fold(t)):
            continue
        if SOURCE_LINE.match(t) or URL_LINE.match(t):
            said.update(source_line(t))
            continue
        if found := credits.byline_credit(t):
            writers.extend(found.people)
        elif found := credits.photo_credit(t):
            photographers.extend(found.people)
        if found:
            bylines.append(found.text)
            continue
        if reader.joins(line, new_paragraph=indented):
            continue
        if is_heading_line(t):
            reader.add_heading(t)
            continue
        if first_paragraph is None:
            first_paragraph = t
            dateline = credits.dateline_credit(t)
        reader.add_paragraph(line)
    article = reader.finish()
    if not article.paragraphs:
        raise ParseError(lines[start - 1][0].number if start else 1, f"article {title!r} has no body text")
    newspaper = said.get("newspaper") or meta.require("newspaper")
    date = said.get("date") or meta.require("date")
    article = replace(
        article,
        byline="；".join(bylines) or None,
        contributors=credits.unique(writers + photographers + list(dateline)),
        kicker=kicker,
        page=said.get("page") or meta.page,
        page_name=meta.page_name,
        source_url=said.get("source_url"),
    )
    return Document(NewspaperInfo(newspaper), IssueInfo(date), (article,))
