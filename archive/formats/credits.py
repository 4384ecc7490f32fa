"""Credit lines of digital-edition crawls: bylines padded with U+00A0 or U+3000, （…报道）, …摄（…）.

Two-character names are padded to the width of three (`苏\xa0\xa0航`): single characters between padding
are paired back into names. A credit line is recognised only when every token is a role or a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.document import Contributor

PAD = re.compile(r"[\s\u3000\u00a0]+")
ROLE = re.compile(
    r"^(?:(?:本报|新华社|中新社)?(?:驻[\u4e00-\u9fff]{1,6}?)?(?:特约|见习|实习|摄影)?(?:记者|通讯员|实习生|评论员)"
    r"|摄影|撰稿|作者)"
)
# Han names run to four characters; transcribed names join their parts with a middle dot.
NAME = re.compile(r"^(?:[\u4e00-\u9fff]{1,4}|[\u4e00-\u9fff]+(?:[·•][\u4e00-\u9fff]+)+)$")
LIST_SEPARATORS = re.compile(r"[、，,]")
WRAPPED = re.compile(r"^[（(](.+)[）)]$")
REPORTED = re.compile(r"(?:报道|供稿|整理)$")
PHOTO = re.compile(r"^(.*?)摄([（(][^）)]{0,30}[）)])?$")
SENTENCE_END = re.compile(r"[。！？!?；;：:”]")
DATELINE = re.compile(
    r"^(?:本报|新华社|中新社)[\u4e00-\u9fff]{1,12}?\d{1,2}月\d{1,2}日(?:[\u4e00-\u9fff]{0,4})?电[\s\u3000\u00a0]*"
    r"(?:[（(]([^）)]{2,40})[）)])?"
)
MAX_NAMES_LEN = 40
# What follows a role in a note about the author (（作者为钢琴家）, 作者系…): a description, not a name.
NOT_A_NAME = re.compile(r"^[为係系是均现在乃]")
# `label：names` credits of the article's own content (its pictures, graphics, data, translation): kept
# with the byline. Page staff (责任编辑, 版式设计, 本版统筹…) are furniture; see STAFF.
LABEL = re.compile(
    r"^[（(]?\s*(图片来源|照片来源|图片提供|数据来源|资料来源|图表来源|来源|插图|漫画|绘图|题图|配图|图表|摄影|文/图|文／图|图/文|图／文|图|文|作者|书法|篆刻|翻译|译者)"
    r"\s*[:：]\s*([^。！？!?；;]{1,40}?)\s*[）)]?$"
)
SOURCE_LABELS = ("图片来源", "照片来源", "图片提供", "数据来源", "资料来源", "图表来源", "来源")
STAFF = re.compile(
    r"^[（(]?\s*(?:本版|本期|本栏)?(?:责任编辑|责编|编辑|统筹|策划|美术编辑|美编|图片编辑|视觉设计|版式设计|版式|设计|制图|校对|责任校对)\s*[:：]"
)


@dataclass(frozen=True)
class Credit:
    text: str  # the credit as printed, padding collapsed (a photo's caption left out)
    people: tuple[Contributor, ...]


def collapse(text: str) -> str:
    """The line with each run of padding shown as one space: the byline as printed, minus layout."""
    return PAD.sub(" ", text).strip()


def people(text: str, default_role: str | None = None, need_role: bool = True) -> tuple[Contributor, ...] | None:
    """Contributors named in `text` (roles, padded names, 、-lists); None when `text` is no credit."""
    if len(collapse(text)) > MAX_NAMES_LEN:
        return None
    tokens = [t for t in PAD.split(LIST_SEPARATORS.sub(" ", text)) if t]
    role = default_role
    seen_role = False
    out: list[Contributor] = []
    singles: list[str] = []

    def flush() -> bool:
        if not singles:
            return True
        if len(singles) % 2 == 0:
            names = ["".join(singles[i : i + 2]) for i in range(0, len(singles), 2)]
        elif len(singles) == 3:
            names = ["".join(singles)]
        else:
            return False
        out.extend(Contributor(role, n) for n in names)
        singles.clear()
        return True

    for token in tokens:
        m = ROLE.match(token)
        if m:
            if not flush():
                return None
            role, seen_role = m.group(0), True
            token = token[m.end():]
            if not token:
                continue
            if NOT_A_NAME.match(token):
                return None
        if not NAME.match(token):
            return None
        if len(token) == 1:
            singles.append(token)
            continue
        if not flush():
            return None
        out.append(Contributor(role, token))
    if not flush() or not out or (need_role and not seen_role):
        return None
    return tuple(out)


def byline_credit(text: str) -> Credit | None:
    """A byline at the head (`本报记者\xa0\xa0苏\xa0\xa0航`) or wrapped at the end (`（本报记者王浩报道）`)."""
    m = WRAPPED.match(text.strip())
    inner = m.group(1).strip() if m else text.strip()
    if inner.endswith("摄"):  # `新华社记者  黄孝邦摄` names a photographer: photo_credit's
        return None
    found = people(REPORTED.sub("", inner)) if m else people(text)
    return Credit(collapse(text), found) if found else None


def photo_credit(text: str) -> Credit | None:
    """Who took the photo in a line ending `…摄` or `…摄（agency）`; the caption before it is skipped.

    Every photographer gets the role 摄影, what they did for this article; an affiliation printed
    before the name (新华社记者, 本报记者) stays in the credit's text."""
    stripped = text.strip()
    if (w := WRAPPED.match(stripped)) and w.group(1).strip().endswith("摄"):
        stripped = w.group(1).strip()
    m = PHOTO.match(stripped)
    if not m:
        return None
    credit = SENTENCE_END.split(m.group(1))[-1]
    tokens = [t for t in PAD.split(credit) if t]
    for k in range(len(tokens)):
        found = people(" ".join(tokens[k:]), default_role="摄影", need_role=False)
        if found:
            shown = " ".join(tokens[k:]) + "摄" + (m.group(2) or "")
            return Credit(f"（{shown}）" if stripped != text.strip() else shown, tuple(Contributor("摄影", c.name) for c in found))
    return None


def label_credit(text: str) -> Credit | None:
    """A `label：names` credit of the article's content (`图片来源：人民视觉`, `制图：汪哲平` is staff).

    The people are named with the label as their role; a source (an agency, a website) names nobody."""
    m = LABEL.match(text.strip())
    if not m:
        return None
    label, value = m.group(1), m.group(2)
    found = () if label in SOURCE_LABELS else people(value, default_role=label, need_role=False) or ()
    return Credit(collapse(text), found)


def is_staff(text: str) -> bool:
    """Page staff (`责任编辑：…`, `版式设计：…`, `本版统筹：…`): page furniture, no part of an article."""
    return STAFF.match(text.strip()) is not None


def dateline_credit(text: str) -> tuple[Contributor, ...]:
    """Reporters named in a dateline such as `本报北京5月20日电（记者王浩）`; the text itself stays body."""
    m = DATELINE.match(text)
    if not m or not m.group(1):
        return ()
    return people(m.group(1)) or ()


def unique(people: list[Contributor]) -> tuple[Contributor, ...]:
    """Each person once, as first named (a dateline often repeats the byline)."""
    seen: dict[str, Contributor] = {}
    for c in people:
        seen.setdefault(c.name, c)
    return tuple(seen.values())
