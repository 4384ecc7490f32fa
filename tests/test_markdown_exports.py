"""Per-article Markdown exports seen in the wild, each written for the tests: a `### title` over a
metadata block (as 人民日报 1946 exports are), front matter with `section_name`."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.document import Contributor
from archive.formats import parse_text
from archive.formats.metadata import Metadata

META = Metadata(newspaper="人民日报")

EXPORT_1946 = """### 五月杂感

- 作者：郭沫若
- 日期：1946年5月15日
- 版次：第4版
- 报纸：人民日报

　　五月是纪念的月份，也是斗争的月份。

　　我们纪念过去，是为了争取将来。
"""

BOLD_BLOCK = """## 解放区的春耕

**作者**：本报记者 李　庄
**日期**：1946-04-02
**版面**：第2版

各地农民积极准备春耕。

#### 互助组

互助组普遍建立起来了。
"""

SECTION_NAME = """---
title: 稳住农业基本盘
date: 2020-05-21
newspaper: 人民日报
section_name: 要闻
page: "03"
---

今年粮食生产形势总体向好。
"""


def test_a_1946_export_with_a_heading_title_and_a_metadata_list():
    name, doc = parse_text(EXPORT_1946)
    a = doc.articles[0]
    assert name == "markdown"
    assert (doc.newspaper.name, doc.issue.date, a.title, a.page) == ("人民日报", dt.date(1946, 5, 15), "五月杂感", "4")
    assert a.contributors == (Contributor(None, "郭沫若"),) and a.byline == "郭沫若"
    assert [(p.text, p.line_start) for p in a.paragraphs] == [
        ("五月是纪念的月份，也是斗争的月份。", 8),
        ("我们纪念过去，是为了争取将来。", 10),
    ]


def test_a_bold_metadata_block_and_deeper_headings_as_sections():
    name, doc = parse_text(BOLD_BLOCK, None, META)
    a = doc.articles[0]
    assert name == "markdown" and doc.issue.date == dt.date(1946, 4, 2)
    assert (a.title, a.subtitle, a.page, a.contributors) == ("解放区的春耕", None, "2", (Contributor("本报记者", "李庄"),))
    assert [(s.heading, [p.text for p in s.paragraphs]) for s in a.sections] == [
        (None, ["各地农民积极准备春耕。"]),
        ("互助组", ["互助组普遍建立起来了。"]),
    ]


def test_section_name_is_the_page_name():
    doc = parse_text(SECTION_NAME)[1]
    assert (doc.articles[0].page_name, doc.articles[0].page) == ("要闻", "3")


@pytest.mark.parametrize("text", [EXPORT_1946, BOLD_BLOCK])
def test_no_markup_is_stored_as_a_title(text):
    a = parse_text(text, None, META)[1].articles[0]
    assert not a.title.startswith("#") and "：" not in a.title
