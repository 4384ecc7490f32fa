"""One article per file, as digital-edition crawls save them.

Lines 1–3 are the title block by position: the kicker (引题, may be an empty line), the title (主题),
the subtitle (副题, may be empty or missing). Then the body, one paragraph per line as the crawl prints
it (indented with U+3000): no line is split or joined, except that one or two short unpunctuated lines
before a paragraph are a heading. Not body text: bylines padded with U+00A0 at its head or wrapped at its
end (`（本报记者…报道）`), photo credits (`…摄（…）`), content credits (`图片来源：…`, `插图：…`), page
staff (`版式设计：…`, `本版统筹：…`) and the source line (`《人民日报》（2020年05月21日 第11版）`).
A dateline opening the first paragraph (`本报北京5月20日电（记者…）`) stays body text.
An article may have no body at all (an advertisement, a photo or painting whose title is its content).
The file does not name its newspaper or date unless it has such a source line: those come from
--newspaper/--date/--page or the file name.
"""

from __future__ import annotations

import re
from dataclasses import replace

from archive.document import Contributor, Document, IssueInfo, NewspaperInfo, ParseError, refused_as
from archive.formats import credits
from archive.formats.blocks import (
    EDITOR_LINE,
    TITLE_MAX,
    ArticleBuilder,
    Block,
    Line,
    fold,
    is_heading_line,
    is_masthead_date,
)
from archive.formats.metadata import Metadata, source_line

NAME = "article"
TOP_SCORE = 0.8  # the highest score sniff() gives
DESCRIPTION = "one article per file (crawl): 引题, 主题, 副题, U+3000-indented paragraphs; newspaper/date from options or file name"

RAW_LINES = re.compile(r"\r\n|\r|\n")
STRIP = " \t\u3000\u00a0\ufeff"
SOURCE_LINE = re.compile(r"^《[^》]{2,30}》\s*[（(].*\d{4}\s*年.*[）)]$")
URL_LINE = re.compile(r"^(?:原文链接|原文地址|链接|来源|URL)?\s*[:：]?\s*https?://\S+$", re.IGNORECASE)
TITLE_SLOTS = 3
SENTENCE_END = re.compile(r"[。！？!?…][”’」』）)]*$")  # a closing quote alone ends a phrase, not a sentence
# A heading is printed on one line, or two; three or more short lines in a row are a list (a table of
# contents, winners, the articles of a law) or verse, one paragraph each.
HEADING_LINES = 2
# Lines that belong to another layout: a Markdown heading or front matter, a metadata field.
MARKDOWN_LINE = re.compile(r"^(?:#{1,6}\s|---\s*$)")
METADATA_LINE = re.compile(
    r"^(?:作者|日期|时间|版次|版面|版名|栏目|标题|来源|出处|author|date|title|section(?:_name)?|page)\s*[:：]", re.IGNORECASE
)


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
    return credits.byline_credit(text) or credits.photo_credit(text) or credits.label_credit(text)


def furniture(text: str) -> str | None:
    """What a non-body line is: `source` (source line or URL), `staff`, `credit`; None for body text."""
    if SOURCE_LINE.match(text) or URL_LINE.match(text):
        return "source"
    if EDITOR_LINE.match(fold(text)) or credits.is_staff(text):
        return "staff"
    if _credit(text):
        return "credit"
    return None


def sniff(text: str) -> float:
    """Most body lines indented with U+3000 below a short unindented title block."""
    lines = _lines(text[:4000])
    head = [ln.text for ln, _ in lines[:TITLE_SLOTS] if ln.text]
    body = [(ln, ind) for ln, ind in lines[TITLE_SLOTS:] if ln.text]
    if not head:
        # an indented body under an empty title block is an article file that lost its title: say so
        indents = [ind for _, ind in body]
        return 0.3 if indents and sum(indents) / len(indents) >= 0.5 else 0.0
    if any(is_masthead_date(t) for t in head) or MARKDOWN_LINE.match(head[0]):
        return 0.0
    titled = len(head[0]) <= TITLE_MAX and not SENTENCE_END.search(head[0])
    body = [(ln, ind) for ln, ind in body if not furniture(ln.text)]
    if not body:
        # a title alone, or over credits: an advertisement or a photo; no other layout reads it
        return 0.5 if titled else 0.0
    indented = sum(1 for _, ind in body if ind) / len(body)
    return 0.8 if indented >= 0.5 else 0.3 if indented > 0 else 0.05


