"""Bytes to text: strict encoding detection (BOM, then UTF-8, GB18030, Big5, CP950, Big5-HKSCS), never U+FFFD."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache

from archive.errors import InputError

BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)
# Big5 as Taiwan's Windows writes it (CP950: 碁銹裏墻 and box drawing at F9D6-F9FE) and as Hong Kong's
# does (Big5-HKSCS: 㗎嘅啲) are each tried before a file is given up as not Big5.
FALLBACKS = ("utf-8", "gb18030", "big5", "cp950", "big5hkscs")
FALLBACK_NAMES = "UTF-8, GB18030, Big5, CP950, Big5-HKSCS"
SUPPORTED = {"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030", "gbk", "gb2312", "big5", "cp950", "big5hkscs"}

HAN = re.compile(r"[\u4e00-\u9fff]")
HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Below this share of common characters a decoding is taken for garbage (e.g. Big5 read as GBK,
# or mojibake); real text in either script scores above 0.9.
MIN_COMMON_SHARE = 0.8


class DecodeError(InputError):
    """The bytes are not text in a supported encoding. `line` is 1-based where known."""

    def __init__(self, reason: str, line: int = 1):
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


# Level-1 GB2312 (simplified) and level-1 Big5 (traditional): the few thousand characters that make
# up nearly all running text in either script, as (encoding, first code, last code).
COMMON_RANGES = (("gb2312", 0xB0A1, 0xD7FE), ("big5", 0xA440, 0xC67E))


@lru_cache(maxsize=1)
def common_characters() -> frozenset[str]:
    """Every character whose code in either encoding falls in its level-1 range.

    Built once by decoding each code in the ranges: a set lookup per character is what makes
    decoding a page cost less than parsing it (encoding each character twice cost more).
    """
    chars = set()
    for enc, lo, hi in COMMON_RANGES:
        for code in range(lo, hi + 1):
            try:
                chars.add(code.to_bytes(2, "big").decode(enc))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


def common_share(text: str, sample: int = 4000) -> float:
    """Share of Han characters (in a sample) that belong to either script's common set."""
    # runs of Han, not one match a character, then one regex pass that finds only the uncommon ones:
    # a fifth of the cost of a match per character and a str.translate deleting the common ones
    han = "".join(HAN_RUN.findall(text[: sample * 4]))[:sample]
    if not han:
        return 1.0
    return 1 - len(_uncommon_han().findall(han)) / len(han)


@lru_cache(maxsize=1)
def _uncommon_han() -> re.Pattern[str]:
    """A character class of the Han characters (U+4E00-U+9FFF, what HAN matches) not in
    common_characters(), as ranges: a few thousand, compiled once in about 10 ms."""
    common = common_characters()
    ranges: list[tuple[int, int]] = []
    for code in range(0x4E00, 0xA000):
        if chr(code) in common:
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return re.compile("[" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges) + "]")


LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _text_line(text: str, offset: int) -> int:
    """1-based line of `offset`, counting line breaks the way the parser does (CRLF, CR, LF)."""
    return len(LINE_BREAK.findall(text, 0, offset)) + 1


def _line_of(data: bytes, offset: int) -> int:
    # Latin-1 maps byte n to U+00nn, so the breaks of any ASCII-compatible encoding are counted alike.
    return _text_line(data[:offset].decode("latin-1"), offset)


def _checked(text: str, data: bytes, encoding: str) -> Decoded:
    if not text.strip():
        raise DecodeError("empty file" if not data else "file holds only white space")
    bad = CONTROL.search(text)
    if bad:
        raise DecodeError(f"not a text file: control character U+{ord(bad.group()):04X}", _text_line(text, bad.start()))
    replaced = text.find("\ufffd")
    if replaced >= 0:
        # U+FFFD in the input means an earlier conversion already lost characters here.
        raise DecodeError("text holds U+FFFD replacement characters: damaged by an earlier conversion", _text_line(text, replaced))
    if common_share(text) < MIN_COMMON_SHARE:
        raise DecodeError(f"text decoded as {encoding} looks garbled (mojibake or a wrong encoding); use --encoding")
    return Decoded(text, encoding)


def decode(data: bytes, encoding: str | None = None) -> Decoded:
    """Decode `data` strictly; `encoding` overrides detection. Raises DecodeError with a line number."""
    if encoding:
        name = encoding.lower()
        try:
            codecs.lookup(name)
        except LookupError:
            raise DecodeError(f"unknown encoding {encoding!r}") from None
        try:
            text = data.decode(name)
        except UnicodeDecodeError as exc:
            raise DecodeError(f"not valid {encoding}: byte 0x{data[exc.start]:02x}", _line_of(data, exc.start)) from None
        return _checked(text.lstrip("\ufeff"), data, name)
    for bom, codec, label in BOMS:
        if data.startswith(bom):
            try:
                return _checked(data[len(bom):].decode(label), data, label)
            except UnicodeDecodeError as exc:
                raise DecodeError(f"not valid {label} after its byte-order mark", _line_of(data, exc.start)) from None
    if not data.strip():
        raise DecodeError("empty file" if not data else "file holds only white space")
    if b"\x00" in data:
        raise DecodeError("not a text file: NUL byte", _line_of(data, data.index(b"\x00")))
    errors: list[tuple[str, UnicodeDecodeError]] = []
    for codec in FALLBACKS:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            errors.append((codec, exc))
            continue
        if codec != "utf-8" and common_share(text) < MIN_COMMON_SHARE:
            continue
        return _checked(text, data, codec)
    if not errors:
        raise DecodeError(f"not text in a supported encoding ({FALLBACK_NAMES}): every reading is garbled; use --encoding")
    # The reading that got furthest is the file's encoding, and its error the real damage: UTF-8 stops at
    # the first Chinese character of a Big5 file, which says nothing about where the file is broken.
    # Ties go to a reading whose text so far is not garbled: Big5 bytes read as GB18030 run as far.
    codec, furthest = max(errors, key=lambda e: (e[1].start, _plausible(data[: e[1].start], e[0])))
    raise DecodeError(
        f"not text in any supported encoding ({FALLBACK_NAMES}): "
        f"invalid byte {_bytes_at(data, furthest.start, furthest.end)} at column {_column(data, furthest.start)} (read as {codec})",
        _line_of(data, furthest.start),
    )


def _plausible(prefix: bytes, codec: str) -> bool:
    try:
        return common_share(prefix.decode(codec)) >= MIN_COMMON_SHARE
    except UnicodeDecodeError:  # a multi-byte character cut at the prefix's end
        return False


def _bytes_at(data: bytes, start: int, end: int) -> str:
    return " ".join(f"0x{b:02x}" for b in data[start : max(end, start + 1)][:4])


def _column(data: bytes, offset: int) -> int:
    """1-based byte column of `offset` in its line."""
    return offset - max(data.rfind(b"\n", 0, offset), data.rfind(b"\r", 0, offset))
