"""Loading a directory of mixed formats and encodings, on every engine: each file stored once, right fields."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from archive.cli import main
from tests.conftest import DATA, SEED
from tests.test_formats import FILES, FORMAT_DATA
from tests.test_load import counts, run, subset

PATTERN = "{date:%Y%m%d}-{page}-{ordinal}.txt"
# (file in tests/data/formats, encoding to store it in, line ending)
MIXED = {
    "page/inside_page.txt": ("gb18030", "\n"),
    "page/inside_page_oneline.txt": ("utf-8-sig", "\r\n"),
    "article/20210305-5-2.txt": ("utf-8", "\r\n"),
    "article/metro.txt": ("gb18030", "\r\n"),
    "markdown/old-housing.md": ("utf-8-sig", "\n"),
    "markdown/reading-month.md": ("utf-8", "\r\n"),
}


def mixed_dir(tmp_path):
    d = tmp_path / "mixed"
    d.mkdir()
    for name, (encoding, eol) in MIXED.items():
        text = (FORMAT_DATA / name).read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\n", eol)
        target = d / name.split("/")[0] / name.split("/")[1]
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(text.encode(encoding))
    shutil.copy(SEED, d / SEED.name)
    return d


def test_mixed_directory_stores_each_file_once_with_its_fields(db_url, tmp_path):
    assert {f"{p.parent.name}/{p.name}" for p in FILES} == set(MIXED)
    d = mixed_dir(tmp_path)
    result = run(db_url, "load", str(d), "--newspaper", "江城晚报", "--name-pattern", PATTERN, "-v")
    chosen = dict(
        (line.split(" ", 1)[1].rsplit(" (format: ", 1)[0], line.rsplit(" (format: ", 1)[1].rstrip(")"))
        for line in result.stdout.splitlines()
        if line.startswith("new: ")
    )
    assert chosen == {str(d / name): name.split("/")[0] for name in MIXED} | {str(d / SEED.name): "page"}
    assert "7 new" in result.stdout and "0 failed" in result.stdout

    rows = counts(db_url)
    assert rows["source"] == 7 and rows["article"] == 9
    assert rows["newspaper"] == 2  # 江城晚报 and the seed's 内蒙古法制报
    assert rows["issue"] == 4  # 2021-03-05 from a page and an article file share one issue

    listed = json.loads(run(db_url, "articles", "--format", "json").output)
    by_title = {a["title"]: a["id"] for a in listed}
    for name in MIXED:
        path = FORMAT_DATA / name
        expected = json.loads(path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8"))
        for want in expected["articles"]:
            shown = json.loads(run(db_url, "show", str(by_title[want["title"]]), "--format", "json").output)
            subset(shown["newspaper"], {"name": expected["newspaper"]["name"]}, name)
            subset(shown["issue"], {"date": expected["issue"]["date"]}, name)
            if expected["issue"]["date"] == "2021-03-05":  # the article file's issue took the page's weekday
                assert shown["issue"]["weekday"] == "星期五"
            subset(shown["article"], want, f"{name}:{want['title']}")

    again = run(db_url, "load", str(d), "--newspaper", "江城晚报", "--name-pattern", PATTERN)
    assert "7 unchanged" in again.stdout and "0 new" in again.stdout
    assert counts(db_url) == rows


def test_format_option_and_missing_metadata(db_url, tmp_path):
    d = tmp_path / "crawl"
    d.mkdir()
    shutil.copy(FORMAT_DATA / "article" / "20210305-5-2.txt", d / "20210305-5-2.txt")
    result = run(db_url, "load", str(d), ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"{d / '20210305-5-2.txt'}:1: the file does not say its newspaper: "
        "give --newspaper or a --name-pattern with {newspaper}"
    )
    # read as a page it has no masthead; read as an article with options it loads
    forced = run(db_url, "load", str(d), "--format", "page", "-v", ok=False)
    assert "1: no masthead" in forced.stderr and forced.stderr.rstrip().endswith("(format: page)")
    ok = run(db_url, "load", str(d), "--format", "article", "--newspaper", "江城晚报", "--date", "2021-03-05", "--page", "5", "-v")
    assert "(format: article)" in ok.stdout and "1 new" in ok.stdout
    shown = json.loads(run(db_url, "show", "1", "--format", "json").output)
    assert (shown["article"]["page"], shown["article"]["kicker"]) == ("5", "守护“舌尖上的安全”")
    assert "第5版" in run(db_url, "show", "1").output


def test_formats_command_and_bad_pattern(sqlite_url):
    out = CliRunner().invoke(main, ["formats"]).output
    assert [line.split()[0] for line in out.splitlines()] == ["page", "article", "markdown"]
    listed = json.loads(CliRunner().invoke(main, ["formats", "--format", "json"]).output)
    assert all(row["description"] for row in listed)
    bad = CliRunner().invoke(main, ["--db", sqlite_url, "load", str(DATA), "--name-pattern", "{author}.txt"])
    assert bad.exit_code == 2 and "fields must be named, one of newspaper, date, page, page_name, ordinal" in bad.output


def test_metadata_reaches_worker_processes(sqlite_url, tmp_path):
    from archive import db, loader
    from archive.formats.metadata import Metadata

    d = mixed_dir(tmp_path)
    for i in range(2):  # enough files for the process pool
        shutil.copy(d / "article" / "20210305-5-2.txt", d / "article" / f"2021030{6 + i}-7-{i + 1}.txt")
    (d / "nonsense.txt").write_text("这只是一段文字，没有报头。\n", encoding="utf-8")
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    meta = Metadata(newspaper="江城晚报", name_pattern=PATTERN)
    report = loader.load_paths(engine, [d], meta=meta, workers=2)
    with engine.connect() as conn:
        copies = conn.exec_driver_sql(
            "SELECT path, page, ordinal FROM source_path WHERE path LIKE '%-7-%' ORDER BY path"
        ).all()
    engine.dispose()
    assert len(report.results) >= loader.PARALLEL_MIN_FILES
    # the copies have the bytes of a loaded file: stored once, their paths (and what their names say) recorded
    assert report.summary() == "10 files: 7 new, 0 updated, 0 unchanged, 2 duplicates of other files, 1 failed"
    assert [(Path(p).name, page, o) for p, page, o in copies] == [("20210306-7-1.txt", "7", 1), ("20210307-7-2.txt", "7", 2)]
    assert {r.format for r in report.results} == {"page", "article", "markdown"}
    # a failure comes back from its worker whole: the one-line message and the format it was read as
    assert [(r.message, r.format) for r in report.failed] == [(f"{d / 'nonsense.txt'}:1: no masthead: expected a date line such as 2020年8月26日 at the top of the page", "page")]
