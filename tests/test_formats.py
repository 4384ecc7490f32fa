"""The input formats: each on files written for the tests in its layout, parsed to expected JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.decode import decode
from archive.document import Contributor, ParseError
from archive.formats import FORMATS, article, credits, detect, markdown, page, parse_text
from archive.formats.metadata import Metadata, NamePatternError, normalise_page, source_line
from tests.conftest import DATA, SEED
from tests.formatgen import build_article, build_markdown
from tests.pagegen import build_page, document_dict

FORMAT_DATA = DATA / "formats"
FILES = sorted(p for p in FORMAT_DATA.rglob("*") if p.suffix in (".txt", ".md"))


def full_dict(doc) -> dict:
    """document_dict plus the fields only some formats know."""
    d = document_dict(doc)
    for a, out in zip(doc.articles, d["articles"]):
        out.update(kicker=a.kicker, page=a.page, page_name=a.page_name, source_url=a.source_url)
    return d


def expected_for(path: Path) -> tuple[str, Metadata, dict]:
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8"))
    fmt = expected.pop("format")
    meta = Metadata(**expected.pop("options")).for_path(str(path))
    return fmt, meta, expected


def test_every_format_has_test_files():
    assert {p.parent.name for p in FILES} == set(FORMATS)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_format_files_parse_exactly(path):
    fmt, meta, expected = expected_for(path)
    text = path.read_bytes().decode("utf-8")
    chosen, doc = parse_text(text, None, meta)
    assert chosen == fmt == path.parent.name
    assert full_dict(doc) == expected
    assert full_dict(parse_text(text, fmt, meta)[1]) == expected


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_line_endings_do_not_change_the_parse(path):
    fmt, meta, expected = expected_for(path)
    text = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
    for variant in (text, text.replace("\n", "\r\n"), "\ufeff" + text):
        assert full_dict(FORMATS[fmt].parse(variant, meta)) == expected


def test_seed_still_parses_exactly_through_the_registry():
    expected = json.loads((DATA / "seed.expected.json").read_text(encoding="utf-8"))
    expected.pop("source")
    chosen, doc = parse_text(SEED.read_text(encoding="utf-8"))
    assert chosen == "page"
    assert document_dict(doc) == expected
    assert all(a.page is None and a.kicker is None for a in doc.articles)


@pytest.mark.parametrize("seed", range(0, 40, 7))
def test_generated_pages_are_detected_as_pages(seed):
    text, expected = build_page(seed, articles=1 + seed % 3)
    chosen, doc = parse_text(text, "auto")
    assert chosen == "page" and document_dict(doc) == expected


def test_text_no_format_knows_gets_the_page_error():
    with pytest.raises(ParseError) as err:
        parse_text("这只是一段文字，没有报头。\n")
    assert err.value.line == 1 and "no masthead" in err.value.reason


# ---------------------------------------------------------------- page: inside pages, several articles


def test_inside_page_without_a_name_needs_newspaper():
    text = (FORMAT_DATA / "page" / "inside_page.txt").read_text(encoding="utf-8")
    with pytest.raises(ParseError) as err:
        page.parse(text)
    assert err.value.line == 3 and "no newspaper name (give --newspaper)" in err.value.reason


def test_inside_page_header_facts():
    doc = page.parse((FORMAT_DATA / "page" / "inside_page.txt").read_text(encoding="utf-8"), Metadata(newspaper="江城晚报"))
    assert [a.title for a in doc.articles] == ["社区矫正织密帮教网", "法律援助开辟“绿色通道”", "普法讲座走进企业车间"]
    assert {(a.page, a.page_name) for a in doc.articles} == {("5", "法治视点")}
    # the editors close the header: neither is taken for a title, name or page name
    assert all("编辑" not in (a.title + (a.byline or "")) for a in doc.articles)


@pytest.mark.parametrize(
    "header, name, page_, page_name",
    [
        (["2021年3月5日", "第5版"], "江城晚报", "5", None),  # the title follows the page line at once
        (["2021年3月5日", "第5版", "法治视点", "江城日报"], "江城日报", "5", "法治视点"),
        (["江城日报", "2021年3月5日", "第01版", "要闻"], "江城日报", "1", "要闻"),
        (["2021年3月5日　星期五　A03版　法治视点　责任编辑：李　明"], "江城晚报", "A3", "法治视点"),
    ],
)
def test_inside_page_headers(header, name, page_, page_name):
    text = "\n".join([*header, "社区矫正织密帮教网", "本报记者●周宁", "今年以来，工作取得明显成效。"])
    doc = page.parse(text, Metadata(newspaper="江城晚报"))
    a = doc.articles[0]
    assert (doc.newspaper.name, a.title, a.page, a.page_name) == (name, "社区矫正织密帮教网", page_, page_name)
    assert [p.text for p in a.paragraphs] == ["今年以来，工作取得明显成效。"]


def test_inside_page_weekday_is_checked():
    text = (FORMAT_DATA / "page" / "inside_page_oneline.txt").read_text(encoding="utf-8").replace("星期六", "星期日")
    with pytest.raises(ParseError) as err:
        page.parse(text)
    assert err.value.line == 3 and "weekday 星期日 does not match" in err.value.reason


# ---------------------------------------------------------------- article


def _article_file() -> str:
    return (FORMAT_DATA / "article" / "20210305-5-2.txt").read_bytes().decode("utf-8")


def test_article_without_metadata_says_what_to_give():
    with pytest.raises(ParseError) as err:
        article.parse(_article_file())
    assert err.value.line == 1
    assert err.value.reason == (
        "the file does not say its newspaper: give --newspaper or a --name-pattern with {newspaper}"
    )
    meta = Metadata(newspaper="江城晚报", name_pattern="{date:%Y%m%d}_{page}.txt").for_path("/x/20210305-5-2.txt")
    with pytest.raises(ParseError) as err:
        article.parse(_article_file(), meta)
    assert "file name '20210305-5-2.txt' does not match --name-pattern '{date:%Y%m%d}_{page}.txt'" in err.value.reason


def test_article_options_without_pattern():
    meta = Metadata(newspaper="江城晚报", date=dt.date(2021, 3, 5), page="05")
    doc = article.parse(_article_file(), meta)
    a = doc.articles[0]
    assert (doc.issue.date, a.ordinal, a.page, a.kicker) == (dt.date(2021, 3, 5), 1, "5", "守护“舌尖上的安全”")


def test_article_title_block_centred_with_ideographic_spaces():
    meta = Metadata(newspaper="江城晚报", date=dt.date(2021, 3, 5))
    lines = _article_file().split("\r\n")
    centred = [f"\u3000\u3000\u3000{ln}" if ln else ln for ln in lines[:3]] + lines[3:]
    assert full_dict(article.parse("\r\n".join(centred), meta)) == full_dict(article.parse(_article_file(), meta))
    # a first paragraph on line 3 is body, not a subtitle
    doc = article.parse("引题\n主题\n\u3000\u3000“正文只有一段。”\n", meta)
    assert doc.articles[0].subtitle is None and doc.articles[0].paragraphs[0].text == "“正文只有一段。”"


def test_article_furniture_and_credits_are_not_body():
    meta = Metadata(newspaper="江城晚报", date=dt.date(2021, 3, 5))
    body = " ".join(p.text for p in article.parse(_article_file(), meta).articles[0].paragraphs)
    assert "版式设计" not in body and "摄" not in body and "本报记者" not in body
    assert body.startswith("本报江城3月4日电")  # the dateline stays: it is printed body text


def test_article_without_body_or_title():
    with pytest.raises(ParseError) as err:
        article.parse("\r\n\r\n\r\n\u3000\u3000正文。", Metadata(newspaper="江城晚报", date=dt.date(2021, 3, 5)))
    assert err.value.line == 1 and "no title" in err.value.reason
    # a title over nothing but page furniture is an article without body text, not a failure
    doc = article.parse("引题\r\n主题\r\n\r\n版式设计：陈晨", Metadata(newspaper="江城晚报", date=dt.date(2021, 3, 5)))
    assert (doc.articles[0].title, doc.articles[0].sections) == ("主题", ())


# ---------------------------------------------------------------- markdown


def test_markdown_front_matter_alone_gives_the_title():
    text = "---\n标题: 江城启动全民阅读月活动\n日期: 2021年3月7日\n报纸: 江城晚报\n作者: 本报记者 陈静\n---\n\n正文第一段。\n"
    doc = markdown.parse(text)
    a = doc.articles[0]
    assert (a.title, doc.issue.date, doc.newspaper.name) == ("江城启动全民阅读月活动", dt.date(2021, 3, 7), "江城晚报")
    assert a.contributors == (Contributor("本报记者", "陈静"),)
    assert a.paragraphs[0].line_start == 8


@pytest.mark.parametrize(
    "text, line, reason",
    [
        ("---\ntitle: 标题\ndate: [2021\n---\n\n正文。\n", 3, "front matter is not valid YAML"),
        ("---\ntitle: 标题\ndate: 三月\nnewspaper: 江城晚报\n---\n\n正文。\n", 3, "date '三月' is not a date"),
        ("---\ntitle: 标题\ndate: 2021-03-07\nnewspaper: 江城晚报\n---\n\n# 标题\n", 7, "no body text"),
        ("# 标题\n\n正文。\n", 1, "does not say its newspaper"),
        ("---\n- a\n- b\n---\n正文。\n", 2, "front matter must be key: value lines"),
    ],
    ids=["bad-yaml", "bad-date", "no-body", "no-newspaper", "not-a-mapping"],
)
def test_markdown_errors_say_where_and_why(text, line, reason):
    with pytest.raises(ParseError) as err:
        markdown.parse(text)
    assert reason in err.value.reason
    assert err.value.line == line


# ---------------------------------------------------------------- detection, credits, metadata


def test_detect_prefers_each_layout():
    assert detect(SEED.read_text(encoding="utf-8")) == "page"
    assert detect("---\ntitle: x\n---\n正文。") == "markdown"
    assert detect("引题\n主题\n副题\n\u3000\u3000第一段。\n\u3000\u3000第二段。") == "article"


def test_detect_sniffs_only_formats_that_can_win_and_picks_what_every_sniff_would():
    """detect skips a format whose TOP_SCORE cannot beat the best score so far; on every test file
    (and a few shapes no layout reads) it picks what scoring every format picks, and no sniff scores
    above its TOP_SCORE."""
    data = Path(__file__).parent / "data"
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(data.rglob("*"))
             if p.is_file() and p.suffix in (".txt", ".md")]
    texts += ["", "\n\n", "正文。", "# 标题\n正文。", "---\ntitle: x\n---\n", "2020年8月26日\n\u3000\u3000正文。"]
    assert len(texts) > 20
    for text in texts:
        scores = {name: module.sniff(text) for name, module in FORMATS.items()}
        assert all(scores[name] <= module.TOP_SCORE for name, module in FORMATS.items())
        assert detect(text) == max(FORMATS, key=scores.__getitem__)


@pytest.mark.parametrize(
    "line, role_names",
    [
        ("本报记者\xa0\xa0苏\xa0\xa0航", [("本报记者", "苏航")]),
        ("本报记者 王浩、刘毅", [("本报记者", "王浩"), ("本报记者", "刘毅")]),
        ("本报驻广西记者\u3000李晓明\u3000通讯员\u3000韦\u3000芳", [("本报驻广西记者", "李晓明"), ("通讯员", "韦芳")]),
        ("（记者王浩报道）", [("记者", "王浩")]),
    ],
)
def test_bylines(line, role_names):
    found = credits.byline_credit(line)
    assert [(c.role, c.name) for c in found.people] == role_names


@pytest.mark.parametrize(
    "line, text, role_names",
    [
        ("苏航摄（影像中国）", "苏航摄（影像中国）", [("摄影", "苏航")]),
        ("图为工人在车间作业。\xa0\xa0本报记者\xa0\xa0王\xa0\xa0浩摄", "本报记者 王 浩摄", [("摄影", "王浩")]),
        ("新华社记者\xa0\xa0黄孝邦摄", "新华社记者 黄孝邦摄", [("摄影", "黄孝邦")]),
        ("（本报记者王浩摄）", "（本报记者王浩摄）", [("摄影", "王浩")]),
    ],
)
def test_photo_credits(line, text, role_names):
    found = credits.photo_credit(line)
    assert found.text == text and [(c.role, c.name) for c in found.people] == role_names


@pytest.mark.parametrize("line", ["记者了解到，这项工作进展顺利。", "记者走访发现问题仍然不少并且还在增加", "他们正在拍摄", "从严查处"])
def test_body_lines_are_not_credits(line):
    assert credits.byline_credit(line) is None and credits.photo_credit(line) is None


def test_dateline_names_reporters():
    assert credits.dateline_credit("本报北京5月20日电\u3000（记者王浩、刘毅）国务院新闻办公室20日举行发布会。") == (
        Contributor("记者", "王浩"),
        Contributor("记者", "刘毅"),
    )
    assert credits.dateline_credit("本报讯　昨天上午，地铁开通。") == ()


def test_name_pattern():
    meta = Metadata(newspaper="江城晚报", name_pattern="{date:%Y%m%d}-{page}-{ordinal}.txt")
    got = meta.for_path("/data/crawl/20200521-11-3.txt")
    assert (got.date, got.page, got.ordinal, got.newspaper) == (dt.date(2020, 5, 21), "11", 3, "江城晚报")
    got = Metadata(name_pattern="{newspaper}/{date}_{page}.txt").for_path("/x/人民日报/2020-05-21_A03.txt")
    assert (got.newspaper, got.date, got.page) == ("人民日报", dt.date(2020, 5, 21), "A3")
    assert Metadata(name_pattern="{date}.txt").for_path("/x/notadate.txt").unmatched_name == "notadate.txt"
    for bad in ("{author}.txt", "{}.txt", "{date:%Y", "plain.txt"):
        with pytest.raises(NamePatternError):
            Metadata(name_pattern=bad).for_path("/x/a.txt")


def test_source_lines_and_pages():
    assert source_line("《人民日报》（2020年05月21日\u3000第11版）") == {
        "newspaper": "人民日报",
        "date": dt.date(2020, 5, 21),
        "page": "11",
    }
    assert source_line("来源：江城晚报 2021-03-05 https://www.example.cn/a.htm")["source_url"] == "https://www.example.cn/a.htm"
    assert [normalise_page(p) for p in ("05", "A03", "12", "B")] == ["5", "A3", "12", "B"]


# ---------------------------------------------------------------- generated files, many layouts


@pytest.mark.parametrize("seed", range(30))
def test_generated_article_files_parse_exactly(seed):
    data, expected, options = build_article(seed)
    text = decode(data).text
    chosen, doc = parse_text(text, None, Metadata(**options))
    assert chosen == "article"
    assert full_dict(doc) == expected


@pytest.mark.parametrize("seed", range(20))
def test_generated_markdown_parses_exactly(seed):
    text, expected = build_markdown(seed)
    chosen, doc = parse_text(text)
    assert chosen == "markdown"
    assert full_dict(doc) == expected


# ---------------------------------------------------------------- anything in, a Document or a ParseError out

PIECES = [
    "2021年3月5日", "星期五", "第5版", "法治视点", "责任编辑：李明", "江城晚报", "本报记者●周宁", "本报记者\xa0\xa0苏\xa0\xa0航",
    "——副题", "\u3000\u3000", "\xa0", "今年以来，工作取得成效。", "“法律明白人”", "（本报记者王浩报道）", "王浩摄（新华社发）",
    "《江城晚报》（2021年03月05日 第05版）", "版式设计：陈晨", "---", "title: 标题", "date: [", "# ", "## ", "> 来源：",
    "https://x.example.cn/a", "\n", "\r\n", "\n\n", " ", "：", "。", "A03版", "\ufeff",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.sampled_from([None, *FORMATS]))
def test_any_text_gives_a_document_or_a_parse_error(pieces, fmt):
    text = "".join(pieces)
    meta = Metadata(newspaper="江城晚报", date=dt.date(2021, 3, 5))
    try:
        name, doc = parse_text(text, fmt, meta)
    except ParseError as exc:
        assert exc.line >= 1 and exc.reason and "\n" not in exc.reason
        return
    assert name in FORMATS and doc.articles
    for a in doc.articles:
        # only an article file may hold a title alone (an advertisement, a photo); no section is empty
        assert a.title and (a.paragraphs or name == "article") and all(p.text for p in a.paragraphs)
        assert all(s.paragraphs for s in a.sections)


def test_fields_longer_than_their_columns_are_refused_on_every_engine():
    text = "---\ntitle: 标题\ndate: 2021-03-07\npage: " + "A" * 30 + "\n---\n\n正文。\n"
    with pytest.raises(ParseError) as err:
        parse_text(text, None, Metadata(newspaper="江城晚报"))
    assert err.value.format == "markdown"
    assert err.value.reason == "article 1: page has 30 characters, more than the 20 stored"
    with pytest.raises(ParseError) as err:
        parse_text(text.replace("A" * 30, "5"), None, Metadata(newspaper="报" * 201))
    assert err.value.reason == "newspaper: name has 201 characters, more than the 200 stored"
