"""Markdown exports: YAML front matter, `# title`, `## subtitle`, a quoted source line, paragraphs.

Front matter keys (English or Chinese): title/标题, subtitle/副题, kicker/引题, newspaper/报纸, date/日期,
page/版次, section or page_name/版名, author/作者 (a string or a list), source_url/url/链接. A blockquote
before the first paragraph is the source line (`> 来源：《江城晚报》2021年3月5日 第5版`): it may name
newspaper, date, page and URL, and is not body text. Later `##`–`######` headings open sections.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Iterator

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from archive.document import Contributor, Document, IssueInfo, NewspaperInfo, ParseError, refused_as
from archive.formats import credits, frontmatter
from archive.formats.blocks import ArticleBuilder, Block, Line
from archive.formats.metadata import SOURCE_DATE, SOURCE_PAGE, Metadata, normalise_page, source_line

NAME = "markdown"
TOP_SCORE = 1.0  # the highest score sniff() gives
DESCRIPTION = "Markdown: YAML front matter (title, date, page or section, author, source URL), # title, ## subtitle, > source, paragraphs"

FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
KEYS = {
    "title": ("title", "标题"),
    "subtitle": ("subtitle", "副题", "副标题"),
    "kicker": ("kicker", "引题"),
    "newspaper": ("newspaper", "paper", "publication", "报纸", "报名"),
    "date": ("date", "日期"),
    "page": ("page", "版次", "版面"),
    "page_name": ("section", "section_name", "page_name", "版名", "栏目"),
    "author": ("author", "authors", "byline", "作者"),
    "source_url": ("source_url", "url", "link", "source", "链接", "原文链接", "来源"),
}
FIELD_OF = {name.lower(): field for field, names in KEYS.items() for name in names}
# A metadata block under the title instead of front matter (`- 日期：1946-05-15`, `**作者**：郭沫若`): every
# line a known key and its value.
METADATA_LINE = re.compile(r"^\s*(?:[-*+]\s+)?(?:\*\*)?([^\s:：*]{1,12}?)(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*(.+?)\s*$")
ASCII_WORD = re.compile(r"[A-Za-z0-9]")
_md = MarkdownIt("commonmark")


def sniff(text: str) -> float:
    if FRONT_MATTER.match(text):
        return 1.0
    first = next((ln.strip(" \t\ufeff") for ln in text[:2000].splitlines() if ln.strip(" \t\ufeff")), "")
    return 0.85 if re.match(r"#{1,6}\s", first) else 0.0


def _front_matter(text: str) -> tuple[dict, int, str]:
    """The front matter as a dict of our field names, the number of lines it takes, and the rest."""
    m = FRONT_MATTER.match(text)
    if not m:
        return {}, 0, text
    try:
        data = frontmatter.load(m.group(1) or "") or {}
    except yaml.YAMLError as exc:
        # an error found only at the end of the block is better shown where its construct opened
        block_lines = (m.group(1) or "").count("\n")
        mark = getattr(exc, "problem_mark", None)
        if mark is not None and mark.line >= block_lines:
            mark = getattr(exc, "context_mark", None) or mark
        line = mark.line + 2 if mark else 1
        raise ParseError(line, f"front matter is not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise ParseError(2, "front matter must be key: value lines")
    lines = {str(k): n for n, k in _key_lines(m.group(1) or "")}
    fields: dict = {}
    for field, names in KEYS.items():
        for name in names:
            if data.get(name) not in (None, ""):
                fields[field] = (data[name], lines.get(name, 1))
                break
    return fields, text.count("\n", 0, m.end()), text[m.end():]


def _key_lines(block: str) -> Iterator[tuple[int, str]]:
    for n, line in enumerate(block.splitlines(), start=2):
        if m := re.match(r"^([^\s:#][^:]*):", line):
            yield n, m.group(1).strip()


def _date(value: object, line: int) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if m := SOURCE_DATE.search(str(value)):
        try:
            return dt.date(int(m.group(1)), int(m.group(2) or m.group(4)), int(m.group(3) or m.group(5)))
        except ValueError:
            pass
    raise ParseError(line, f"date {value!r} is not a date such as 2021-03-05 or 2021年3月5日")


def _authors(value: object) -> tuple[str, tuple[Contributor, ...]]:
    names = [str(v).strip() for v in (value if isinstance(value, list) else [value]) if str(v).strip()]
    people: list[Contributor] = []
    for name in names:
        people.extend(credits.people(name, need_role=False) or (Contributor(None, credits.collapse(name)),))
    return "、".join(credits.collapse(n) for n in names), credits.unique(people)


def _block(inline: Token, first_line: int) -> Block:
    """A paragraph's plain text (markup dropped), one piece per source line for line numbers."""
    block: Block | None = None
    number = first_line
    piece = ""

    def push(text: str) -> None:
        nonlocal block
        if block is None:
            block = Block.start(Line(number, text))
        else:
            if ASCII_WORD.match(text[:1]) and ASCII_WORD.match(block.text[-1:]):
                text = " " + text
            block.extend(Line(number, text))

    for child in inline.children or ():
        if child.type in ("text", "code_inline"):
            piece += child.content
        elif child.type in ("softbreak", "hardbreak"):
            if piece.strip():
                push(piece.strip())
            piece = ""
            number += 1
    if piece.strip():
        push(piece.strip())
    return block or Block.start(Line(first_line, ""))


