"""A generated corpus for search tests: pagegen's sentences with varied numbers, names and Latin.

Documents are built as parsed dataclasses and stored through the loader (the only writer), which is
much faster than laying out and parsing thousands of pages. All text here was written for the project.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re

from archive.document import Article, Document, IssueInfo, NewspaperInfo, Paragraph, Section
from archive.prepare import Parsed, Prepared
from tests.pagegen import HEADINGS, LEAD_PARAGRAPHS, PARAGRAPHS, TITLES

NAMES = ["张明", "刘洋", "陈静", "赵磊", "孙悦", "李大爷", "王女士", "周建国", "吴芳", "郑小龙"]
PLACES = ["江城市", "临江社区", "东湖区", "西山镇", "南港街道"]
EXTRAS = [
    "执勤民警用X光机检查行李",
    "拨打12345热线反映问题",
    "同比上升58.2%",
    "刊号CN 15-0025",
    "服务热线１２３４５全天开通",
    "ＡＢＣ型号与WiFi设备",
    "第３期ｘ光机培训班",
    "Email: Test@Example.CN",
    "温度为-5℃至3℃",
    "“包头样本”（试行）",
]


KICKERS = ["核心阅读", "聚焦民生服务", "法治视点·民警在身边", None, None]


def _vary(text: str, rnd: random.Random) -> str:
    text = re.sub(r"\d+(\.\d+)?", lambda m: str(round(rnd.uniform(0, 20000), rnd.choice([0, 0, 1]))), text)
    for name in ("李大爷", "王女士"):
        text = text.replace(name, rnd.choice(NAMES))
    text = text.replace("江城市", rnd.choice(PLACES)).replace("临江社区", rnd.choice(PLACES))
    if rnd.random() < 0.3:
        at = rnd.randrange(len(text))
        text = text[:at] + rnd.choice(EXTRAS) + text[at:]
    return text


def documents(n_paragraphs: int, seed: int = 1) -> list[Prepared]:
    """About n_paragraphs paragraphs in issues of two newspapers over a year, 30 paragraphs a page."""
    rnd = random.Random(seed)
    pool = PARAGRAPHS + LEAD_PARAGRAPHS
    out = []
    made = 0
    page = 0
    while made < n_paragraphs:
        page += 1
        articles = []
        for a_ord in range(1, 6):
            title, subtitle, byline = TITLES[rnd.randrange(len(TITLES))]
            sections = []
            ordinal = 0
            for s_ord in range(2):
                paras = []
                for _ in range(3):
                    ordinal += 1
                    paras.append(Paragraph(ordinal, _vary(rnd.choice(pool), rnd), 1, 1))
                heading = " ".join(HEADINGS[rnd.randrange(len(HEADINGS))]) if s_ord else None
                sections.append(Section(s_ord, heading, tuple(paras)))
            made += ordinal
            kicker = rnd.choice(KICKERS)
            articles.append(Article(a_ord, _vary(title, rnd), subtitle, byline, (), tuple(sections), kicker=kicker))
        paper = NewspaperInfo("江城晚报" if page % 3 else "临江日报")
        issue = IssueInfo(dt.date(2021, 1, 1) + dt.timedelta(days=page))
        out.append(prepared(f"/corpus/{page:05d}.txt", Document(paper, issue, tuple(articles))))
    return out


def prepared(path: str, doc: Document) -> Prepared:
    body = repr(doc).encode()
    return Prepared(path, hashlib.sha256(body).hexdigest(), len(body), "utf-8", "", Parsed(doc, {}, "page"))


def single(path: str, date: dt.date, title: str, texts: list[str], paper: str = "江城晚报") -> Prepared:
    paras = tuple(Paragraph(i, t, i, i) for i, t in enumerate(texts, start=1))
    article = Article(1, title, None, None, (), (Section(0, None, paras),))
    return prepared(path, Document(NewspaperInfo(paper), IssueInfo(date), (article,)))
