"""Article files and Markdown exports built for the tests, with their exact expected parse.

The text is pagegen's (written for this project); what varies with the seed is the layout: kicker,
subtitle, where the byline goes and how it is padded, datelines, photo credits, furniture, line endings.
"""

from __future__ import annotations

import datetime as dt
import random

from tests.pagegen import HEADINGS, PARAGRAPHS, TITLES

S, N = "\u3000", "\u00a0"
KICKERS = ["守护群众身边的法治", "聚焦基层治理", "", ""]
PEOPLE = [("本报记者", "周宁"), ("本报记者", "李晓明"), ("通讯员", "郑浩"), ("实习生", "林晓雨")]


def _padded(name: str) -> str:
    """Two-character names are padded to the width of three, as the digital edition prints them."""
    return f"{name[0]}{N}{N}{name[1]}" if len(name) == 2 else name


def _credit_line(people: list[tuple[str, str]]) -> str:
    return f"{N}{N}".join(f"{role}{N}{N}{_padded(name)}" for role, name in people)


def _collapsed(line: str) -> str:
    return " ".join(line.replace(N, " ").split())


def _para(ordinal: int, line: int, text: str) -> dict:
    return {"ordinal": ordinal, "line_start": line, "line_end": line, "lead": None, "text": text}


def _expected(date: dt.date, **article) -> dict:
    """The expected parse of a one-article file of 江城晚报 (test_formats.full_dict's shape)."""
    nothing = dict.fromkeys(("cn_serial", "postal_code", "website", "email", "hotline"))
    return {
        "newspaper": {"name": "江城晚报", **nothing},
        "issue": {"date": date.isoformat(), "weekday": None, "number": None},
        "articles": [{"ordinal": 1, **article}],
    }


def build_article(seed: int, date: dt.date = dt.date(2021, 3, 5)) -> tuple[bytes, dict, dict]:
    """(file bytes, expected parse, options it needs) for one article file in the crawl layout."""
    rnd = random.Random(seed)
    title, subtitle, _ = TITLES[seed % len(TITLES)]
    subtitle = (subtitle or "").lstrip("—") if rnd.random() < 0.6 else ""
    kicker = rnd.choice(KICKERS)
    lines = [kicker, title, subtitle]
    people = rnd.sample(PEOPLE, rnd.randint(1, 2))
    head_byline = rnd.random() < 0.5
    bylines, contributors = [], [{"role": r, "name": n} for r, n in people]
    if head_byline:
        lines += ["", _credit_line(people)]
        bylines.append(_collapsed(lines[-1]))
    texts = rnd.sample(PARAGRAPHS, rnd.randint(2, 5))
    if rnd.random() < 0.5:
        role, name = people[0]
        texts[0] = f"本报江城{date.month}月{date.day}日电{S}（记者{name}）" + texts[0]
    heading_at = rnd.randrange(1, len(texts)) if rnd.random() < 0.5 else None
    sections = [{"ordinal": 0, "heading": None, "paragraphs": []}]
    for k, text in enumerate(texts, start=1):
        if k == heading_at:
            heading = rnd.choice(HEADINGS)[0]
            lines.append(f"{S}{S}{heading}" if rnd.random() < 0.5 else heading)
            sections.append({"ordinal": 1, "heading": heading, "paragraphs": []})
        lines.append(f"{S}{S}{text}")
        sections[-1]["paragraphs"].append(_para(k, len(lines), text))
    if rnd.random() < 0.5:
        lines.append(f"{S}{S}图为工作人员在社区服务中心值守。{N}{N}本报记者{N}{N}{_padded('王浩')}摄")
        bylines.append("本报记者 王 浩摄")
        contributors.append({"role": "摄影", "name": "王浩"})  # a photographer's role is 摄影
    if not head_byline:
        lines.append(f"{S}{S}（{_credit_line(people)}报道）")
        bylines.append(_collapsed(lines[-1]))
    lines += ["", f"版式设计：{_padded('陈晨')}"] if rnd.random() < 0.5 else []
    options = {}
    page = rnd.choice(["5", "12"])
    if rnd.random() < 0.5:
        lines += ["", f"《江城晚报》（{date.year}年{date.month:02d}月{date.day:02d}日{S}第{int(page):02d}版）"]
    else:
        options = {"newspaper": "江城晚报", "date": date, "page": page}
    eol = rnd.choice(["\r\n", "\n"])
    data = (eol.join(lines) + eol).encode(rnd.choice(["utf-8", "utf-8-sig"]))
    expected = _expected(
        date,
        title=title,
        subtitle=subtitle or None,
        byline="；".join(bylines),
        contributors=contributors,
        sections=[s for s in sections if s["paragraphs"]],
        kicker=kicker or None,
        page=page,
        page_name=None,
        source_url=None,
    )
    return data, expected, options


def build_markdown(seed: int, date: dt.date = dt.date(2021, 3, 6)) -> tuple[str, dict]:
    """(text, expected parse) for one Markdown export; the paragraphs wrap over lines as editors do."""
    rnd = random.Random(seed)
    title, subtitle, _ = TITLES[seed % len(TITLES)]
    subtitle = (subtitle or "").lstrip("—") or None
    role, name = rnd.choice(PEOPLE)
    url = f"https://www.jcwb.example.cn/html/{date:%Y-%m}/{date:%d}/content_{seed}.htm"
    front = ["---", f"title: {title}", f"date: {date.isoformat()}", "newspaper: 江城晚报", "section: 法治",
             f"author: {role} {name}", f"source_url: {url}", "---", ""]
    lines = front + [f"# {title}", ""]
    if subtitle:
        lines += [f"## {subtitle}", ""]
    lines += [f"> 来源：《江城晚报》{date.year}年{date.month}月{date.day}日 第{seed % 9 + 1}版", ""]
    sections = [{"ordinal": 0, "heading": None, "paragraphs": []}]
    for k, text in enumerate(rnd.sample(PARAGRAPHS, rnd.randint(2, 4)), start=1):
        if k == 2 and rnd.random() < 0.5:
            heading = rnd.choice(HEADINGS)[0]
            lines += [f"### {heading}", ""]
            sections.append({"ordinal": 1, "heading": heading, "paragraphs": []})
        cut = text.find("，") + 1 if "，" in text and rnd.random() < 0.5 else 0
        start = len(lines) + 1
        lines += [text[:cut], text[cut:]] if cut else [text]
        sections[-1]["paragraphs"].append(
            {"ordinal": k, "line_start": start, "line_end": len(lines), "lead": None, "text": text}
        )
        lines.append("")
    expected = _expected(
        date,
        title=title,
        subtitle=subtitle,
        byline=f"{role} {name}",
        contributors=[{"role": role, "name": name}],
        sections=[s for s in sections if s["paragraphs"]],
        kicker=None,
        page=str(seed % 9 + 1),
        page_name="法治",
        source_url=url,
    )
    return "\n".join(lines), expected
