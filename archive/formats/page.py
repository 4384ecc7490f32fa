"""The digital-edition page layout: a masthead, then articles (title, ——subtitle, byline, body).

The masthead is the front page's (date, 第N期, CN, 邮发代号, name, contacts) or an inside page's header
(date, 第N版, 版名, 责任编辑), on separate lines or on one line.

Staged like a small grammar: lines → masthead → title blocks → body blocks → sections and paragraphs.
Every rule is about the shape of a line (length, punctuation, patterns), never about one page's text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from archive.document import Article, Contributor, Document, IssueInfo, NewspaperInfo, ParseError, refused_as
from archive.formats.blocks import (
    EDITOR_LINE,
    HEADING_FORBIDDEN,
    HEADING_MAX,
    MINGUO_DATE,
    TERMINAL,
    TITLE_MAX,
    ArticleBuilder,
    Block,
    Line,
    date_match,
    fold,
    is_heading_line,
    is_masthead_date,
    nonblank,
    split_lines,
)
from archive.formats.credits import PAD
from archive.formats.metadata import Metadata, normalise_page

NAME = "page"
TOP_SCORE = 0.9  # the highest score sniff() gives
DESCRIPTION = "digital-edition page: front-page masthead or inside-page header (date, 第N版, 版名), then articles"

WEEKDAYS = "一二三四五六日"
DASHES = "-－—–‐−"
WEEKDAY_LINE = re.compile(r"^星期[一二三四五六日天]$")
# A Republican-era page's weekday may read 禮拜五, on the date or next to a Republican date only: a modern
# page's weekday is 星期五.
OLD_WEEKDAY_LINE = re.compile(r"^(?:星期|[礼禮]拜)[一二三四五六日天]$")
MINGUO_START = 1911  # 民国元年 is 1912 (blocks.MINGUO_DATE)
NUMBER_LINE = re.compile(r"^(?:[总總])?第\s*(\d+)\s*期$")
# Labels and roles in simplified or traditional characters: Big5 pages print the traditional forms.
CN_LABEL = re.compile(r"^[国國][内內][统統]一[连連][续續]出版物[号號]\s*[:：]?\s*(.*)$")
CN_VALUE = re.compile(rf"^CN\s*(\d{{2}})\s*[{DASHES}]\s*(\d{{4}})(/\S+)?$", re.IGNORECASE)
POSTAL_LINE = re.compile(rf"^[邮郵][发發]代[号號]\s*[:：]?\s*(\d+)\s*[{DASHES}]\s*(\d+)$")
CONTACT_HINT = re.compile(r"https?://|e-?mail|[热熱][线線]", re.IGNORECASE)
WEBSITE = re.compile(r"https?://[^\s，,]+", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
HOTLINE = re.compile(r"(?:新[闻聞])?[热熱][线線]\s*[:：]\s*(.+)$")
PAGE_LINE = re.compile(r"^第?\s*([A-Za-z]?\d{1,3}[A-Za-z]?)\s*版$")
PAGE_NAME_LABEL = re.compile(r"^版名\s*[:：]\s*(.+)$")
HEADER_LINES = 6  # an inside-page header printed on one line sits among the first lines

# each simplified character of a role with its traditional form
_ROLE_CHARACTERS: dict[str, str | int | None] = {
    "报": "[报報]", "约": "[约約]", "记": "[记記]", "见": "[见見]", "习": "[习習]", "实": "[实實]", "讯": "[讯訊]", "员": "[员員]",
    "摄": "[摄攝]",
}
ROLE = re.compile(
    "^(本报特约记者|本报见习记者|本报实习生|本报通讯员|本报记者|特约记者|见习记者|实习记者|摄影记者|实习生|通讯员|记者|摄影|撰稿)".translate(
        str.maketrans(_ROLE_CHARACTERS)
    )
)
NAME_SEPARATORS = re.compile(r"[●•·]")
SUBTITLE = re.compile(r"^[—\-－]{1,2}\s*(.+)$")


def normalise_dashes(s: str) -> str:
    return re.sub(rf"\s*[{DASHES}]\s*", "-", s)


# ---------------------------------------------------------------- masthead


@dataclass
class Masthead:
    date: dt.date | None = None
    date_line: int = 0
    weekday: str | None = None
    weekday_line: int = 0
    number: int | None = None
    name: str | None = None
    cn_serial: str | None = None
    postal_code: str | None = None
    website: str | None = None
    email: str | None = None
    hotline: str | None = None
    page: str | None = None
    page_name: str | None = None


def _date(line: Line, m: re.Match) -> dt.date:
    try:
        if m.re is MINGUO_DATE:
            year, month, day = (_cn_int(m.group(k)) for k in (1, 2, 3))
            return dt.date(MINGUO_START + year, month, day)
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except (ValueError, ArithmeticError):
        raise ParseError(line.number, f"impossible date {line.text!r}") from None


def _cn_int(text: str) -> int:
    from archive.numerals import parse_number  # only Republican-era pages need it

    if text == "元":
        return 1
    value = parse_number(text.replace("廿", "二十").replace("卅", "三十"))
    if value != int(value):
        raise ValueError(text)
    return int(value)


def parse_masthead(lines: list[Line]) -> tuple[Masthead, int]:
    """Read the masthead from the top; return it and the index of the first line after it."""
    head = Masthead()
    i = 0
    expecting_cn = False
    while i < len(lines):
        line = lines[i]
        t = fold(line.text)
        if expecting_cn and (m := CN_VALUE.match(t)):
            head.cn_serial = f"CN {m.group(1)}-{m.group(2)}{m.group(3) or ''}"
            expecting_cn = False
        elif m := date_match(t):
            if head.date is not None:
                break
            head.date, head.date_line = _date(line, m), line.number
            if m.group(4):
                head.weekday, head.weekday_line = m.group(4), line.number
        elif (WEEKDAY_LINE if head.date is None or head.date.year > 1949 else OLD_WEEKDAY_LINE).match(t) and head.weekday is None:
            head.weekday, head.weekday_line = t, line.number
        elif (m := NUMBER_LINE.match(t)) and head.number is None:
            head.number = int(m.group(1))
        elif m := CN_LABEL.match(t):
            rest = CN_VALUE.match(m.group(1).strip())
            if rest:
                head.cn_serial = f"CN {rest.group(1)}-{rest.group(2)}{rest.group(3) or ''}"
            else:
                expecting_cn = True
        elif m := CN_VALUE.match(t):
            head.cn_serial = f"CN {m.group(1)}-{m.group(2)}{m.group(3) or ''}"
        elif m := POSTAL_LINE.match(t):
            head.postal_code = f"{m.group(1)}-{m.group(2)}"
        elif (m := PAGE_LINE.match(t)) and head.page is None:
            head.page = normalise_page(m.group(1))
        elif m := PAGE_NAME_LABEL.match(t):
            head.page_name = m.group(1).strip()
        elif EDITOR_LINE.match(t) and head.date is not None:
            # editors close an inside-page header; the page has no column for them
            i += 1
            while i < len(lines) and EDITOR_LINE.match(fold(lines[i].text)):
                i += 1
            break
        elif (
            head.page is not None
            and head.page_name is None
            and PAGE_LINE.match(fold(lines[i - 1].text))
            and _looks_like_name(line.text)
            and title_block_at(lines, i) is None
        ):
            head.page_name = line.text
        elif CONTACT_HINT.search(t) and head.date is not None:
            _contact(head, line.text)
            i += 1
            break
        elif head.name is None and _looks_like_name(line.text) and _name_fits(head, lines, i):
            head.name = line.text
        else:
            break
        i += 1
    if head.date is None:
        first = lines[0].number if lines else 1
        raise ParseError(first, "no masthead: expected a date line such as 2020年8月26日 at the top of the page")
    _check_weekday(head)
    return head, i


def split_header_lines(lines: list[Line]) -> list[Line]:
    """An inside-page header on one line (`2021年3月5日 星期五 第5版 法治视点 责任编辑：李明`) as one
    line per item; everything after an editor label stays with it (names may be padded)."""
    out = []
    for line in lines[:HEADER_LINES]:  # the lines after them are kept as they are
        tokens = PAD.split(line.text)
        if len(tokens) < 2 or not any(is_masthead_date(t) for t in tokens) or set(line.text) & HEADING_FORBIDDEN:
            out.append(line)
            continue
        for j, token in enumerate(tokens):
            if EDITOR_LINE.match(fold(token)):
                out.append(Line(line.number, " ".join(tokens[j:])))
                break
            out.append(Line(line.number, token))
    return out + lines[HEADER_LINES:]


def _name_fits(head: Masthead, lines: list[Line], i: int) -> bool:
    """A name goes after the date, or first with the date next; in an inside-page header, where the
    first title may follow straight away, only a line that does not start an article."""
    if head.date is None:
        return i == 0 and len(lines) > 1 and is_masthead_date(lines[1].text)
    return head.page is None or title_block_at(lines, i) is None


def _looks_like_name(text: str) -> bool:
    return len(text) <= 20 and not (set(text) & (TERMINAL | HEADING_FORBIDDEN)) and not CONTACT_HINT.search(text)


def _contact(head: Masthead, text: str) -> None:
    if m := WEBSITE.search(text):
        head.website = m.group(0)
    if m := EMAIL.search(text):
        head.email = m.group(0)
    if m := HOTLINE.search(text):
        head.hotline = m.group(1).strip()


def weekday_of(date: dt.date) -> str:
    """The weekday as papers print it: 星期三."""
    return "星期" + WEEKDAYS[date.weekday()]


def _check_weekday(head: Masthead) -> None:
    if head.weekday is None or head.date is None:
        return
    printed = re.sub("^[礼禮]拜", "星期", head.weekday).replace("天", "日")
    actual = weekday_of(head.date)
    if printed != actual:
        raise ParseError(
            head.weekday_line,
            f"weekday {head.weekday} does not match the date {head.date.isoformat()} ({actual})",
        )


# ---------------------------------------------------------------- title block


def parse_byline(text: str) -> tuple[Contributor, ...] | None:
    """Contributors of a byline such as `本报记者●王祯 通讯员●梁彦强`; None if the line is no byline."""
    tokens = text.split()
    if not tokens or not ROLE.match(tokens[0]) or len(text) > 80 or set(text) & HEADING_FORBIDDEN:
        return None
    people: list[Contributor] = []
    role: str | None = None
    for token in tokens:
        parts = [p for p in NAME_SEPARATORS.split(token) if p]
        if len(parts) >= 2:
            role = parts[0]
            people.extend(Contributor(role, name) for name in parts[1:])
        elif (m := ROLE.match(token)) and len(token) > len(m.group(1)):
            role = m.group(1)
            people.append(Contributor(role, token[len(role):]))
        elif m and len(token) == len(m.group(1)):
            role = token
        else:
            people.append(Contributor(role, token))
    return tuple(people)


def title_block_at(lines: list[Line], i: int) -> int | None:
    """If an article's title block starts at lines[i], return the index just after it."""
    if i >= len(lines) or not _looks_like_title(lines[i].text):
        return None
    j = i + 1
    if j < len(lines) and SUBTITLE.match(lines[j].text):
        j += 1
    if j < len(lines) and parse_byline(lines[j].text) is not None:
        return j + 1
    return j if j > i + 1 else None


