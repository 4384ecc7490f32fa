"""The page parser, on the seed and on pages in the same layout written for the tests."""

from __future__ import annotations

import json

import pytest

from archive.document import ParseError
from archive.formats import page
from tests.conftest import DATA, SEED
from tests.pagegen import build_page, document_dict


def test_seed_parses_exactly():
    expected = json.loads((DATA / "seed.expected.json").read_text(encoding="utf-8"))
    expected.pop("source")
    got = document_dict(page.parse(SEED.read_text(encoding="utf-8")))
    assert got == expected


@pytest.mark.parametrize("seed", range(40))
def test_generated_pages_parse_exactly(seed):
    text, expected = build_page(seed, articles=1 + seed % 3)
    assert document_dict(page.parse(text)) == expected


def test_two_line_heading_is_joined_by_one_space():
    text, expected = build_page(3)
    doc = page.parse(text)
    headings = [s.heading for a in doc.articles for s in a.sections if s.heading]
    assert headings and all("  " not in h for h in headings)
    assert headings == [s["heading"] for a in expected["articles"] for s in a["sections"] if s["heading"]]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def test_crlf_cr_and_ideographic_padding_parse_like_the_seed():
    seed = SEED.read_text(encoding="utf-8")
    want = document_dict(page.parse(seed))
    for variant in (
        seed.replace("\n", "\r\n"),
        seed.replace("\n", "\r"),
        "\n".join("\u3000\u3000" + ln + "\u00a0" if ln else ln for ln in _lines(seed)),
    ):
        assert document_dict(page.parse(variant)) == want


@pytest.mark.parametrize(
    "mutate, line, reason",
    [
        (lambda ls: ls[:2] + ls[8:], 4, "no masthead"),
        (lambda ls: ls[:3] + ["星期二"] + ls[4:], 4, "weekday 星期二 does not match"),
        (lambda ls: ls[:2] + ["2020年2月30日"] + ls[3:], 3, "impossible date"),
        (lambda ls: ls[:60] + ["2020年8月27日", "星期四", "第4013期"] + ls[60:], 61, "second masthead"),
        (lambda ls: ls[:15], 14, "no article"),
    ],
    ids=["no-masthead", "weekday", "impossible-date", "two-mastheads", "masthead-only"],
)
def test_unparseable_pages_say_where_and_why(mutate, line, reason):
    text = "\n".join(mutate(_lines(SEED.read_text(encoding="utf-8"))))
    with pytest.raises(ParseError) as err:
        page.parse(text)
    assert reason in err.value.reason
    assert err.value.line == line


def test_byline_roles_and_names():
    assert page.parse_byline("本报记者●王祯 通讯员●梁彦强") == (
        page.Contributor("本报记者", "王祯"),
        page.Contributor("通讯员", "梁彦强"),
    )
    assert [c.name for c in page.parse_byline("本报通讯员●赵磊 孙悦")] == ["赵磊", "孙悦"]
    assert page.parse_byline("记者了解到，这项工作进展顺利。") is None
