"""Where a figure holds: archive/places.py over made-up sentences, one test per rule."""

from __future__ import annotations

import time

import pytest

from archive.places import (
    NATION,
    WORDLIKE_SHORT_FORMS,
    Place,
    article_place,
    gazetteer,
    place_of,
)

HUBEI = Place("湖北省", "province", "420000")
WUHAN = Place("武汉市", "prefecture", "420100")
BEIJING = Place("北京市", "province", "110000")


def names(text: str, article: Place | None = None) -> list[tuple[str, str]]:
    return [(m.place.name, m.place.level) for m in gazetteer().mentions(text, article)
            if m.place is not None]


def test_gazetteer_holds_every_level_with_codes():
    g = gazetteer()
    assert g.by_code["420000"] == HUBEI
    assert g.by_code["420100"] == WUHAN
    assert g.by_code["150200"] == Place("包头市", "prefecture", "150200")
    assert g.by_code["420115"] == Place("江夏区", "county", "420115")
    # the municipality is a province once, not again as a prefecture
    assert g.by_code["110000"] == BEIJING and "110100" not in g.by_code
    assert g.chain(g.by_code["420115"]) == (g.by_code["420115"], WUHAN, HUBEI)
    levels = {p.level for p in g.by_code.values()}
    assert levels == {"province", "prefecture", "county"}
    assert sum(p.level == "province" for p in g.by_code.values()) == 34


def test_full_names():
    assert names("湖北省新增病例5例") == [("湖北省", "province")]
    assert names("包头市GDP增长5%") == [("包头市", "prefecture")]
    assert names("内蒙古自治区粮食产量") == [("内蒙古自治区", "province")]
    assert names("义乌市出口增长") == [("义乌市", "county")]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("湖北新增病例5例", "湖北省"),
        ("武汉新增病例5例", "武汉市"),
        ("内蒙古粮食产量增长", "内蒙古自治区"),
        ("广西出口增长", "广西壮族自治区"),
        ("新疆棉花产量", "新疆维吾尔自治区"),
        ("香港确诊病例", "香港特别行政区"),
        ("恩施州接待游客", "恩施土家族苗族自治州"),
        ("恩施接待游客", "恩施土家族苗族自治州"),
        ("海西州盐湖", "海西蒙古族藏族自治州"),
        ("伊犁旅游", "伊犁哈萨克自治州"),
        ("锡林郭勒草原", "锡林郭勒盟"),
        ("大兴安岭林区", "大兴安岭地区"),
    ],
)
def test_short_forms(text, name):
    assert names(text)[0][0] == name


def test_province_beats_prefecture_of_the_same_short_name():
    assert names("吉林粮食产量") == [("吉林省", "province")]
    assert names("吉林市粮食产量") == [("吉林市", "prefecture")]
    assert names("海南游客") == [("海南省", "province")]


def test_wordlike_short_forms_need_their_full_name():
    assert {"三明", "四平", "大庆", "中山"} <= WORDLIKE_SHORT_FORMS
    assert names("三明治销量增长") == []
    assert names("四平八稳") == []
    assert names("中山大学招生5000人") == []
    assert names("三明市GDP增长") == [("三明市", "prefecture")]
    assert names("庆祝建国70周年大庆") == []


def test_a_run_of_names_is_its_most_specific_place():
    g = gazetteer()
    ms = g.mentions("湖北省武汉市江夏区新增3例")
    assert [(m.start, m.end, m.place.name) for m in ms] == [(0, 9, "江夏区")]
    assert names("湖北武汉累计确诊5万例") == [("武汉市", "prefecture")]
    assert names("内蒙古包头市GDP") == [("包头市", "prefecture")]
    # not a run: two places side by side that do not contain each other
    assert names("湖北、湖南两省") == [("湖北省", "province"), ("湖南省", "province")]


def test_counties_of_the_same_name_are_told_apart_by_context():
    g = gazetteer()
    assert g.mentions("北京市朝阳区新增3例")[0].place.code == "110105"
    assert g.mentions("长春市朝阳区新增3例")[0].place.code == "220104"
    # the article's place decides when the text does not
    assert g.mentions("朝阳区新增3例", BEIJING)[0].place.code == "110105"
    # nothing decides: the name is kept, the code left open
    assert g.mentions("朝阳区新增3例")[0].place == Place("朝阳区", "county", None)


def test_two_character_counties_only_after_their_parent():
    assert names("河南省滑县小麦产量") == [("滑县", "county")]
    assert names("新县城建设投资5亿元") == []
    assert names("加强管理县域经济") == []
    assert names("省市和县三级") == []


def test_market_is_no_city():
    assert names("武汉市场监管局") == [("武汉市", "prefecture")]  # 武汉 + 市场
    assert names("东方市场成交额") == []
    assert place_of("全市场成交额5000亿元", WUHAN, at=5) == WUHAN  # no 全市: the article's place
    assert place_of("全市场成交额5000亿元", HUBEI, at=5) == HUBEI


