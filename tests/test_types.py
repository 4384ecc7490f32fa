"""archive/ type-checks: mypy with the settings in pyproject.toml ([tool.mypy]: every function typed)."""

from __future__ import annotations

from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api", reason="mypy is in the test extra: pip install -e '.[test]'")

ROOT = Path(__file__).parent.parent


def test_archive_type_checks_with_every_function_typed(monkeypatch):
    monkeypatch.chdir(ROOT)  # mypy reads [tool.mypy] from the pyproject.toml of the directory it runs in
    out, err, status = api.run(["--no-incremental", "--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, out + err
    assert "Success: no issues found" in out


def test_the_checker_fails_on_an_untyped_function(tmp_path):
    # the settings are strict enough to refuse what the issue asks: a public function without types
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x):\n    return x\n", encoding="utf-8")
    out, _err, status = api.run(["--no-incremental", "--config-file", str(ROOT / "pyproject.toml"), str(bad)])
    assert status == 1
    assert "missing a type annotation" in out
