"""Issue 19, data safety: hostile front matter, lossy downgrades, races with purge, failures that must
leave nothing half-made, deadlocks, numbers too large for their column."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from archive.document import ParseError
from archive.formats import markdown
from archive.prepare import FileError, prepare_bytes

# ---------------------------------------------------------------- 1. YAML front matter


def alias_bomb() -> str:
    """Billion laughs: nine levels, each an anchor naming nine aliases of the level below."""
    lines = ["a: &a [" + ",".join(['"lol"'] * 9) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("title: *i")
    return "---\n" + "\n".join(lines) + "\n---\n\n# 标题\n\n正文。\n"


CHILD = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GB: the bomb took 2 GB
from archive.prepare import FileError, prepare_bytes
text = sys.stdin.read()
t = time.perf_counter()
try:
    prepare_bytes("bomb.md", text.encode("utf-8"))
    error = None
except FileError as exc:
    error = str(exc)
print(json.dumps({"error": error, "seconds": time.perf_counter() - t,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def test_yaml_alias_bomb_is_refused_fast_in_little_memory():
    text = alias_bomb()
    assert len(text.encode()) < 600
    # In a child under a 1 GB address-space limit, so that a regression fails the test, not the machine.
    proc = subprocess.run([sys.executable, "-c", CHILD], input=text, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["error"] == "bomb.md:3: front matter is not valid YAML: aliases (*a) are not allowed in front matter"
    assert out["seconds"] < 1
    assert out["maxrss_kb"] < 200_000  # the whole interpreter with archive imported: about 60 MB


@pytest.mark.parametrize(
    "front, line",
    [
        ("title: " + "[" * 5000 + "]" * 5000, 2),  # flow style
        ("".join(" " * i + f"k{i}:\n" for i in range(2000)).rstrip("\n"), 33),  # block style
        ("title: " + "{a: " * 3000 + "1" + "}" * 3000, 2),
    ],
    ids=["flow-list", "block-mapping", "flow-mapping"],
)
def test_deeply_nested_front_matter_is_a_yaml_error_with_its_line(front, line):
    text = f"---\n{front}\n---\n\n# 标题\n\n正文。\n"
    with pytest.raises(ParseError) as err:
        markdown.parse(text)
    assert (err.value.line, err.value.reason) == (line, "front matter is not valid YAML: nested more than 32 levels deep")
    with pytest.raises(FileError) as err:
        prepare_bytes("deep.md", text.encode())
    assert str(err.value) == f"deep.md:{line}: front matter is not valid YAML: nested more than 32 levels deep"


def test_ordinary_front_matter_still_reads_lists_and_anchors_without_aliases():
    text = "---\ntitle: &t 标题\nnewspaper: 江城晚报\ndate: 2021-03-07\nauthor: [陈静, 王强]\n---\n\n正文。\n"
    doc = markdown.parse(text)
    assert doc.articles[0].title == "标题"
    assert [c.name for c in doc.articles[0].contributors] == ["陈静", "王强"]
