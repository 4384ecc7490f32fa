"""Article files as a real crawl holds them, each case written for the tests: nothing lost, text as printed,
credits as credits. `S` is the crawl's U+3000 indent, `N` its U+00A0 padding."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.document import Contributor, ParseError
from archive.formats import article, parse_text
from archive.formats.metadata import Metadata

S, N = "\u3000", "\u00a0"
META = Metadata(newspaper="人民日报", date=dt.date(2020, 5, 21))


def parsed(*lines: str, fmt: str = "auto"):
    """The one article of a file made of `lines` (CRLF, as the crawl writes them)."""
    name, doc = parse_text("\r\n".join(lines) + "\r\n", fmt, META)
    assert name == "article"
    return doc.articles[0]


def body(a) -> list[tuple[str | None, list[str]]]:
    return [(s.heading, [p.text for p in s.paragraphs]) for s in a.sections]


# ---------------------------------------------------------------- 1. no file lost


@pytest.mark.parametrize(
    "lines, title",
    [
        (["", "广告", ""], "广告"),  # an advertisement: the title is all the crawl saved
        (["", "春到江南（中国画）", "", f"{S}{S}宋雨桂"], "春到江南（中国画）"),  # a painting and its painter
        (["", "美丽中国", "", f"图片来源：人民视觉", "", f"版式设计：沈{N}{N}亦"], "美丽中国"),  # a photo page
    ],
    ids=["advertisement", "painting", "credits-only"],
)
def test_an_article_without_sentences_is_stored_not_failed(lines, title):
    a = parsed(*lines)
    assert a.title == title
    assert all(s.paragraphs for s in a.sections)  # no empty section, whatever body there is


def test_a_body_of_credits_is_kept_in_the_byline():
    a = parsed("", "美丽中国", "", "图片来源：人民视觉", "本版制图：汪哲平", "本版统筹：张　意")
    assert (a.sections, a.byline) == ((), "图片来源：人民视觉")


def test_a_painting_keeps_its_one_line_of_body():
    a = parsed("", "春到江南（中国画）", "", f"{S}{S}宋雨桂")
    assert body(a) == [(None, ["宋雨桂"])]


@pytest.mark.parametrize(
    "lines",
    [
        [f"{S}{S}春风又绿江南岸", f"{S}{S}明月何时照我还", f"{S}{S}一水护田将绿绕", f"{S}{S}两山排闼送青来"],
        [f"{S}{S}一等奖", f"{S}{S}张　伟　李晓明　王　芳", f"{S}{S}二等奖", f"{S}{S}赵　磊　刘　洋　陈　静　周　宁"],
        [f"{S}{S}春风又绿江南岸", f"{S}{S}明月何时照我还"],  # a couplet alone heads nothing
    ],
    ids=["poem", "winners", "couplet"],
)
def test_verse_and_name_lists_are_paragraphs_not_one_heading(lines):
    a = parsed("", "江南春", "", *lines)
    assert body(a) == [(None, [ln.strip(S) for ln in lines])]


def test_the_only_failures_are_no_title_and_markup():
    with pytest.raises(ParseError, match="no title"):
        article.parse(f"\n\n\n{S}{S}正文。", META)


# ---------------------------------------------------------------- 2. text as printed


def test_a_short_first_sentence_is_not_a_lead_and_not_split():
    a = parsed("", "粮食生产再获丰收", "", f"{S}{S}民以食为天。今年全国粮食总产量再创新高。夏粮丰收。秋粮长势良好。")
    assert [(p.text, p.lead) for p in a.paragraphs] == [("民以食为天。今年全国粮食总产量再创新高。夏粮丰收。秋粮长势良好。", None)]


@pytest.mark.parametrize("indent", [f"{S}{S}", ""], ids=["indented", "flush"])
def test_salutations_stay_two_paragraphs(indent):
    lines = ["女士们，先生们，", "朋友们：", "同志们，朋友们：", "今天，我们在这里隆重集会。"]
    # a body printed flush left is read as an article only when asked: without a masthead it could be a page
    a = parsed("", "在纪念大会上的讲话", "", *(indent + ln for ln in lines), fmt="article" if not indent else "auto")
    assert body(a) == [(None, lines)]


def test_a_heading_on_two_lines_is_joined():
    a = parsed("", "政府工作报告", "", f"{S}{S}一、坚持人民至上", f"{S}{S}始终把群众利益放在首位", f"{S}{S}过去一年，我们办成了许多大事。")
    assert body(a) == [("一、坚持人民至上 始终把群众利益放在首位", ["过去一年，我们办成了许多大事。"])]


def test_a_long_run_of_short_lines_is_a_list_never_one_heading():
    contents = [f"第{n}章　{'总则分则附则罚则职责保障程序监督'[2 * n - 2:2 * n]}规定" for n in range(1, 9)]
    a = parsed("", "中华人民共和国某某法", "", *(f"{S}{S}{c}" for c in contents), f"{S}{S}本法自公布之日起施行。")
    assert body(a) == [(None, [*contents, "本法自公布之日起施行。"])]


def test_law_articles_ending_in_a_colon_head_nothing():
    lines = ["第三条　下列行为属于违法行为：", "（一）擅自改变用途的；", "第四条　国家鼓励下列活动：", "（一）科学研究；"]
    a = parsed("", "某某条例", "", *(f"{S}{S}{ln}" for ln in lines))
    assert body(a) == [(None, lines)]
    assert all(p.line_start == p.line_end for p in a.paragraphs)


# ---------------------------------------------------------------- 3. credits are credits


def test_agency_photographer_is_a_photographer():
    a = parsed("", "春耕正忙", "", f"{S}{S}农民在田间插秧。", f"新华社记者{N}{N}黄孝邦摄")
    assert a.contributors == (Contributor("摄影", "黄孝邦"),)
    assert a.byline == "新华社记者 黄孝邦摄" and body(a) == [(None, ["农民在田间插秧。"])]


@pytest.mark.parametrize("credit", ["图片来源：人民视觉", "本版制图：汪哲平", "本版统筹：张　意", "制图：汪哲平", "数据来源：国家统计局"])
def test_credit_lines_are_never_headings(credit):
    a = parsed("", "经济数据", "", f"{S}{S}一季度经济运行平稳。", credit)
    assert body(a) == [(None, ["一季度经济运行平稳。"])]
    a = parsed("", "经济数据", "", credit, f"{S}{S}一季度经济运行平稳。")
    assert body(a) == [(None, ["一季度经济运行平稳。"])]


def test_an_author_note_is_a_paragraph():
    a = parsed("", "音乐的力量", "", f"{S}{S}音乐让人们走到一起。", f"{S}{S}（作者为钢琴家）")
    assert body(a) == [(None, ["音乐让人们走到一起。", "（作者为钢琴家）"])] and a.contributors == ()


def test_a_content_credit_names_its_person():
    a = parsed("", "城市地铁图", "", f"{S}{S}全市地铁线路总长超过五百公里。", "插图：李　明")
    assert a.contributors == (Contributor("插图", "李明"),) and a.byline == "插图：李 明"


# ---------------------------------------------------------------- 7. a file in another layout


@pytest.mark.parametrize(
    "text, line, reason",
    [
        ("### 五月杂感\n\n作者：郭沫若\n\n　　五月是纪念的月份。\n", 1, "is Markdown"),
        ("---\ntitle: 五月杂感\n---\n\n　　五月是纪念的月份。\n", 1, "is Markdown"),
        ("\n作者：郭沫若\n\n　　五月是纪念的月份。\n", 2, "metadata"),
    ],
    ids=["heading", "front-matter", "author-line"],
)
def test_forcing_article_on_another_layout_fails_with_a_reason(text, line, reason):
    with pytest.raises(ParseError) as err:
        article.parse(text, META)
    assert reason in err.value.reason and err.value.line == line
