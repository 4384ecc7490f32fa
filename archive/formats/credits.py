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
    found = people(REPORTED.sub("", m.group(1).strip())) if m else people(text)
    return Credit(collapse(text), found) if found else None


def photo_credit(text: str) -> Credit | None:
    """Who took the photo in a line ending `…摄` or `…摄（agency）`; the caption before it is skipped."""
    m = PHOTO.match(text.strip())
    if not m:
        return None
    credit = SENTENCE_END.split(m.group(1))[-1]
    tokens = [t for t in PAD.split(credit) if t]
    for k in range(len(tokens)):
        found = people(" ".join(tokens[k:]), default_role="摄影", need_role=False)
        if found:
            return Credit(" ".join(tokens[k:]) + "摄" + (m.group(2) or ""), found)
    return None


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
