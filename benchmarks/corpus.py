"""A deterministic corpus of N pages in the seed's layout, made from the seed's own material.

Page i is a function of (i, salt) alone, so the first 1,000 pages of a 10,000-page corpus are the
1,000-page corpus. Each page gets its own date and issue number, two to four articles, the seed's
paragraphs shuffled (some cut by a column break, as printed pages are), its numbers redrawn, its city
and its reporters renamed. Every page is about the seed's size, so pages/s reads as "seed-sized pages/s".

`generate` returns the page text with the structure it must parse into; `check` compares a parsed
Document with it, so the harness can prove that every page it times parsed as intended.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from archive.document import Document
from archive.formats import blocks, page

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_243109ca0d1e3123.txt"
SALT = "archive-bench-1"
WEEKDAYS = "一二三四五六日"
SEED_CITY = "包头"
CITIES = ("包头", "赤峰", "通辽", "乌海", "集宁", "临河", "丰镇", "满洲里", "二连浩特", "霍林郭勒")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌宁海波晨彦祯力新阳辉"
ROLES = ("本报记者", "通讯员", "本报通讯员", "特约记者", "见习记者")
# Digit runs that are not part of a date or a clock time get redrawn; dates stay plausible.
NUMBER = re.compile(r"\d+(?![\d年月日时点期])")
FIRST_CUT = 20  # a column break falls at least this far into a paragraph
CUT_SHARE = 0.08  # share of long paragraphs printed across a column break


@dataclass(frozen=True)
class Material:
    """What the generator draws from: the seed, parsed."""

    masthead: tuple[str, ...]  # the masthead's lines after the date/weekday/number lines
    date: dt.date
    number: int
    titles: tuple[str, ...]
    subtitle: str
    headings: tuple[tuple[str, ...], ...]
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class ExpectedArticle:
    title: str
    subtitle: str | None
    byline: str
    sections: tuple[tuple[str | None, tuple[str, ...]], ...]  # (heading, paragraph texts)


@dataclass(frozen=True)
class GeneratedPage:
    name: str
    text: str
    date: dt.date
    number: int
    articles: tuple[ExpectedArticle, ...]

    @property
    def paragraph_count(self) -> int:
        return sum(len(texts) for a in self.articles for _, texts in a.sections)


@lru_cache(maxsize=1)
def material() -> Material:
    doc = page.parse(SEED.read_text(encoding="utf-8"))
    paper, issue = doc.newspaper, doc.issue
    article = doc.articles[0]
    headings = tuple(tuple(s.heading.split(" ")) for s in article.sections if s.heading)
    contact = f"{paper.website} E-mail:{paper.email} 新闻热线:{paper.hotline}"
    return Material(
        masthead=("国内统一连续出版物号", paper.cn_serial or "", f"邮发代号 {paper.postal_code}", "", paper.name, "", "", contact),
        date=issue.date,
        number=issue.number or 1,
        titles=(article.title, *(line for h in headings for line in h)),
        subtitle=article.subtitle or "",
        headings=headings,
        paragraphs=tuple(p.text for p in article.paragraphs),
    )


def _person(rnd: random.Random) -> str:
    return rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))


def _byline(rnd: random.Random) -> str:
    roles = rnd.sample(ROLES[:2], 2) if rnd.random() < 0.6 else [rnd.choice(ROLES)]
    return " ".join(f"{role}●{_person(rnd)}" for role in roles)


def _redraw(text: str, rnd: random.Random) -> str:
    def number(m: re.Match) -> str:
        n = len(m.group())
        return str(rnd.randint(10 ** (n - 1) if n > 1 else 0, 10**n - 1))

    return NUMBER.sub(number, text)


def _cut_point(text: str, rnd: random.Random) -> int | None:
    """Where a column break may fall: mid-sentence, with a comma before it or past heading length, so
    the first piece can be read neither as a finished paragraph nor as a heading."""
    choices = [
        i
        for i in range(FIRST_CUT, len(text) - 3)
        if text[i - 1] not in blocks.TERMINAL
        and not text[i - 1].isspace()
        and not text[i].isspace()
        and ("，" in text[:i] or i > blocks.HEADING_MAX)
    ]
    return rnd.choice(choices) if choices else None


def _split(n: int, parts: int, least: int, rnd: random.Random) -> list[int]:
    """Sizes of `parts` runs adding up to n, each at least `least`."""
    cuts = sorted(rnd.sample(range(1, n - least * parts + parts), parts - 1)) if parts > 1 else []
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, n - least * parts + parts])]
    return [s + least - 1 for s in sizes]


def generate(i: int, salt: str = SALT) -> GeneratedPage:
    """Page i of the corpus, with the structure it must parse into."""
    m = material()
    rnd = random.Random(f"{salt}:{i}")
    date = m.date + dt.timedelta(days=i)
    number = m.number + i
    lines = [f"{date.year}年{date.month}月{date.day}日", "星期" + WEEKDAYS[date.weekday()], f"第{number}期", *m.masthead, ""]
    pool = list(m.paragraphs)
    rnd.shuffle(pool)
    count = rnd.randint(len(pool) - 4, len(pool) + 4)
    texts = [pool[k % len(pool)] for k in range(count)]
    articles = []
    start = 0
    for size in _split(count, rnd.randint(2, 4), 4, rnd):
        city = rnd.choice(CITIES)
        localise = lambda s: s.replace(SEED_CITY, city)  # noqa: E731
        body = [_redraw(localise(t), rnd) for t in texts[start : start + size]]
        start += size
        title = localise(rnd.choice(m.titles))
        subtitle = localise(m.subtitle) if rnd.random() < 0.5 else None
        byline = _byline(rnd)
        lines += [title, *([f"——{subtitle}"] if subtitle else []), byline]
        opening = rnd.randint(1, 2) if rnd.random() < 0.7 else 0
        headings = list(m.headings)
        rnd.shuffle(headings)
        sections = []
        runs = [opening] + _split(size - opening, min(len(headings), max(1, (size - opening) // 5)), 1, rnd)
        k = 0
        for s, run in enumerate(runs):
            if run == 0:
                continue
            heading = None
            if s > 0:
                parts = tuple(localise(x) for x in headings[s - 1])
                parts = parts if rnd.random() < 0.8 else parts[:1]
                lines += parts
                heading = " ".join(parts)
            chunk = body[k : k + run]
            k += run
            for text in chunk:
                at = _cut_point(text, rnd) if len(text) > 40 and rnd.random() < CUT_SHARE else None
                lines += [text] if at is None else [text[:at], *([""] * rnd.choice((0, 2))), text[at:]]
            sections.append((heading, tuple(chunk)))
        articles.append(ExpectedArticle(title, subtitle, byline, tuple(sections)))
    text = "\n\n".join(lines) + "\n"
    return GeneratedPage(f"{i:05d}_{date.isoformat()}.txt", text, date, number, tuple(articles))


def check(doc: Document, want: GeneratedPage) -> str | None:
    """None when the parsed document has the generated structure, else what differs first."""
    if (doc.issue.date, doc.issue.number) != (want.date, want.number):
        return f"issue {doc.issue.date} #{doc.issue.number}, expected {want.date} #{want.number}"
    if len(doc.articles) != len(want.articles):
        return f"{len(doc.articles)} articles, expected {len(want.articles)}"
    for got, exp in zip(doc.articles, want.articles):
        if (got.title, got.subtitle, got.byline) != (exp.title, exp.subtitle, exp.byline):
            return f"article {got.ordinal}: title block {got.title!r} differs from {exp.title!r}"
        sections = tuple((s.heading, tuple(p.text for p in s.paragraphs)) for s in got.sections)
        if sections != exp.sections:
            return f"article {got.ordinal} ({got.title}): sections or paragraphs differ"
    return None


def write_corpus(directory: str | Path, pages: int, salt: str = SALT) -> list[Path]:
    """Write pages 0..pages-1 into `directory` (kept between runs: only missing files are written)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(pages):
        g = generate(i, salt)
        path = d / g.name
        if not path.exists():
            path.write_text(g.text, encoding="utf-8")
        paths.append(path)
    return paths
