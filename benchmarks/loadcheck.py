"""Every row a load stores, as text, to compare two checkouts: a speed change must not change output.

`python -m benchmarks.loadcheck OUT DIR [DIR …]` loads the pages under each DIR (2 workers) into a
fresh SQLite database and writes to OUT each file's result and then every table, FTS5's own included,
row for row in column order, with the load's timestamps (loaded_at, seen_at) left out. FTS5's
segments (`search_fts_data`, `search_fts_idx`) are written as what they hold, every token of every
text at its position (fts5vocab's `instance` table), not as their bytes: how the index is cut into
segments depends on how many files each transaction held (the loader commits files in batches,
and commits early when its parser workers fall behind), and those bytes differ from run to run while
what they hold does not. A DIR given as
`DIR=series` is loaded as the series test pages are (article format, newspaper 示例日报, date and
ordinal from the file name). Run it in both checkouts on the same pages and `cmp` the two files.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

STAMPS = ("loaded_at", "seen_at")


def dump(out: Path, directories: list[str]) -> str:
    from archive import db, loader
    from archive.formats.metadata import Metadata

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "check.db"
        engine = db.make_engine(f"sqlite:///{path}")
        db.ensure_schema(engine)
        results = []
        for d in directories:
            d, _, kind = d.partition("=")
            options = {}
            if kind == "series":
                options = dict(fmt="article", meta=Metadata(newspaper="示例日报", name_pattern="{date:%Y%m%d}-{ordinal}.txt"))
            results += loader.load_paths(engine, [d], workers=2, **options).results
        engine.dispose()
        con = sqlite3.connect(path)
        con.execute("CREATE VIRTUAL TABLE temp.search_fts_instance USING fts5vocab(main, search_fts, instance)")
        segments = ("search_fts_data", "search_fts_idx")
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") if r[0] not in segments]
        tables.append("temp.search_fts_instance")
        with open(out, "w", encoding="utf-8") as fh:
            for r in results:
                fh.write(f"{r.status} {r.source_id} {r.format} {r.without_body} {r.message}\n")
            for t in tables:
                schema, _, name = t.rpartition(".")
                cols = [r[1] for r in con.execute(f"PRAGMA {schema or 'main'}.table_info('{name}')")]
                shown = ", ".join("NULL" if c in STAMPS else f'"{c}"' for c in cols)
                order = ", ".join(str(i + 1) for i in range(len(cols)))
                rows = con.execute(f"SELECT {shown} FROM {t} ORDER BY {order}").fetchall()
                fh.write(f"## {t} {cols} {len(rows)}\n")
                fh.writelines(repr(row) + "\n" for row in rows)
        con.close()
    return f"{len(results)} files, {len(tables)} tables -> {out}"


if __name__ == "__main__":
    print(dump(Path(sys.argv[1]), sys.argv[2:]))
