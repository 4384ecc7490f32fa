"""Pages in the seed's layout, written for the tests, with their exact expected parse.

All the text here was written for this project. `build_page` lays out a masthead and articles the way
the digital edition does (blank line between lines, headings on one or two lines, paragraphs cut by a
column break, run-in leads) and returns the page text with the parse it must give.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

WEEKDAYS = "一二三四五六日"

PARAGRAPHS = [
    "今年以来，江城市司法局把群众满意作为工作标准，持续推进公共法律服务体系建设，各项工作取得明显成效。",
    "“有了家门口的法律顾问，遇到难题心里就有底了。”家住临江社区的李大爷说，上个月他因房屋租赁纠纷找到社区法律顾问，问题很快得到了解决。",
    "据了解，全市已建成公共法律服务中心12个、工作站136个、工作室870余个，实现了市、县、乡、村四级全覆盖。",
    "为让群众少跑腿，市司法局推出“掌上办”服务，群众通过手机就能预约律师、申请法律援助、查询办理进度。",
    "截至10月底，全市共办理法律援助案件3200余件，为困难群众挽回经济损失1500多万元，群众满意率达到98.6%。",
    "在人民调解工作中，各级调解组织坚持抓早抓小，把矛盾纠纷化解在萌芽状态。全年共排查各类矛盾纠纷5400多起，调解成功率超过96%。",
    "市司法局有关负责人表示，下一步将继续深化改革创新，推动公共法律服务向基层延伸，让群众感受到更多的法治温暖。",
    "与此同时，全市各级司法行政机关组织开展送法进企业、进校园、进农村活动，累计举办各类讲座260余场，发放宣传资料4万余份。",
    "在普法宣传中，工作人员结合身边案例，用群众听得懂的语言讲解法律知识，受到广泛欢迎。",
    "针对农民工讨薪难问题，市法律援助中心开辟绿色通道，做到当天受理、当天指派，帮助农民工追回劳动报酬620万元。",
    "为提高队伍素质，市司法局每月组织一次业务培训，邀请专家学者授课，全年培训人员1800余人次。",
    "全市社区矫正工作稳步推进，在册社区矫正对象保持稳定，未发生重大案事件，教育帮扶工作扎实有效。",
    "“以前办事要跑好几趟，现在一次就办好了。”刚刚办完公证的王女士高兴地说。",
    "下一阶段，全市司法行政系统将以群众需求为导向，不断完善服务网络，提升服务质量，努力打造群众满意的公共法律服务品牌。",
]
LEAD_PARAGRAPHS = [
    "织密服务网络。全市在乡镇设立法律服务工作站，每个站点配备专职人员，群众在家门口就能咨询法律问题。",
    "创新服务方式。依托网络平台开通在线咨询，律师轮流值守，群众的问题当天就能得到答复。",
    "强化队伍建设。组织律师、公证员、调解员参加业务培训，开展岗位练兵，服务能力明显提升。",
    "健全考核机制。把群众评价作为考核的重要依据，对服务不到位的及时督促整改，确保服务质量。",
]
HEADINGS = [
    ("聚焦群众需求", "打通服务群众最后一公里"),
    ("深化改革创新 激发法治活力",),
    ("坚持抓早抓小", "把矛盾化解在基层"),
    ("普法宣传入人心 法治氛围更浓厚",),
    ("强化队伍建设", "锻造过硬司法行政铁军"),
]
TITLES = [
    ("公共法律服务惠民生 法治温暖进万家", "江城市司法局推进公共法律服务体系建设纪实", "本报记者●张明 通讯员●刘洋"),
    ("调解工作抓早抓小 矛盾纠纷就地化解", None, "本报记者●陈静"),
    ("普法宣传进万家", "——全市开展“法律进社区”活动侧记", "本报通讯员●赵磊 孙悦"),
]


@dataclass
class PageBuilder:
    lines: list[str] = field(default_factory=list)

    def add(self, text: str = "") -> int:
        self.lines.append(text)
        return len(self.lines)

    def gap(self, n: int = 1) -> None:
        for _ in range(n):
            self.add("")


def masthead(b: PageBuilder, date: dt.date, number: int, name: str) -> dict:
    b.gap(2)
    b.add(f"{date.year}年{date.month}月{date.day}日")
    b.add("星期" + WEEKDAYS[date.weekday()])
    b.add(f"第{number}期")
    b.add("国内统一连续出版物号")
    b.add("CN 32-0107")
    b.add("邮发代号 27—45")
    b.gap()
    b.add(name)
    b.gap(3)
    b.add("http://www.jcwb.example.cn E-mail:news@jcwb.example.cn 新闻热线:(025)8765432")
    b.gap()
    newspaper = {
        "name": name,
        "cn_serial": "CN 32-0107",
        "postal_code": "27-45",
        "website": "http://www.jcwb.example.cn",
        "email": "news@jcwb.example.cn",
        "hotline": "(025)8765432",
    }
    return newspaper


def _contributors(byline: str) -> list[dict]:
    out = []
    role = None
    for token in byline.split():
        if "●" in token:
            role, name = token.split("●", 1)
        else:
            name = token
        out.append({"role": role, "name": name})
    return out


def build_page(seed: int, articles: int = 1, date: dt.date | None = None, number: int = 5120) -> tuple[str, dict]:
    """A page with `articles` articles, laid out with choices drawn from `seed`; returns (text, expected)."""
    rnd = random.Random(seed)
    date = date or dt.date(2021, 3, 1) + dt.timedelta(days=rnd.randrange(600))
    b = PageBuilder()
    newspaper = masthead(b, date, number, "江城晚报")
    expected_articles = []
    for a_ord in range(1, articles + 1):
        title, subtitle, byline = TITLES[(seed + a_ord) % len(TITLES)]
        b.add(title)
        b.gap()
        if subtitle:
            b.add(subtitle if subtitle.startswith("——") else "——" + subtitle)
            b.gap()
        b.add(byline)
        b.gap()
        sections = []
        ordinal = 0
        pool = PARAGRAPHS[:]
        rnd.shuffle(pool)
        heads = HEADINGS[:]
        rnd.shuffle(heads)
        n_sections = rnd.randint(1, 3)
        opening = rnd.random() < 0.7
        for s_index in range(n_sections + (1 if opening else 0)):
            if s_index == 0 and opening:
                heading = None
                s_ord = 0
            else:
                h = heads.pop()
                for i, part in enumerate(h):
                    b.add(part)
                    b.gap()
                heading = " ".join(h)
                s_ord = s_index if opening else s_index + 1
            paras = []
            use_leads = heading is not None and rnd.random() < 0.5
            texts = rnd.sample(LEAD_PARAGRAPHS, 3) if use_leads else [pool.pop() for _ in range(rnd.randint(1, 3))]
            k = 0
            while k < len(texts):
                text = texts[k]
                embed = use_leads and k + 1 < len(texts) and rnd.random() < 0.5
                cut = len(text) > 30 and rnd.random() < 0.4
                if embed:
                    # the next lead runs into the end of this paragraph's line, as in print
                    nxt = texts[k + 1]
                    joined = text + nxt
                    if cut:
                        at = len(text) + _cut_point(nxt, 12, rnd)
                        first = b.add(joined[:at])
                        b.gap()
                        last = b.add(joined[at:])
                    else:
                        first = last = b.add(joined)
                    b.gap()
                    ordinal += 1
                    paras.append(_para(ordinal, first, first, text, True))
                    ordinal += 1
                    paras.append(_para(ordinal, first, last, nxt, True))
                    k += 2
                    continue
                if cut:
                    at = _cut_point(text, 20, rnd)
                    first = b.add(text[:at])
                    b.gap(rnd.choice([1, 3]))
                    last = b.add(text[at:])
                else:
                    first = last = b.add(text)
                b.gap()
                ordinal += 1
                paras.append(_para(ordinal, first, last, text, use_leads))
                k += 1
            sections.append({"ordinal": s_ord, "heading": heading, "paragraphs": paras})
        expected_articles.append(
            {
                "ordinal": a_ord,
                "title": title,
                "subtitle": subtitle.lstrip("—") if subtitle else None,
                "byline": byline,
                "contributors": _contributors(byline),
                "sections": sections,
            }
        )
    expected = {
        "newspaper": newspaper,
        "issue": {"date": date.isoformat(), "weekday": "星期" + WEEKDAYS[date.weekday()], "number": number},
        "articles": expected_articles,
    }
    return "\n".join(b.lines), expected


def _cut_point(text: str, lo: int, rnd: random.Random) -> int:
    """Where a column break may fall: mid-sentence (a break after 。 is a paragraph end, in print too),
    with the first piece holding a comma or running past heading length, as real fragments do."""
    choices = [
        i
        for i in range(lo, len(text) - 3)
        if text[i - 1] not in "。！？…”" and ("，" in text[:i] or i > 30)
    ]
    return rnd.choice(choices)


def _para(ordinal: int, start: int, end: int, text: str, lead: bool) -> dict:
    return {
        "ordinal": ordinal,
        "line_start": start,
        "line_end": end,
        "lead": text.split("。", 1)[0] if lead else None,
        "text": text,
    }


def document_dict(doc) -> dict:
    """A parsed Document in the shape of seed.expected.json."""
    return {
        "newspaper": {
            k: getattr(doc.newspaper, k) for k in ("name", "cn_serial", "postal_code", "website", "email", "hotline")
        },
        "issue": {"date": doc.issue.date.isoformat(), "weekday": doc.issue.weekday, "number": doc.issue.number},
        "articles": [
            {
                "ordinal": a.ordinal,
                "title": a.title,
                "subtitle": a.subtitle,
                "byline": a.byline,
                "contributors": [{"role": c.role, "name": c.name} for c in a.contributors],
                "sections": [
                    {
                        "ordinal": s.ordinal,
                        "heading": s.heading,
                        "paragraphs": [
                            {
                                "ordinal": p.ordinal,
                                "line_start": p.line_start,
                                "line_end": p.line_end,
                                "lead": p.lead,
                                "text": p.text,
                            }
                            for p in s.paragraphs
                        ],
                    }
                    for s in a.sections
                ],
            }
            for a in doc.articles
        ],
    }
