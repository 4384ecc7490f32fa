"""Lines and blocks, shared by the formats (page, article, markdown): numbered lines, the shapes a line
may have (a heading, a masthead date, a staff line), the paragraph being assembled from lines, run-in
leads, and the article being built from headings and paragraphs."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from archive.document import Article, Contributor, Paragraph, Section

DATE_LINE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(星期[一二三四五六日天])?$")
# Republican-era mastheads count years from 1912 (民国元年) in Chinese or financial numerals, often in
# traditional characters: 中華民國貳拾捌年四月廿一日 is 1939-04-21.
_CN_NUMBER = "〇○零元一二三四五六七八九十廿卅壹貳贰參叁肆伍陸陆柒捌玖拾0-9"
MINGUO_DATE = re.compile(
    rf"^(?:中[华華])?民[国國]\s*([{_CN_NUMBER}]{{1,6}})\s*年\s*([{_CN_NUMBER}]{{1,3}})\s*月\s*([{_CN_NUMBER}]{{1,4}})\s*[日号號]"
    r"\s*((?:星期|[礼禮]拜)[一二三四五六日天])?$"
)

# Page furniture naming the page's staff: closes an inside-page header, ends an article file.
EDITOR_LINE = re.compile(
    r"^[（(]?\s*(?:责任编辑|责编|本版编辑|本版统筹|美术编辑|图片编辑|版式设计|制图|责任校对|校对)\s*[:：]"
)

TERMINAL = set("。！？!?…”’」』）)")
HEADING_FORBIDDEN = set("。！？!?，,；;")
HEADING_MAX = 30
TITLE_MAX = 80
LEAD = re.compile(r"^([^\s。，、；：！？“”‘’《》（）()\d]{4,10})。(?=\S)")
# A lead runs into a paragraph only right after a sentence end; text after a closing quote is the
# quote's attribution (…。”某某说。), not a lead.
EMBEDDED_LEAD = re.compile(r"(?<=[。！？])([^\s。，、；：！？“”‘’《》（）()\d]{4,10})。(?=\S)")
PRONOUN_START = re.compile(r"^[这那我你他她它此其]")
SPEECH_END = re.compile(r"(?:说|说道|称|表示|介绍|指出|认为|坦言|强调)$")


# ---------------------------------------------------------------- lines


@dataclass(frozen=True)
class Line:
    number: int
    text: str


def split_lines(text: str) -> list[Line]:
    """Numbered lines, stripped of ASCII, ideographic (U+3000) and no-break (U+00A0) padding."""
    raw = re.split(r"\r\n|\r|\n", text)
    return [Line(i, s.strip(" \t\u3000\u00a0\ufeff")) for i, s in enumerate(raw, start=1)]


def nonblank(lines: list[Line]) -> list[Line]:
    return [ln for ln in lines if ln.text]


def fold(s: str) -> str:
    """Full-width forms to half-width, for matching masthead patterns (the stored text is untouched)."""
    return unicodedata.normalize("NFKC", s)


def date_match(text: str) -> re.Match | None:
    """A masthead date line, Gregorian (folded) or Republican."""
    return DATE_LINE.match(text) or MINGUO_DATE.match(text)


def is_masthead_date(text: str) -> bool:
    # Asked of every body line; folding is most of the parser's time, and a line holding 。 or ，
    # (，folds to a comma) cannot fold into a date line, so most body lines skip it.
    if "。" in text or "，" in text:
        return False
    return date_match(fold(text)) is not None


def is_heading_line(text: str) -> bool:
    return len(text) <= HEADING_MAX and not (set(text) & HEADING_FORBIDDEN) and text[-1] not in TERMINAL


# ---------------------------------------------------------------- paragraphs and articles


@dataclass
class Block:
    """A paragraph being assembled: its text and, per joined piece, the offset it starts at and its line."""

    text: str
    pieces: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def start(cls, line: Line) -> Block:
        return cls(line.text, [(0, line.number)])

    def extend(self, line: Line) -> None:
        self.pieces.append((len(self.text), line.number))
        self.text += line.text

    def line_at(self, offset: int) -> int:
        number = self.pieces[0][1]
        for start, n in self.pieces:
            if start <= offset:
                number = n
        return number

    @property
    def complete(self) -> bool:
        return self.text[-1] in TERMINAL


def find_lead(text: str) -> str | None:
    m = LEAD.match(text)
    if m and not PRONOUN_START.match(m.group(1)) and not SPEECH_END.search(m.group(1)):
        return m.group(1)
    return None


def split_run_in_leads(block: Block) -> list[tuple[str, str | None, int, int]]:
    """Cut a paragraph that opens with a run-in lead wherever another lead runs into it.

    Returns (text, lead, line_start, line_end) per paragraph.
    """
    text = block.text
    lead = find_lead(text)
    cuts = [0]
    if lead:
        for m in EMBEDDED_LEAD.finditer(text, len(lead) + 1):
            if find_lead(text[m.start(1):]):
                cuts.append(m.start(1))
    cuts.append(len(text))
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = text[a:b]
        out.append((piece, find_lead(piece) if lead else None, block.line_at(a), block.line_at(b - 1)))
    return out


@dataclass
class ArticleBuilder:
    ordinal: int
    title: str
    subtitle: str | None
    byline: str | None
    contributors: tuple[Contributor, ...]
    sections: list[tuple[str | None, list[Paragraph]]] = field(default_factory=list)
    heading_lines: list[int | None] = field(default_factory=list)  # the line of each section's heading, where known
    paragraph_count: int = 0
    # Only the page layout runs leads into paragraphs; where a format prints each paragraph apart
    # (article lines, Markdown blocks), a short sentence such as 民以食为天。 is text, not a lead.
    run_in_leads: bool = True

    def heading(self, text: str, line: int | None = None) -> None:
        if text.strip():  # a bare `#` in Markdown heads nothing: no empty section for it
            self.sections.append((text, []))
            self.heading_lines.append(line)

    def paragraph(self, block: Block) -> None:
        if not self.sections:
            self.sections.append((None, []))
            self.heading_lines.append(None)
        pieces = split_run_in_leads(block) if self.run_in_leads else [(block.text, None, block.pieces[0][1], block.pieces[-1][1])]
        for text, lead, start, end in pieces:
            self.paragraph_count += 1
            self.sections[-1][1].append(Paragraph(self.paragraph_count, text, start, end, lead))

    def build(self) -> Article:
        """The article; no section is left empty. A heading with nothing under it before the next heading
        joins that heading (one heading printed on two lines); one with nothing after it at all is text as
        printed, kept as the last paragraph."""
        merged: list[tuple[str | None, list[Paragraph]]] = []
        pending: str | None = None
        pending_line: int | None = None
        for (heading, paragraphs), line in zip(self.sections, self.heading_lines):
            if not paragraphs:
                pending = f"{pending} {heading}" if pending else heading
                pending_line = pending_line or line
                continue
            if pending:
                heading = f"{pending} {heading}" if heading else pending
                pending, pending_line = None, None
            merged.append((heading, list(paragraphs)))
        if pending:
            last = merged[-1][1][-1] if merged else None
            at = pending_line or (last.line_end if last else 1)
            self.paragraph_count += 1
            tail = Paragraph(self.paragraph_count, pending, at, at, None)
            if merged:
                merged[-1][1].append(tail)
            else:
                merged.append((None, [tail]))
        sections = []
        ordinal = 0 if merged and merged[0][0] is None else 1
        for heading, paragraphs in merged:
            sections.append(Section(ordinal, heading, tuple(paragraphs)))
            ordinal += 1
        return Article(self.ordinal, self.title, self.subtitle, self.byline, self.contributors, tuple(sections))
