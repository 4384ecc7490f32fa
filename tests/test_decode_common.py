"""The common-character set that decoding's garble check uses is exactly the level-1 ranges it names
(both ranges lie in the Basic Multilingual Plane, so that is the range compared)."""

from __future__ import annotations

from archive.decode import COMMON_RANGES, common_characters


def _by_encoding(ch: str) -> bool:
    for enc, lo, hi in COMMON_RANGES:
        try:
            code = int.from_bytes(ch.encode(enc), "big")
        except UnicodeEncodeError:
            continue
        if lo <= code <= hi:
            return True
    return False


def test_set_matches_encoding_each_character():
    common = common_characters()
    differ = [hex(c) for c in range(0x3000, 0x10000) if _by_encoding(chr(c)) != (chr(c) in common)]
    assert not differ
    assert {"包", "头", "警", "們", "國"} <= common  # simplified and traditional level-1 both count
    assert "A" not in common and "々" not in common
