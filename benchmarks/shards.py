"""Sharding benchmark: the same generated corpus loaded into one PostgreSQL server, into a coordinator
with one shard, and into a coordinator with two shards (archive/shard.py); load time, search and read
latency, and the size on each server.

    python -m benchmarks.shards [--pages N] [--server URL] [--shards "URL URL"] [--layout 0|1|2 ...]

Defaults: 2,000 pages, $ARCHIVE_TEST_POSTGRES_URL and $ARCHIVE_TEST_SHARD_URLS (scripts/shards start).
Every database is made fresh and dropped afterwards. On one shared 2-core machine the shards compete
with the coordinator and the loader for the same cores: the figures show what the layout costs, not
what more machines would gain.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import click
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from archive.cli import main
from benchmarks import corpus
from benchmarks.load import fresh_database
from benchmarks.measure import load_average, machine

REPEAT = 7
READS = {
    "search 民警 (first page)": ["search", "民警", "--format", "json"],
    "search 公安 -辅警, relevance": ["search", "公安 -辅警", "--order", "relevance", "--format", "json"],
    "search 警 (one character)": ["search", "警", "--format", "json"],
    "show 50": ["show", "50", "--format", "json"],
    "articles --from … --to … (one month)": ["articles", "--from", "2021-03-01", "--to", "2021-03-31", "--format", "json"],
    "stats": ["stats", "--format", "json"],
}


def _cli(url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", url, *args], catch_exceptions=False)
    if result.exit_code != 0:
        raise click.ClickException(f"archive {' '.join(args)}: {result.output}")
    return result.output


def _size_mb(url: str) -> float:
    engine = create_engine(url)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
    engine.dispose()
    return size / 1e6


def measure(server: str, shard_servers: list[str], directory: Path, workdir: Path, label: str) -> dict:
    """Load `directory` into a fresh coordinator sharded across `shard_servers` (none: one plain server)."""
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database(server, workdir, label))
        shards = [stack.enter_context(fresh_database(s, workdir, label)) for s in shard_servers]
        _cli(url, "db", "upgrade")
        if shards:
            _cli(url, "db", "shard", "--shards", " ".join(shards))
        start = time.perf_counter()
        out = _cli(url, "load", str(directory))
        load_s = time.perf_counter() - start
        reads = {}
        for name, args in READS.items():
            _cli(url, *args)  # warm: the first call pays for connections to every shard
            times = []
            for _ in range(REPEAT):
                t = time.perf_counter()
                _cli(url, *args)
                times.append(time.perf_counter() - t)
            reads[name] = statistics.median(times) * 1000
        return {
            "summary": out.strip().splitlines()[-1],
            "load_s": load_s,
            "reads": reads,
            "sizes": [_size_mb(url)] + [_size_mb(s) for s in shards],
        }


@click.command()
@click.option("--pages", type=int, default=2000, show_default=True)
@click.option("--server", default=lambda: os.environ.get("ARCHIVE_TEST_POSTGRES_URL"), help="The coordinator's (and the one server's) PostgreSQL.")
@click.option("--shards", "shard_urls", default=lambda: os.environ.get("ARCHIVE_TEST_SHARD_URLS", ""), help="Shard servers, space-separated.")
@click.option("--layout", "only", type=click.IntRange(0, 2), multiple=True, help="Only these layouts: 0 (one server), 1 or 2 shards; repeat (default: all three).")
def run(pages: int, server: str | None, shard_urls: str, only: tuple[int, ...]) -> None:
    shard_servers = shard_urls.split()
    if not server or len(shard_servers) < 2:
        raise click.UsageError("needs --server and two --shards (or ARCHIVE_TEST_POSTGRES_URL and ARCHIVE_TEST_SHARD_URLS)")
    click.echo(f"{machine()}; load average before: {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "pages"
        corpus.write_corpus(directory, pages)
        layouts = {"one server": [], "coordinator + 1 shard": shard_servers[:1], "coordinator + 2 shards": shard_servers[:2]}
        layouts = {name: shards for name, shards in layouts.items() if not only or len(shards) in only}
        results = {}
        for n, (name, shards) in enumerate(layouts.items()):
            results[name] = measure(server, shards, directory, Path(tmp), f"s{n}")
            r = results[name]
            click.echo(f"{name}: {r['summary']}; load {r['load_s']:.1f} s ({pages / r['load_s']:.1f} pages/s); load average {load_average()}")
            click.echo("  " + "; ".join(f"{read} {ms:.0f} ms" for read, ms in r["reads"].items()), nl=True)
    names = list(results)
    click.echo("\n| | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    click.echo(f"| `archive load` of {pages:,} pages | " + " | ".join(f"{r['load_s']:.0f} s — {pages / r['load_s']:.1f} pages/s" for r in results.values()) + " |")
    for read in READS:
        click.echo(f"| `{read}` (median of {REPEAT}) | " + " | ".join(f"{r['reads'][read]:.0f} ms" for r in results.values()) + " |")
    click.echo("| size (coordinator + shards) | " + " | ".join(" + ".join(f"{s:.0f} MB" for s in r["sizes"]) for r in results.values()) + " |")
    click.echo(f"\nload average after: {load_average()}")


if __name__ == "__main__":
    run()
