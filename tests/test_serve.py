"""`archive serve`: Datasette over the SQLite archive, through its in-process client (no server, no port)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from archive import serve
from tests.bi_data import METRICS, build_archive, cli, seed_paragraphs

pytest.importorskip("datasette", reason="archive serve needs Datasette (extra: serve)")


@pytest.fixture
def site(sqlite_url, seed_dir, tmp_path):
    facts = build_archive(sqlite_url, seed_dir, tmp_path)
    path = Path(make_url(sqlite_url).database)
    ds = serve.make_datasette(path)

    def get(p: str):
        return asyncio.run(ds.client.get(p))

    return get, serve.DATABASE_NAME, facts


def test_table_page_and_metadata(site):
    get, name, facts = site
    data = get(f"/{name}/v_article.json?_shape=objects").json()
    titles = [r["title"] for r in data["rows"]]
    assert len(titles) == facts["articles"] and "“包头样本”应民意 激发担当新作为" in titles
    meta = get("/-/metadata.json").json()["databases"][name]
    assert meta["tables"]["v_metric"]["columns"]["value"].startswith("The number, normalised")
    assert "metrics_by_date" in meta["queries"]
    html = get(f"/{name}/v_article").text
    assert "One row per article" in html


def test_facets(site):
    get, name, _ = site
    data = get(f"/{name}/v_metric.json").json()
    facets = data["facet_results"]
    facets = facets.get("results", facets)  # the layout moved between Datasette versions
    kinds = {f["value"]: f["count"] for f in facets["kind"]["results"]}
    assert kinds == {"count": 2, "percent": 1, "money": 1}
    assert {f["value"] for f in facets["newspaper"]["results"]} == {"内蒙古法制报"}
    assert {"unit", "date"} <= set(facets)


def test_search_finds_民警(site):
    get, name, _ = site
    rows = get(f"/{name}/search_paragraphs.json?q=民警&_shape=array").json()
    expected = [t for t in seed_paragraphs() if "民警" in t]
    assert len(expected) > 0 and sorted(r["text"] for r in rows) == sorted(expected)


def test_search_uses_the_index_with_the_query_language(site):
    get, name, _ = site
    from urllib.parse import quote

    rows = get(f"/{name}/search_paragraphs.json?q={quote('民警 -辅警')}&_shape=array").json()
    expected = [t for t in seed_paragraphs() if "民警" in t and "辅警" not in t]
    assert len(expected) > 0 and sorted(r["text"] for r in rows) == sorted(expected)
    assert get(f"/{name}/search_paragraphs.json?q={quote('-民警')}&_shape=array").json() == []


def test_writes_are_rejected(site):
    get, name, facts = site
    response = get(f"/{name}.json?sql=DELETE+FROM+paragraph")
    assert response.status_code == 400
    assert get(f"/{name}.json?sql=select+count(*)+as+n+from+paragraph&_shape=array").json() == [{"n": facts["paragraphs"]}]
    assert get(f"/{name}.json?sql=select+count(*)+as+n+from+metric&_shape=array").json() == [{"n": len(METRICS)}]


def test_serve_needs_sqlite():
    result = cli("postgresql+psycopg://nobody@127.0.0.1:1/x", "serve")
    assert result.exit_code == 1 and "SQLite archive" in result.output
    assert "serving" not in result.output  # nothing is said to be served that is not


def test_immutable_mode_serves_the_same_rows_and_refuses_a_pending_log(sqlite_url, seed_dir, tmp_path):
    import sqlite3

    facts = build_archive(sqlite_url, seed_dir, tmp_path)
    path = Path(make_url(sqlite_url).database)
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as when the last writer closes
    ds = serve.make_datasette(path, immutable=True)
    rows = asyncio.run(ds.client.get(f"/{serve.DATABASE_NAME}.json?sql=select+count(*)+as+n+from+v_paragraph&_shape=array")).json()
    assert rows == [{"n": facts["paragraphs"]}]
    writer.execute("INSERT INTO newspaper (name) VALUES ('pending')")  # a write still in the log, not in the file
    writer.commit()
    with pytest.raises(serve.ServeUnavailable, match="without --immutable"):
        serve.make_datasette(path, immutable=True)
    writer.close()


def test_served_at_archive_whatever_the_file_is_called(seed_dir, tmp_path):
    renamed = tmp_path / "江城晚报-2021.db"
    facts = build_archive(f"sqlite:///{renamed}", seed_dir, tmp_path)
    ds = serve.make_datasette(renamed)
    get = lambda p: asyncio.run(ds.client.get(p))  # noqa: E731
    assert [n for n in ds.databases if not n.startswith("_")] == ["archive"]
    rows = get("/archive/v_article.json?_shape=array").json()
    assert len(rows) == facts["articles"]
    assert "v_article" in get("/-/metadata.json").json()["databases"]["archive"]["tables"]


def test_one_request_cannot_exhaust_memory(site):
    """zeroblob(1e9) once made the server ask for 23.6 GB: now SQLite refuses any value over 1 MB, a
    query returns at most 1000 rows, and the server answers the next request as before."""
    import resource

    get, name, facts = site
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for q in ("select+zeroblob(1000000000)", "select+length(zeroblob(1000000000))", "select+randomblob(2000000)",
              "select+replace(hex(zeroblob(600000)),'00','xy')"):
        response = get(f"/{name}.json?sql={q}")
        assert response.status_code == 400 and "too big" in response.json()["error"], (q, response.text[:200])
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 200_000, grown_kb  # far below the gigabytes these asked for
    rows = get(f"/{name}.json?sql=with+recursive+r(n)+as+(select+1+union+all+select+n%2B1+from+r)+select+n+from+r&_shape=objects").json()
    assert len(rows["rows"]) == serve.MAX_ROWS and rows["truncated"] is True
    assert get(f"/{name}.json?sql=select+count(*)+as+n+from+paragraph&_shape=array").json() == [{"n": facts["paragraphs"]}]


def test_endless_query_stops_at_the_time_limit(site):
    get, name, _ = site
    response = get(f"/{name}.json?sql=with+recursive+r(n)+as+(select+1+union+all+select+n%2B1+from+r)+select+count(*)+from+r")
    assert response.status_code == 400 and "took too long" in response.text.lower(), response.text[:300]
