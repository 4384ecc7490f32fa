"""Passwords never appear in a message, however malformed the URL that holds them."""

from __future__ import annotations

import pytest

from archive.config import redact, redact_url
from tests.bi_data import cli

URLS = [
    ("postgresql+psycopg://u:SE/CRET@host:abc/x", "SE/CRET"),
    ("postgresql+psycopg://u:SE@CRET@127.0.0.1:1/x", "SE@CRET"),
    ("mysql+pymysql://u:p@ss:w/rd@127.0.0.1:1/x", "p@ss:w/rd"),
    ("postgresql+psycopg://u:pa?ss#wd@127.0.0.1:1/x", "pa?ss#wd"),
    ("postgresql+psycopg://u:S%2FECRET@127.0.0.1:1/x", "S%2FECRET"),
    ("postgresql+psycopg://u@127.0.0.1:1/x?password=QSECRET", "QSECRET"),
    ("postgresql+psycopg://u:SECRET@[::1:1/x", "SECRET"),
]
COMMANDS = [["stats"], ["sql", "select 1"], ["export", "--query", "select 1"], ["export", "paragraph"], ["db", "current"],
            ["search", "x"], ["issues"], ["serve"], ["db", "grant-readonly", "r"], ["load", "/nonexistent"]]


@pytest.mark.parametrize("url,password", URLS)
def test_redact_url_masks_the_whole_password(url, password):
    shown = redact_url(url)
    assert "***" in shown
    for part in [password, *password.split("@")]:
        if len(part) >= 3:
            assert part not in shown, shown
    assert "SECRET" not in redact(f"failed to resolve host '{password.split('@')[-1]}@x'; {url}", url)


@pytest.mark.parametrize("url,password", URLS)
def test_no_command_prints_the_password(url, password):
    for command in COMMANDS:
        result = cli(url, *command)
        assert result.exit_code != 0, (command, result.output)
        for part in {password, *password.split("@"), "SECRET", "CRET"} - {""}:
            if len(part) >= 3:
                assert part not in result.output, (command, result.output)
