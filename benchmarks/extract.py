"""Throughput of archive.metrics.extract_metrics on ~5 MB of newspaper-like paragraphs.

The text is built from the seed page's paragraphs (tests/data/seed.expected.json), repeated with
their numbers varied so that the regexes and the number reader see fresh inputs.  Run:

    python -m benchmarks.extract
"""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

from archive.metrics import extract_metrics

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "data" / "seed.expected.json"
_DIGITS = re.compile(r"\d+")


def _paragraphs() -> list[str]:
    doc = json.loads(SEED.read_text(encoding="utf-8"))
    return [p["text"] for a in doc["articles"] for s in a["sections"] for p in s["paragraphs"]]


def build_corpus(target_bytes: int = 5 * 1024 * 1024, seed: int = 20200826) -> list[str]:
    """Paragraphs totalling about ``target_bytes`` of UTF-8, numbers varied at random."""
    rng = random.Random(seed)
    base = _paragraphs()
    out: list[str] = []
    size = 0
    while size < target_bytes:
        text = rng.choice(base)
        text = _DIGITS.sub(lambda m: str(rng.randint(1, 10 ** len(m.group()))), text)
        out.append(text)
        size += len(text.encode("utf-8"))
    return out


def run(target_bytes: int = 5 * 1024 * 1024, repeat: int = 3) -> dict:
    paragraphs = build_corpus(target_bytes)
    nbytes = sum(len(p.encode("utf-8")) for p in paragraphs)
    best = float("inf")
    metrics = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        metrics = 0
        for p in paragraphs:
            metrics += len(extract_metrics(p))
        best = min(best, time.perf_counter() - t0)
    mb = nbytes / 1_000_000
    return {
        "paragraphs": len(paragraphs),
        "megabytes": round(mb, 3),
        "metrics": metrics,
        "seconds": round(best, 3),
        "mb_per_s": round(mb / best, 2),
    }


if __name__ == "__main__":
    r = run()
    print(
        f"{r['paragraphs']} paragraphs, {r['megabytes']} MB, {r['metrics']} metrics: "
        f"{r['seconds']} s, {r['mb_per_s']} MB/s"
    )
