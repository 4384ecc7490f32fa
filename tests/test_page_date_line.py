"""Telling a masthead date line from body text, with the shortcut body lines take."""

from __future__ import annotations

from archive.formats.blocks import is_masthead_date


def test_date_lines_half_and_full_width():
    assert is_masthead_date("2020年8月26日")
    assert is_masthead_date("２０２０年８月２６日")  # full-width digits fold to ASCII
    assert is_masthead_date("2020 年 8 月 26 日 星期三")


def test_body_lines_are_not_date_lines():
    assert not is_masthead_date("2020年8月19日上午，包头市举行轮训。")
    assert not is_masthead_date("2020年8月26日，")
    assert not is_masthead_date("2020年8月26日。")
    assert not is_masthead_date("第4012期")
