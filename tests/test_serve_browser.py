"""`archive serve` in a real browser: headless Chromium renders the article table and a search result.

Optional: skipped when Debian's chromium is not installed (apt-get install chromium).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from archive import serve
from tests.bi_data import build_archive, seed_paragraphs

pytest.importorskip("datasette", reason="archive serve needs Datasette (extra: serve)")
uvicorn = pytest.importorskip("uvicorn", reason="archive serve needs uvicorn (comes with Datasette)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless browser test needs chromium (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(sqlite_url, seed_dir, tmp_path):
    build_archive(sqlite_url, seed_dir, tmp_path)
    path = Path(make_url(sqlite_url).database)
    ds = serve.make_datasette(path)
    asyncio.run(ds.invoke_startup())
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(ds.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/{serve.DATABASE_NAME}", tmp_path
    srv.should_exit = True
    thread.join(5)


def dom(url: str, profile: Path) -> str:
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_article_table_and_search_render(server):
    base, tmp = server
    page = dom(f"{base}/v_article", tmp / "profile")
    assert "“包头样本”应民意 激发担当新作为" in page
    assert "One row per article" in page and "3 rows" in page
    found = dom(f"{base}/search_paragraphs?q=民警", tmp / "profile")
    expected = [t for t in seed_paragraphs() if "民警" in t]
    assert f"{len(expected)} row" in found
    assert expected[0][:20] in found