def _looks_like_title(text: str) -> bool:
    return len(text) <= TITLE_MAX and text[-1] not in "。！？!?；;，,"


# ---------------------------------------------------------------- body


def _quoted_title(text: str) -> bool:
    """A title that ends on a closing quote (…开辟“绿色通道”): a title only if a byline or subtitle follows."""
    return len(text) <= HEADING_MAX and text.endswith(("”", "’", "」")) and not set(text) & HEADING_FORBIDDEN


def _start_article(lines: list[Line], i: int, end: int, ordinal: int) -> ArticleBuilder:
    title = lines[i].text
    subtitle = byline = None
    contributors: tuple[Contributor, ...] = ()
    for line in lines[i + 1 : end]:
        if m := SUBTITLE.match(line.text):
            subtitle = m.group(1).strip()
        else:
            byline, contributors = line.text, parse_byline(line.text) or ()
    return ArticleBuilder(ordinal, title, subtitle, byline, contributors)


@dataclass
class BodyReader:
    """Feeds body lines into an article: joins what a column break cut, gathers multi-line headings."""

    article: ArticleBuilder
    pending: Block | None = None
    heading: list[str] = field(default_factory=list)

    def joins(self, line: Line, new_paragraph: bool = False) -> bool:
        """Join `line` to an unfinished paragraph and say so; otherwise close that paragraph."""
        if self.pending is not None and not self.pending.complete and not new_paragraph:
            self.pending.extend(line)
            return True
        if self.pending is not None:
            self.article.paragraph(self.pending)
            self.pending = None
        return False

    def add_heading(self, text: str) -> None:
        self.heading.append(text)

    def add_paragraph(self, line: Line) -> None:
        self._close_heading()
        self.pending = Block.start(line)

    def finish(self) -> Article:
        self.joins(Line(0, ""), new_paragraph=True)
        self._close_heading()
        return self.article.build()

    def _close_heading(self) -> None:
        if self.heading:
            self.article.heading(" ".join(self.heading))
            self.heading = []


