"""One end-to-end load in a process of its own, so that its peak memory is its own.

`python -m benchmarks.loadrun URL DIR` does what `archive load -q DIR` does (schema, then
loader.load_paths with its worker processes) and prints one JSON object: seconds, files, failures,
peak RSS of this process (the writer), of the largest worker, and of the whole tree as sampled.
`--baseline` only imports what a load imports and reports the RSS that costs: the memory floor.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

SAMPLE_SECONDS = 0.1


def _kb(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(c) for c in task.read_text().split()]
        except (OSError, ValueError):
            pass
    return out


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, ValueError, IndexError):
        return 0.0


def _descendants(pid: int) -> list[int]:
    # workers may be grandchildren (forked by a forkserver child)
    found, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += _children(child)
    return found


class TreeSampler(threading.Thread):
    """Samples the summed RSS and PSS of this process and its children; keeps the largest sums seen.

    PSS counts a page shared by n processes (the forked workers share the writer's imports) as 1/n
    in each, so its sum is the memory the tree really holds."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self.child_peak_kb = 0  # the largest peak RSS (VmHWM) of any one descendant
        self.grandchild_cpu: dict[int, float] = {}  # CPU seconds last seen, by pid, of descendants not our children
        self.stop = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.wait(SAMPLE_SECONDS):
            others = _descendants(me)
            tree = [me, *others]
            children = set(_children(me))
            for pid in others:
                if pid not in children:
                    self.grandchild_cpu[pid] = max(self.grandchild_cpu.get(pid, 0.0), _cpu_seconds(pid))
            self.child_peak_kb = max([self.child_peak_kb, *(_kb(f"/proc/{p}/status", "VmHWM:") for p in others)])
            self.peak_kb = max(self.peak_kb, sum(_kb(f"/proc/{p}/status", "VmRSS:") for p in tree))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in tree))


def main(argv: list[str]) -> dict:
    from archive import db, loader

    if argv[0] == "--baseline":
        return {"self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    url, directory = argv[0], argv[1]
    workers = int(argv[2]) if len(argv) > 2 else None
    engine = db.make_engine(url)
    db.ensure_schema(engine)
    sampler = TreeSampler()
    sampler.start()
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    report = loader.load_paths(engine, [directory], workers=workers)
    seconds = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    engine.dispose()
    failed = report.failed
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        # CPU spent loading (not starting up): what the figure would be with the cores to ourselves.
        # Workers forked by a forkserver are not our children: their CPU is sampled (to within 0.1 s).
        "cpu_seconds": own.ru_utime + own.ru_stime - before.ru_utime - before.ru_stime
        + children.ru_utime + children.ru_stime + sum(sampler.grandchild_cpu.values()),
        "writer_cpu_seconds": own.ru_utime + own.ru_stime - before.ru_utime - before.ru_stime,
        "cpus": os.cpu_count() or 1,
        "seconds": seconds,
        "files": len(report.results),
        "failed": len(failed),
        "first_failure": failed[0].message if failed else None,
        "self_kb": own.ru_maxrss,
        "children_kb": max(children.ru_maxrss, sampler.child_peak_kb),
        "tree_kb": sampler.peak_kb,
        "tree_pss_kb": sampler.peak_pss_kb,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