def test_foreign_countries():
    assert names("美国累计确诊500万例") == [("美国", "foreign")]
    assert names("美利坚合众国") == [("美国", "foreign")]
    assert names("大韩民国出口") == [("韩国", "foreign")]
    assert names("印度尼西亚") == [("印度尼西亚", "foreign")]
    assert gazetteer().mentions("俄罗斯")[0].place.code == "RU"
    # peoples of China, and names that are fragments of words
    assert names("朝鲜族群众") == []
    assert names("增加纳税人数") == []
    assert names("中非合作论坛") == []
    # Hong Kong, Macao and Taiwan are divisions, not foreign
    assert names("台湾") == [("台湾省", "province")]


def test_nation_words():
    for word in ("全国", "我国", "中国"):
        assert place_of(f"{word}粮食产量6.5亿吨", at=8) == NATION


def test_relative_words_resolve_against_the_article():
    assert place_of("全省新增病例5例", WUHAN) == HUBEI
    assert place_of("全市新增病例5例", WUHAN) == WUHAN
    assert place_of("我市新增病例5例", WUHAN) == WUHAN
    assert place_of("全市新增病例5例", BEIJING) == BEIJING
    assert place_of("全省新增病例5例", BEIJING) is None  # 北京 has no 省
    assert place_of("全省新增病例5例", None) is None
    xj = gazetteer().by_code["650000"]
    assert place_of("全区棉花产量500万吨", xj) == xj
    jiangxia = gazetteer().by_code["420115"]
    assert place_of("全区新增3例", jiangxia) == jiangxia
    assert place_of("全省新增3例", jiangxia) == HUBEI


def test_nearest_place_before_the_figure():
    text = "全国累计确诊8万例，其中湖北6.8万例，武汉5万例"
    assert place_of(text, at=text.index("8万")) == NATION
    assert place_of(text, at=text.index("6.8万")) == HUBEI
    assert place_of(text, at=text.index("5万")) == WUHAN
    assert place_of(text) == NATION  # no position: the first place


def test_fallback_to_the_article_but_not_to_beijing():
    assert place_of("累计确诊5万例", WUHAN, at=4) == WUHAN
    assert place_of("一季度GDP下降6.8%", BEIJING, at=8) is None
    assert place_of("一季度GDP下降6.8%", None, at=8) is None


@pytest.mark.parametrize(
    ("body", "title", "expected"),
    [
        ("本报武汉3月5日电（记者 张三）全省新增病例", None, "武汉市"),
        ("新华社北京3月5日电 国家统计局5日发布", None, "北京市"),
        ("本报湖北恩施三月五日电 记者", None, "恩施土家族苗族自治州"),
        ("中新社香港３月５日电", None, "香港特别行政区"),
        ("本报讯（记者 张三）全市新增", "包头一季度GDP增长", "包头市"),
        ("新华社华盛顿3月5日电", "美国确诊病例超过百万", "美国"),
        ("新华社华盛顿3月5日电", "疫情", None),
        (None, None, None),
    ],
)
def test_article_place_from_dateline_then_title(body, title, expected):
    found = article_place(body, title)
    assert (found.name if found else None) == expected


def test_speed_sentences_per_second():
    g = gazetteer()
    base = [
        "截至8月20日24时，湖北省武汉市累计报告确诊病例50340例，其中江夏区新增3例。",
        "上半年，全省规模以上工业增加值同比增长5.6%，比一季度加快2.1个百分点。",
        "美国累计确诊病例超过500万例，巴西超过300万例。",
        "全市共有医疗机构1200家，床位3.5万张。",
    ]
    sentences = base * 5000
    t = time.perf_counter()
    for s in sentences:
        place_of(s, WUHAN, at=len(s) // 2, gaz=g)
    rate = len(sentences) / (time.perf_counter() - t)
    # 50,000/s is the aim on a quiet core; the floor leaves room for a loaded shared machine
    assert rate > 10_000, rate


def test_the_automaton_rebuilt_for_the_text_it_met_finds_the_same_names():
    """The gazetteer rebuilds its automaton once it has seen enough text, with the first characters
    it met most often first among the root's children: the same trie, so the same mentions."""
    from pathlib import Path

    from archive.places import Gazetteer, _countries, _division_rows, _ethnic_groups

    data = Path(__file__).parent / "data"
    texts = [line for p in sorted(data.rglob("*.txt")) for line in p.read_text(encoding="utf-8").splitlines()]
    texts += ["湖北省武汉市江夏区新增3例", "五大连", "五大连池市", "武汉市场监管局", "朝鲜族", "全省", "河南省滑县"]
    g = Gazetteer(_division_rows(), _ethnic_groups(), _countries())
    g._to_learn = 10**12  # no rebuild while the mentions are read the first time
    before = [g.mentions(t, WUHAN) for t in texts]
    assert sum(map(len, before)) > 30
    first = g._automaton
    g._to_learn = 1
    g._learn("安市上中" * 10)  # first characters of names added among the last (安徽, 上海 …)
    assert g._automaton is not first and g._to_learn <= 0
    assert sorted(g._automaton.items()) == sorted(first.items())
    assert [g.mentions(t, WUHAN) for t in texts] == before