def parse_articles(lines: list[Line]) -> list[Article]:
    if not lines:
        raise ParseError(1, "no article after the masthead")
    end = title_block_at(lines, 0)
    if end is None:
        raise ParseError(lines[0].number, f"expected an article title block (title, ——subtitle, byline), found {lines[0].text[:30]!r}")
    readers = [BodyReader(_start_article(lines, 0, end, 1))]
    i = end
    while i < len(lines):
        line = lines[i]
        reader = readers[-1]
        i += 1
        if reader.joins(line):
            continue
        if is_masthead_date(line.text):
            raise ParseError(line.number, "a second masthead: one page per file")
        if is_heading_line(line.text) or _quoted_title(line.text):
            after = title_block_at(lines, i - 1)
            if after is not None and not reader.heading:
                readers.append(BodyReader(_start_article(lines, i - 1, after, len(readers) + 1)))
                i = after
                continue
            if is_heading_line(line.text):
                reader.add_heading(line.text)
                continue
        reader.add_paragraph(line)
    last = readers[-1].pending
    if last is not None and not last.complete:
        # Print ends every paragraph with a sentence end; a page that stops mid-sentence was cut off (a
        # truncated download or copy), and storing it would pass a fragment off as the text.
        raise ParseError(lines[-1].number, f"the page ends in the middle of a paragraph (file cut off?): …{last.text[-20:]!r}")
    built = [r.finish() for r in readers]
    for a in built:
        if not a.paragraphs:
            raise ParseError(lines[0].number, f"article {a.title!r} has no body text")
    return built


