"""Encodings seen in the wild: Big5 as Windows (CP950) and Hong Kong (Big5-HKSCS) write it decode without
--encoding, and a file that decodes as nothing is reported where it is really broken."""

from __future__ import annotations

import pytest

from archive.decode import DecodeError, decode

TRADITIONAL = "中華民國貳拾捌年四月廿一日\n本報訊\n　　昨日市民踴躍捐輸，各界熱烈響應，籌款成績甚佳。\n　　當局表示將繼續辦理救濟事宜。\n"


@pytest.mark.parametrize(
    "extra, encoding",
    [
        ("", "big5"),
        ("　　圍棋高手對弈，棋盤又稱碁盤，牆裏掛有字畫。\n", "cp950"),  # 碁 and 裏 are CP950's, not Big5's
        ("　　佢話呢啲嘢好正㗎。\n", "big5hkscs"),  # 啲 and 㗎 are Hong Kong's
    ],
    ids=["big5", "cp950", "big5-hkscs"],
)
def test_big5_variants_decode_without_being_told(extra, encoding):
    text = TRADITIONAL + extra
    got = decode(text.encode(encoding))
    assert (got.text, got.encoding) == (text, encoding)


def test_a_broken_big5_file_names_the_real_line_and_byte():
    lines = TRADITIONAL.splitlines(keepends=True)
    data = b"".join(ln.encode("big5") for ln in lines[:2]) + "　　昨日市民".encode("big5") + b"\xff\xfe" + "".join(lines[3:]).encode("big5")
    with pytest.raises(DecodeError) as err:
        decode(data)
    # UTF-8 fails on line 1 already; the file is Big5 and broken on line 3
    assert err.value.line == 3
    assert "invalid byte 0xff at column 13 (read as big5)" in err.value.reason


def test_a_broken_utf8_file_still_names_its_byte():
    data = "标题\n　　第一段。\n".encode("utf-8") + b"\xff" + "第二段。\n".encode("utf-8")
    with pytest.raises(DecodeError) as err:
        decode(data)
    assert err.value.line == 3 and "invalid byte 0xff at column 1" in err.value.reason


def test_a_file_named_on_the_command_line_loads_whatever_its_suffix(sqlite_url, tmp_path):
    from archive import db
    from archive.formats.metadata import Metadata
    from archive.loader import load_paths

    path = tmp_path / "20200521-3-1.utf8"
    path.write_bytes("\n粮食生产再获丰收\n\n　　今年夏粮再获丰收。\n".encode("utf-8"))
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    report = load_paths(engine, [path], meta=Metadata(newspaper="人民日报", name_pattern="{date:%Y%m%d}-{page}-{ordinal}.utf8"), workers=0)
    engine.dispose()
    assert [r.status for r in report.results] == ["new"]