@refused_as(NAME)
def parse(text: str, meta: Metadata | None = None) -> Document:
    """Parse a Markdown export; front matter and the source line first, then `meta`, supply metadata."""
    meta = meta or Metadata()
    fields, offset, body = _front_matter(text)
    body = body.lstrip("\ufeff")
    tokens = _md.parse(body)
    said: dict = {}
    title = subtitle = None
    title_line = offset + 1
    article: ArticleBuilder | None = None
    heading_level = 0
    title_level = 1
    in_quote = False
    for k, tok in enumerate(tokens):
        line = offset + (tok.map[0] + 1 if tok.map else 1)
        if tok.type == "heading_open":
            heading_level = int(tok.tag[1])
        elif tok.type == "blockquote_open" and article is None:
            in_quote = True
        elif tok.type == "blockquote_close":
            in_quote = False
        elif tok.type == "inline" and heading_level:
            text_ = tok.content.strip()
            if title is None and article is None and (heading_level == 1 or "title" not in fields):
                # per-article exports title with any level (`### 五月杂感`); the next level is the subtitle
                title, title_line, title_level = text_, line, heading_level
            elif heading_level == title_level + 1 and (title or "title" in fields) and subtitle is None and article is None:
                subtitle = text_.lstrip("—-－").strip()
            else:
                article = article or _builder(fields, title, subtitle, meta)
                article.heading(text_, line)
            heading_level = 0
        elif tok.type == "inline" and in_quote:
            said.update({k: v for k, v in source_line(tok.content).items() if k not in said})
        elif tok.type == "inline" and tokens[k - 1].type == "paragraph_open" and article is None and (
            block_fields := _metadata_block(tok.content)
        ):
            for name, value in block_fields.items():
                if name == "source_url" and not value.lower().startswith(("http://", "https://")):
                    said.update({k_: v for k_, v in source_line(value).items() if k_ not in said})
                else:
                    fields.setdefault(name, (value, line))  # front matter, where there is one, wins
        elif tok.type == "inline" and tokens[k - 1].type == "paragraph_open":
            block = _block(tok, line)
            if block.text:
                article = article or _builder(fields, title, subtitle, meta)
                article.paragraph(block)
    if article is None or not article.paragraph_count:
        raise ParseError(title_line, "no body text: expected paragraphs after the title")
    built = article.build()
    if not built.title:
        raise ParseError(1, "no title: give `title:` in the front matter or a `# title` line")
    byline, people = _authors(fields["author"][0]) if "author" in fields else (None, ())
    newspaper = _value(fields, "newspaper") or said.get("newspaper") or meta.require("newspaper")
    date = _date(*fields["date"]) if "date" in fields else said.get("date") or meta.require("date")
    page = _value(fields, "page")
    source = _value(fields, "source_url")
    if source and not source.lower().startswith(("http://", "https://")):
        said.update({k: v for k, v in source_line(source).items() if k not in said})
        source = said.get("source_url")
    built = replace(
        built,
        byline=byline or None,
        contributors=people,
        sections=built.sections,
        kicker=_value(fields, "kicker"),
        page=_page(page) if page else said.get("page") or meta.page,
        page_name=_value(fields, "page_name") or meta.page_name,
        source_url=source or said.get("source_url"),
    )
    return Document(NewspaperInfo(newspaper), IssueInfo(date), (built,))


def _metadata_block(content: str) -> dict[str, str]:
    """Fields of a paragraph whose every line is `key：value` with a known key; {} for any other paragraph."""
    found: dict[str, str] = {}
    for line in content.splitlines():
        m = METADATA_LINE.match(line)
        if m is None:
            return {}
        field = FIELD_OF.get(m.group(1).lower())
        if field is None or field == "title":
            return {}
        found.setdefault(field, m.group(2))
    return found


def _page(value: str) -> str:
    m = SOURCE_PAGE.search(value)
    return normalise_page(m.group(1) or m.group(2)) if m else normalise_page(value)


def _value(fields: dict, name: str) -> str | None:
    return str(fields[name][0]).strip() if name in fields else None


def _builder(fields: dict, title: str | None, subtitle: str | None, meta: Metadata) -> ArticleBuilder:
    return ArticleBuilder(
        meta.ordinal or 1,
        _value(fields, "title") or title or "",
        _value(fields, "subtitle") or subtitle,
        None,
        (),
    )