def sniff(text: str) -> float:
    """How sure it is that `text` is a page: a masthead date among its first lines; else a weak default."""
    lines = split_header_lines(nonblank(split_lines(text[:2000]))[:HEADER_LINES])
    return 0.9 if any(is_masthead_date(ln.text) for ln in lines) else 0.1


@refused_as(NAME)
def parse(text: str, meta: Metadata | None = None) -> Document:
    """Parse a page's text into a Document; raise ParseError(line, reason) when it is not this layout.

    `meta` fills what the page does not print (an inside page's newspaper name, its page number)."""
    meta = meta or Metadata()
    lines = split_header_lines(nonblank(split_lines(text)))
    if not lines:
        raise ParseError(1, "empty page")
    head, i = parse_masthead(lines)
    if head.name is None:
        if meta.newspaper is None:
            raise ParseError(head.date_line, "masthead has no newspaper name (give --newspaper)")
        head.name = meta.newspaper
    if i >= len(lines):
        raise ParseError(lines[-1].number, "no article after the masthead")
    page = head.page or meta.page
    page_name = head.page_name or meta.page_name
    articles = [replace(a, page=page, page_name=page_name) for a in parse_articles(lines[i:])]
    newspaper = NewspaperInfo(
        name=head.name,
        cn_serial=head.cn_serial,
        postal_code=head.postal_code,
        website=head.website,
        email=head.email,
        hotline=head.hotline,
    )
    issue = IssueInfo(date=head.date, weekday=head.weekday, number=head.number)  # type: ignore[arg-type]
    return Document(newspaper, issue, tuple(articles))
