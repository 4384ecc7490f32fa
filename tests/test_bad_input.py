"""Issue 7's bad-input matrix: every case is built here, then loaded in one batch per engine.

Each file either loads exactly (stored text equals what was written, never U+FFFD) or fails with one
`path:line: reason` line on stderr and stores nothing — and the other files of the batch still load.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import db
from archive.cli import main
from archive.models import Article, Issue, Newspaper, Paragraph, Section, Source
from archive.prepare import MAX_FILE_BYTES
from tests.conftest import DATA, ENGINES, SEED, _fresh_url
from tests.pagegen import build_page

SEED_TEXT = SEED.read_text(encoding="utf-8")
SEED_LINES = SEED_TEXT.split("\n")

# Simplified → traditional for every character of the seed that differs (written for this test, checked
# against OpenCC's s2tw table); enough to turn the seed into a page a Big5 source would hold.
SIMPLIFIED = (
    "万与专业东严个丰临为举义乐习书争于仅从仪们价众优会体余侦党关养内写军决况准划刘刚创别剂办务动励区单占厅历县参双发变台号后"
    "听启员响团围国圆场坚声处备复头奋孙学实审宽对导将层师带干并广应开异张强当彦征忧怀态总恳恶惩战户执扩扫扬抢护报担择挥据数斗"
    "断无时机杂条来极标树样档检楼气汇没洁测温满潜点烦热爱献环现电畅监盖盗着础确礼祯种积稳筛简类紧纠红级纪线练组细织终经结给络"
    "绝统继绩续综绿网联肃艳范获虑虽补见规觉计认讨让训议讯记讲论设访证评识诈诉词试诚话诱说课调谅谈负贡财责购贯资赞践踪车转轮软"
    "载较辅辟边达迁过还这进违连迹选邮采释针钱铁铸错锦锻长门问间闹闻队阳际随隐难页项顾顿预领题风飞马驻骗鱼鲜"
)
TRADITIONAL = (
    "萬與專業東嚴個豐臨為舉義樂習書爭於僅從儀們價眾優會體餘偵黨關養內寫軍決況準劃劉剛創別劑辦務動勵區單佔廳歷縣參雙發變臺號後"
    "聽啟員響團圍國圓場堅聲處備復頭奮孫學實審寬對導將層師帶幹並廣應開異張強當彥徵憂懷態總懇惡懲戰戶執擴掃揚搶護報擔擇揮據數鬥"
    "斷無時機雜條來極標樹樣檔檢樓氣匯沒潔測溫滿潛點煩熱愛獻環現電暢監蓋盜著礎確禮禎種積穩篩簡類緊糾紅級紀線練組細織終經結給絡"
    "絕統繼績續綜綠網聯肅豔範獲慮雖補見規覺計認討讓訓議訊記講論設訪證評識詐訴詞試誠話誘說課調諒談負貢財責購貫資贊踐蹤車轉輪軟"
    "載較輔闢邊達遷過還這進違連跡選郵採釋針錢鐵鑄錯錦鍛長門問間鬧聞隊陽際隨隱難頁項顧頓預領題風飛馬駐騙魚鮮"
)
TO_TRADITIONAL = str.maketrans(SIMPLIFIED, TRADITIONAL)
TO_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
PROSE = "全市各级司法行政机关组织开展送法进企业、进校园、进农村活动，受到群众广泛欢迎。"


def same(s: str) -> str:
    return s


@dataclass
class Case:
    name: str
    data: Callable[[], bytes]
    # Loads: the text that was encoded, and the map that turns the seed's expected strings into its own.
    text: str | None = None
    encoding: str = "utf-8"  # what detection must report
    transform: Callable[[str], str] = same
    extra_paragraph: str | None = None
    # Fails: the reason (regex) and the line it must name (None: any line).
    reason: str | None = None
    line: int | None = None


def _line_of(needle: str, text: str = SEED_TEXT) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _seed_with(line: int, insert: str) -> str:
    """The seed with `insert` placed in the middle of 1-based `line`."""
    lines = SEED_LINES[:]
    mid = len(lines[line - 1]) // 2
    lines[line - 1] = lines[line - 1][:mid] + insert + lines[line - 1][mid:]
    return "\n".join(lines)


def _middle_body_line() -> int:
    """A long body line well inside the seed (a paragraph on one line)."""
    return max(range(40, 70), key=lambda n: len(SEED_LINES[n - 1]))


BODY = _middle_body_line()
BIG5_TEXT = SEED_TEXT.translate(TO_TRADITIONAL)
FULLWIDTH_TEXT = SEED_TEXT.translate(TO_FULLWIDTH)
PADDED_TEXT = "\n".join(f"\u3000\u3000{ln}\u00a0 " if ln else ln for ln in SEED_LINES)
LONG_LINE = (PROSE * (1024 * 1024 // len(PROSE.encode("utf-8")) + 1))
LONG_TAIL_TEXT = SEED_TEXT + "\n\n" + LONG_LINE  # a 1 MB last line, no newline at the end
CUT_AT = SEED_TEXT.index(SEED_LINES[BODY - 1]) + len(SEED_LINES[BODY - 1]) // 2
MOJIBAKE = SEED_TEXT.encode("utf-8").decode("gbk", errors="ignore")


def _utf8(text: str) -> Callable[[], bytes]:
    return lambda: text.encode("utf-8")


CASES = [
    # -- loads
    Case("utf8_bom", lambda: codecs.BOM_UTF8 + SEED_TEXT.encode("utf-8"), text=SEED_TEXT),
    Case("utf16_le_bom", lambda: codecs.BOM_UTF16_LE + SEED_TEXT.encode("utf-16-le"), text=SEED_TEXT, encoding="utf-16-le"),
    Case("utf16_be_bom", lambda: codecs.BOM_UTF16_BE + SEED_TEXT.encode("utf-16-be"), text=SEED_TEXT, encoding="utf-16-be"),
    Case("gb18030", lambda: SEED_TEXT.encode("gb18030"), text=SEED_TEXT, encoding="gb18030"),
    # The seed's GBK bytes equal its GB18030 bytes: a final newline keeps the two files apart.
    Case("gbk", lambda: (SEED_TEXT + "\n").encode("gbk"), text=SEED_TEXT + "\n", encoding="gb18030"),  # GBK ⊂ GB18030
    Case("big5_traditional", lambda: BIG5_TEXT.encode("big5"), text=BIG5_TEXT, encoding="big5",
         transform=lambda s: s.translate(TO_TRADITIONAL)),
    Case("crlf", _utf8(SEED_TEXT.replace("\n", "\r\n")), text=SEED_TEXT.replace("\n", "\r\n")),
    Case("cr", _utf8(SEED_TEXT.replace("\n", "\r")), text=SEED_TEXT.replace("\n", "\r")),
    Case("u3000_indent_nbsp_padding", _utf8(PADDED_TEXT), text=PADDED_TEXT),
    Case("fullwidth_digits", _utf8(FULLWIDTH_TEXT), text=FULLWIDTH_TEXT,
         transform=lambda s: s.translate(TO_FULLWIDTH)),
    Case("line_of_1mb_without_newline", _utf8(LONG_TAIL_TEXT), text=LONG_TAIL_TEXT, extra_paragraph=LONG_LINE),
    # -- fails
    Case("empty", lambda: b"", reason="empty file", line=1),
    Case("whitespace_only", _utf8(" \n\t\n\u3000\u3000\r\n  "), reason="only white space", line=1),
    Case("binary_bytes", lambda: random.Random(7).randbytes(4096), reason="not a text file|not text in any supported encoding"),
    Case("png_named_txt", lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(64), reason="not a text file: NUL byte", line=3),
    Case("invalid_byte_in_utf8", lambda: _seed_with(BODY, "\0").encode("utf-8").replace(b"\0", b"\xff"),
         reason="not text in any supported encoding .*invalid byte 0xff", line=BODY),
    Case("cut_mid_paragraph", _utf8(SEED_TEXT[:CUT_AT]), reason="ends in the middle of a paragraph", line=BODY),
    Case("cut_mid_character", lambda: SEED_TEXT.encode("utf-8")[: len(SEED_TEXT[:CUT_AT].encode("utf-8")) + 1],
         reason="not text in any supported encoding", line=BODY),
    Case("no_masthead", _utf8("\n".join(SEED_LINES[13:])), reason="no masthead", line=1 + next(i for i, s in enumerate(SEED_LINES[13:]) if s)),
    Case("two_mastheads", _utf8(SEED_TEXT + "\n\n" + SEED_TEXT), reason="a second masthead", line=len(SEED_LINES) + 1 + _line_of("2020年8月26日")),
    Case("weekday_contradicts_date", _utf8(SEED_TEXT.replace("星期三", "星期四", 1)), reason="weekday 星期四 does not match", line=_line_of("星期三")),
    Case("impossible_date", _utf8(SEED_TEXT.replace("2020年8月26日", "2020年2月30日", 1)), reason="impossible date", line=_line_of("2020年8月26日")),
    Case("nul_bytes", _utf8(_seed_with(BODY, "\x00\x00")), reason="not a text file: NUL byte", line=BODY),
    Case("control_character", _utf8(_seed_with(BODY, "\x07")), reason="control character U\\+0007", line=BODY),
    Case("replacement_characters", _utf8(_seed_with(BODY, "\ufffd\ufffd")), reason="U\\+FFFD", line=BODY),
    Case("mojibake_utf8_read_as_gbk", _utf8(MOJIBAKE), reason="looks garbled", line=1),
    Case("line_of_1mb_alone", _utf8(LONG_LINE), reason="no masthead", line=1),
    Case("utf16_bom_then_broken", lambda: codecs.BOM_UTF16_LE + SEED_TEXT.encode("utf-16-le")[:-1],
         reason="not valid utf-16-le after its byte-order mark"),
]
BIG = "huge_50mb"
# SQLite loads the directory of 1,000 files; the servers, whose per-file round trips make that ten
# seconds each on a shared CI machine, load a directory of 50 built the same way.
DIR_FILES = {"sqlite": 1000, "postgresql": 50, "mysql": 50}
MISSING = "missing.txt"


def _many_page(i: int) -> tuple[str, dict]:
    return build_page(i, date=dt.date(2021, 1, 1) + dt.timedelta(days=i % 400), number=10_000 + i)


def expected_rows(transform: Callable[[str], str] = same, extra_paragraph: str | None = None) -> dict:
    exp = json.loads((DATA / "seed.expected.json").read_text(encoding="utf-8"))
    paragraphs = [
        (a["ordinal"], s["ordinal"], s["heading"] and transform(s["heading"]), p["ordinal"], p["line_start"], p["line_end"],
         p["lead"] and transform(p["lead"]), transform(p["text"]))
        for a in exp["articles"]
        for s in a["sections"]
        for p in s["paragraphs"]
    ]
    if extra_paragraph:
        a, s, h, p, *_ = paragraphs[-1]
        line = LONG_TAIL_TEXT.count("\n") + 1
        paragraphs.append((a, s, h, p + 1, line, line, None, extra_paragraph))
    return {
        "newspaper": transform(exp["newspaper"]["name"]),
        "date": dt.date.fromisoformat(exp["issue"]["date"]),
        "titles": [(transform(a["title"]), a["subtitle"] and transform(a["subtitle"])) for a in exp["articles"]],
        "paragraphs": paragraphs,
    }


def stored_rows(session: Session, path: Path) -> dict:
    source = session.execute(select(Source).where(Source.path == str(path))).scalar_one()
    articles = session.execute(
        select(Article.title, Article.subtitle, Newspaper.name, Issue.date)
        .join(Issue, Article.issue_id == Issue.id)
        .join(Newspaper, Issue.newspaper_id == Newspaper.id)
        .where(Article.source_id == source.id)
        .order_by(Article.ordinal)
    ).all()
    paragraphs = session.execute(
        select(Article.ordinal, Section.ordinal, Section.heading, Paragraph.ordinal, Paragraph.line_start,
               Paragraph.line_end, Paragraph.lead, Paragraph.text)
        .join(Section, Paragraph.section_id == Section.id)
        .join(Article, Paragraph.article_id == Article.id)
        .where(Article.source_id == source.id)
        .order_by(Article.ordinal, Paragraph.ordinal)
    ).all()
    return {
        "source": source,
        "rows": {
            "newspaper": articles[0].name,
            "date": articles[0].date,
            "titles": [(a.title, a.subtitle) for a in articles],
            "paragraphs": [tuple(p) for p in paragraphs],
        },
    }


@pytest.fixture(scope="session")
def cases_dir(tmp_path_factory) -> Path:
    """Every case as a file, a 50 MB file, and a directory of 1,000 files with one bad one."""
    d = tmp_path_factory.mktemp("bad_input").resolve()
    for case in CASES:
        (d / f"{case.name}.txt").write_bytes(case.data())
    with open(d / f"{BIG}.txt", "wb") as f:
        block = SEED_TEXT.encode("utf-8") * 256
        while f.tell() < 50 * 1024 * 1024:
            f.write(block)
    bad = build_page(5)[0].replace("星期", "礼拜", 1).encode("utf-8")
    for n in sorted(set(DIR_FILES.values())):
        many = d / f"many{n}"
        many.mkdir()
        for i in range(n - 1):
            (many / f"p{i:04d}.txt").write_text(_many_page(i)[0], encoding="utf-8")
        (many / f"p{n // 2:04d}_bad.txt").write_bytes(bad)
    return d


@dataclass
class Batch:
    kind: str
    url: str
    stdout: str
    errors: dict[str, str]  # path -> its stderr line
    exit_code: int


@pytest.fixture(scope="module", params=ENGINES)
def batch(request, cases_dir, tmp_path_factory):
    """All cases loaded by one `archive load` run on a fresh database of each engine."""
    gen = _fresh_url(request.param, tmp_path_factory.mktemp(request.param))
    url = next(gen)
    paths = [*sorted(cases_dir.glob("*.txt")), cases_dir / MISSING, cases_dir / f"many{DIR_FILES[request.param]}"]
    result = CliRunner().invoke(main, ["--db", url, "load", *map(str, paths)], catch_exceptions=False)
    errors = {}
    for line in result.stderr.splitlines():
        path = line.split(".txt:", 1)[0] + ".txt"
        assert path not in errors, f"two error lines for {path}"
        errors[path] = line
    yield Batch(request.param, url, result.stdout, errors, result.exit_code)
    gen.close()


@pytest.fixture(scope="module")
def session(batch):
    eng = db.make_engine(batch.url)
    with Session(eng) as s:
        yield s
    eng.dispose()


LOADS = [c for c in CASES if c.reason is None]
FAILS = [c for c in CASES if c.reason is not None]


@pytest.mark.parametrize("case", LOADS, ids=lambda c: c.name)
def test_case_loads_exactly(batch, session, cases_dir, case):
    path = cases_dir / f"{case.name}.txt"
    assert str(path) not in batch.errors
    stored = stored_rows(session, path)
    assert stored["source"].text == case.text.lstrip("\ufeff")
    assert stored["source"].encoding == case.encoding
    assert stored["rows"] == expected_rows(case.transform, case.extra_paragraph)


@pytest.mark.parametrize("case", FAILS, ids=lambda c: c.name)
def test_case_fails_with_path_line_reason(batch, session, cases_dir, case):
    path = cases_dir / f"{case.name}.txt"
    line = batch.errors.get(str(path))
    assert line, f"no error line for {path.name}; stderr had {sorted(batch.errors)}"
    m = re.fullmatch(re.escape(str(path)) + r":(\d+): (.+)", line)
    assert m, line
    assert re.search(case.reason, m.group(2)), line
    if case.line is not None:
        assert int(m.group(1)) == case.line, line
    assert session.scalar(select(func.count()).select_from(Source).where(Source.path == str(path))) == 0


def test_50mb_file_is_refused_unread(batch, session, cases_dir):
    path = cases_dir / f"{BIG}.txt"
    assert batch.errors[str(path)] == f"{path}:1: file is {path.stat().st_size:,} bytes, more than the {MAX_FILE_BYTES:,} a page can be"
    assert session.scalar(select(func.count()).select_from(Source).where(Source.path == str(path))) == 0


def test_missing_path_is_reported(batch, cases_dir):
    assert re.fullmatch(re.escape(str(cases_dir / MISSING)) + r":1: cannot read: .*", batch.errors[str(cases_dir / MISSING)])


def test_directory_of_1000_with_one_bad_file(batch, session, cases_dir):
    n = DIR_FILES[batch.kind]
    many = cases_dir / f"many{n}"
    bad = many / f"p{n // 2:04d}_bad.txt"
    assert re.fullmatch(re.escape(str(bad)) + r":\d+: .+", batch.errors[str(bad)])
    stored = session.scalar(select(func.count()).select_from(Source).where(Source.path.like(f"{many}/%")))
    assert stored == n - 1
    paragraphs = sum(
        len(s["paragraphs"]) for i in range(n - 1) for a in _many_page(i)[1]["articles"] for s in a["sections"]
    )
    got = session.scalar(
        select(func.count()).select_from(Paragraph).join(Article).join(Source).where(Source.path.like(f"{many}/%"))
    )
    assert got == paragraphs


def test_batch_totals_and_no_replacement_characters(batch, session):
    failed = len(FAILS) + 3  # the 50 MB file, the missing path, the bad file in the directory
    loaded = len(LOADS) + DIR_FILES[batch.kind] - 1
    assert batch.exit_code == 1
    assert len(batch.errors) == failed
    assert f"{loaded} new, 0 updated, 0 unchanged, {failed} failed" in batch.stdout
    assert session.scalar(select(func.count()).select_from(Source)) == loaded
    for model, column in ((Source, Source.text), (Paragraph, Paragraph.text)):
        assert session.scalar(select(func.count()).select_from(model).where(column.contains("\ufffd"))) == 0


def test_encoding_option_overrides_detection(db_url, tmp_path):
    text, expected = build_page(77)
    page = tmp_path / "gbk.txt"
    page.write_bytes(text.encode("gbk"))
    wrong = CliRunner().invoke(main, ["--db", db_url, "load", "--encoding", "utf-8", str(page)])
    assert wrong.exit_code == 1
    assert re.fullmatch(re.escape(str(page.resolve())) + r":\d+: not valid utf-8: byte 0x[0-9a-f]{2}", wrong.stderr.strip())
    unknown = CliRunner().invoke(main, ["--db", db_url, "load", "--encoding", "klingon", str(page)])
    assert unknown.stderr.strip() == f"{page.resolve()}:1: unknown encoding 'klingon'"
    right = CliRunner().invoke(main, ["--db", db_url, "load", "--encoding", "gbk", str(page)])
    assert right.exit_code == 0, right.output
    eng = db.make_engine(db_url)
    with Session(eng) as s:
        source = s.execute(select(Source)).scalar_one()
        assert (source.encoding, source.text) == ("gbk", text)
        texts = list(s.scalars(select(Paragraph.text).order_by(Paragraph.ordinal)))
    eng.dispose()
    assert texts == [p["text"] for a in expected["articles"] for s in a["sections"] for p in s["paragraphs"]]
