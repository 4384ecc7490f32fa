"""The fidelity check (benchmarks/fidelity.py) on made-up crawl files: it finds every kind of damage,
and the article parser passes it on each layout the crawl has."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.formats.metadata import Metadata
from benchmarks.fidelity import check_folder, compare, printed_lines

S, N = "\u3000", "\u00a0"
FILES = {
    "20200521-1-1.txt": ["", "广告", ""],
    "20200521-1-2.txt": ["", "美丽中国", "", "图片来源：人民视觉", "", f"版式设计：沈{N}{N}亦"],
    "20200521-2-1.txt": ["", "江南春", "", *(f"{S}{S}{t}" for t in ("春风又绿江南岸", "明月何时照我还", "一水护田将绿绕"))],
    "20200521-2-2.txt": ["引题", "在纪念大会上的讲话", "", f"{S}{S}女士们，先生们，", f"{S}{S}朋友们：", f"{S}{S}今天我们在这里集会。"],
    "20200521-3-1.txt": [
        "", "粮食生产再获丰收", "——夏粮总产量创新高", "", f"本报记者{N}{N}王{N}{N}浩",
        f"{S}{S}民以食为天。今年全国粮食总产量再创新高。",
        f"{S}{S}一、坚持藏粮于地", f"{S}{S}藏粮于技", f"{S}{S}各地加强高标准农田建设。",
        f"{S}{S}（作者为农业专家）",
        f"新华社记者{N}{N}黄孝邦摄", "本版制图：汪哲平",
        "《人民日报》（2020年05月21日　第03版）",
    ],
    "20200521-4-1.txt": ["", "", "", f"{S}{S}没有标题的正文。"],
}


@pytest.fixture
def crawl(tmp_path) -> Path:
    for name, lines in FILES.items():
        (tmp_path / name).write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return tmp_path


def test_made_up_crawl_is_stored_as_printed(crawl):
    found = check_folder(crawl, Metadata(newspaper="人民日报", name_pattern="{date:%Y%m%d}-{page}-{ordinal}.txt"))
    assert (found.files, found.stored, found.as_printed, found.share) == (6, 5, 5, 1.0)
    assert found.without_body == 2 and not found.kinds
    assert dict(found.failed) == {"no title": 1}
    assert "as printed: 5 of 5 (100.00%; target 99.5%) ok" in found.render()


LINES = [(4, "民以食为天。今年粮食丰收。"), (5, "一、坚持藏粮于地"), (6, "藏粮于技"), (7, "各地加强农田建设。"), (8, "（作者为农业专家）")]
RIGHT = [("paragraph", LINES[0][1]), ("heading", "一、坚持藏粮于地 藏粮于技"), ("paragraph", LINES[3][1]), ("paragraph", LINES[4][1])]


@pytest.mark.parametrize(
    "stored, failure",
    [
        (RIGHT, None),
        ([("paragraph", "民以食为天。"), ("paragraph", "今年粮食丰收。"), *RIGHT[1:]], ("split", 4)),
        ([RIGHT[0], RIGHT[1], ("paragraph", LINES[3][1] + LINES[4][1])], ("joined", 7)),
        ([RIGHT[0], ("heading", "一、坚持藏粮于地 藏粮于技 各地加强农田建设。"), RIGHT[3]], ("heading", 5)),
        (RIGHT[:3], ("lost", 8)),
        ([*RIGHT, ("paragraph", "多出的一段。")], ("extra", 8)),
        ([RIGHT[0], RIGHT[1], RIGHT[2], ("paragraph", "作者为农业专家")], ("changed", 8)),
    ],
    ids=["as-printed", "split", "joined", "heading", "lost", "extra", "changed"],
)
def test_compare_finds_each_kind_of_damage(stored, failure):
    assert compare(LINES, stored) == failure


def test_printed_lines_leave_out_the_title_block_and_credits():
    text = "\r\n".join(FILES["20200521-3-1.txt"])
    got = [t for _, t in printed_lines(text, "粮食生产再获丰收", None, "夏粮总产量创新高")]
    assert got == ["民以食为天。今年全国粮食总产量再创新高。", "一、坚持藏粮于地", "藏粮于技", "各地加强高标准农田建设。", "（作者为农业专家）"]


def test_the_load_summary_counts_articles_without_body(crawl, sqlite_url):
    from archive import db
    from archive.loader import load_paths

    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    report = load_paths(engine, [crawl], meta=Metadata(newspaper="人民日报", name_pattern="{date:%Y%m%d}-{page}-{ordinal}.txt"), workers=0)
    engine.dispose()
    assert report.summary() == "6 files: 5 new, 0 updated, 0 unchanged, 1 failed; 2 articles without body text"