def _refuse_other_layouts(lines: list[tuple[Line, bool]]) -> None:
    """A file in another layout read as this one would store its markup as the title: refuse it."""
    first = next((ln for ln, _ in lines if ln.text), None)
    if first is not None and MARKDOWN_LINE.match(first.text):
        raise ParseError(first.number, f"{first.text[:20]!r} is Markdown, not an article file's title block (use --format markdown)")


def _title_block(lines: list[tuple[Line, bool]]) -> tuple[str | None, str, str | None, int]:
    """Kicker, title, subtitle and the index where the body starts."""
    slots: list[Line] = []
    for ln, indented in lines[:TITLE_SLOTS]:
        if METADATA_LINE.match(ln.text):
            raise ParseError(ln.number, f"metadata {ln.text[:20]!r} where the title block should be: not an article file")
        # titles may be centred with U+3000 too: an indented line is body only when it ends a sentence
        if (indented and SENTENCE_END.search(ln.text)) or (ln.text and furniture(ln.text)):
            break
        slots.append(ln)
    body_start = len(slots)
    filled = [s for s in slots if s.text]
    if not filled:
        raise ParseError(1, "no title: expected 引题 (or an empty line), 主题 and 副题 on the first three lines")
    if len(filled) == 1:
        return None, filled[0].text, None, body_start
    kicker, title = slots[0].text or None, slots[1].text
    subtitle = slots[2].text if len(slots) > 2 else None
    if not title:
        raise ParseError(2, "no title (主题) on line 2")
    if subtitle:
        subtitle = subtitle.lstrip("—-－").strip() or None
    return kicker, title, subtitle or None, body_start


def _heading_like(text: str) -> bool:
    # a line ending in a colon opens what follows (第三条　下列行为属于违法行为：), it heads nothing
    return is_heading_line(text) and not text.endswith(("：", ":"))


def _body(builder: ArticleBuilder, lines: list[Line]) -> None:
    """Each line a paragraph; a run of one or two heading-like lines right before a paragraph, a heading."""
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _heading_like(lines[j].text):
            j += 1
        if 0 < j - i <= HEADING_LINES and j < len(lines):
            builder.heading(" ".join(ln.text for ln in lines[i:j]))
            i = j
        for ln in lines[i : max(j, i + 1)]:
            builder.paragraph(Block.start(ln))
        i = max(j, i + 1)


@refused_as(NAME)
def parse(text: str, meta: Metadata | None = None) -> Document:
    """Parse one article file; newspaper and date come from a source line in it, else from `meta`."""
    meta = meta or Metadata()
    lines = _lines(text)
    _refuse_other_layouts(lines)
    kicker, title, subtitle, start = _title_block(lines)
    said: dict = {}
    bylines: list[str] = []
    # writers first, then photographers, then other credits, then reporters only a dateline names
    writers: list[Contributor] = []
    photographers: list[Contributor] = []
    others: list[Contributor] = []
    body: list[Line] = []
    for line, _ in lines[start:]:
        t = line.text
        if not t:
            continue
        kind = furniture(t)
        if kind == "source":
            said.update(source_line(t))
        elif kind == "credit":
            if found := credits.byline_credit(t):
                writers.extend(found.people)
            elif found := credits.photo_credit(t):
                photographers.extend(found.people)
            else:
                found = credits.label_credit(t)
                assert found is not None, "furniture() calls a line a credit only when one of the three reads it"
                others.extend(found.people)
            bylines.append(found.text)
        elif kind is None:
            body.append(line)
    builder = ArticleBuilder(meta.ordinal or 1, title, subtitle, None, (), run_in_leads=False)
    _body(builder, body)
    article = builder.build()
    dateline = credits.dateline_credit(body[0].text) if body else ()
    newspaper = said.get("newspaper") or meta.require("newspaper")
    date = said.get("date") or meta.require("date")
    article = replace(
        article,
        byline="；".join(bylines) or None,
        contributors=credits.unique(writers + photographers + others + list(dateline)),
        kicker=kicker,
        page=said.get("page") or meta.page,
        page_name=meta.page_name,
        source_url=said.get("source_url"),
    )
    return Document(NewspaperInfo(newspaper), IssueInfo(date), (article,))
