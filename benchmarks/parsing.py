"""Parser and metric extractor speed on their own, in MB/s of UTF-8 text, in this one process.

The parser's floor is the least any line-based parser does: decode the bytes and split them into lines.
The extractor is timed over the parsed paragraphs' text, so its MB/s is of the text it actually reads.
Re-run after the extractor changes: `python -m benchmarks --only parse`.
"""

from __future__ import annotations

import time
from pathlib import Path

from archive.decode import decode
from archive.formats import parse_text
from archive.metrics import extract_metrics
from benchmarks.measure import MB, Row, rate_ratio

TARGET_COMBINED_MBS = 3.0
TARGET_EXTRACTOR_MBS = 1.0


def parse_rows(files: list[Path]) -> list[Row]:
    clock = time.perf_counter
    page_bytes = para_bytes = metrics = 0
    t_floor = t_parse = t_extract = 0.0
    for path in files:
        data = path.read_bytes()
        page_bytes += len(data)
        t0 = clock()
        data.decode("utf-8").splitlines()
        t1 = clock()
        text = decode(data).text
        t2 = clock()
        _, document = parse_text(text)
        t3 = clock()
        texts = [p.text for a in document.articles for p in a.paragraphs]
        t4 = clock()
        for t in texts:
            metrics += len(extract_metrics(t))
        t5 = clock()
        para_bytes += sum(len(t.encode("utf-8")) for t in texts)
        t_floor += t1 - t0
        t_parse += t3 - t2
        t_extract += t5 - t4
    group = f"parse ({len(files):,} pages, {page_bytes / MB:.0f} MB)"
    floor = page_bytes / MB / t_floor
    parser = page_bytes / MB / t_parse
    extractor = para_bytes / MB / t_extract if t_extract else None
    combined = page_bytes / MB / (t_parse + t_extract)
    return [
        Row(group, "parser", parser, "MB/s", floor, rate_ratio(parser, floor), note="floor: bytes.decode + splitlines"),
        Row(
            group,
            "metric extractor",
            extractor,
            "MB/s",
            target=f"≥ {TARGET_EXTRACTOR_MBS:g} MB/s",
            ok=extractor is not None and extractor >= TARGET_EXTRACTOR_MBS,
            note=f"{metrics:,} metrics from {para_bytes / MB:.0f} MB of paragraph text"
            + ("; placeholder extractor (returns [])" if not metrics else ""),
        ),
        Row(
            group,
            "parser + extractor",
            combined,
            "MB/s",
            floor,
            rate_ratio(combined, floor),
            f"≥ {TARGET_COMBINED_MBS:g} MB/s",
            combined >= TARGET_COMBINED_MBS,
            "per page of input",
        ),
    ]
