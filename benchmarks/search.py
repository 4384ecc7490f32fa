"""Search benchmark: a generated corpus of N paragraphs, then first-page and count latency of indexed
search against a LIKE scan of the paragraph table, for common and rare terms of 1, 2, 4, 6 and 8
characters.

    python -m benchmarks.search [N_PARAGRAPHS] [DATABASE_URL]     # default 1000000, a temporary SQLite file

The corpus is made from the seed page's sentences with varied names and numbers, written with bulk
inserts straight into the tables and the index (not through the page parser). Rare terms are planted in
a known number of paragraphs. Timings are wall-clock on a shared machine: expect noise.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from archive import db, searchindex
from archive.migrations.frozen import search_index
from archive.searchkey import doc_key
from archive.models import Article, Issue, Newspaper, Paragraph, Section, Source
from archive.output import width
from archive.prepare import parse_document
from archive.search import find_keys, hits_for_keys
from archive.searchtext import parse_query
from benchmarks.measure import Row

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_243109ca0d1e3123.txt"
PER_ISSUE = 100  # paragraphs per issue: 10 articles of 10
PAPERS = ("北疆法制报", "草原晚报", "河套日报")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志海波宁丹晨阳"
# rare terms planted in PLANTED paragraphs each; common ones come from the seed's own text
RARE = ("犀鸟", "犀鸟保护", "犀鸟保护条例")
COMMON = ("民警", "教育整顿", "包头市公安局")
# one character (issue 17): the seed's commonest (。 is in every paragraph), a surname the names make
# uncommon, a character only the planted terms hold; and an 8-character term from the seed
SINGLE = ("。", "警", "萧", "犀")
LONG = ("坚持政治建警、全",)
PLANTED = 50
REPEAT = 15
LIKE_REPEAT = 3
# the same page without the index: newest first, as `archive search` orders it
LIKE_PAGE = """SELECT p.id, p.text FROM paragraph p JOIN article a ON a.id = p.article_id
JOIN issue i ON i.id = a.issue_id WHERE p.text LIKE :p ORDER BY i.date DESC, p.id DESC LIMIT 20"""


def seed_sentences() -> list[str]:
    doc = parse_document(SEED.read_text(encoding="utf-8")).document
    out = []
    for article in doc.articles:
        for p in article.paragraphs:
            out += [s + "。" for s in re.split(r"[。！？]", p.text) if len(s) > 4]
    return out


def paragraphs(n: int, rnd: random.Random):
    sentences = seed_sentences()
    names = [rnd.choice(SURNAMES) + "".join(rnd.choices(GIVEN, k=rnd.choice([1, 2]))) for _ in range(5000)]
    planted = {i: RARE[i % len(RARE)] for i in rnd.sample(range(n), PLANTED * len(RARE))}
    for i in range(n):
        body = "".join(rnd.choices(sentences, k=rnd.choice([1, 1, 2, 3])))
        body = re.sub(r"\d+", lambda m: str(rnd.randrange(1, 10 ** len(m.group()))), body)
        body = re.sub(r"王祯|梁彦强|张力|孙新阳|李艳", lambda m: rnd.choice(names), body)
        if i in planted:
            at = rnd.randrange(len(body))
            body = body[:at] + planted[i] + body[at:]
        yield body


def build(engine, n: int, seed: int = 1) -> None:
    """Write n paragraphs in issues of PER_ISSUE, newest last, and index them."""
    rnd = random.Random(seed)
    db.upgrade(engine)
    gin = engine.dialect.name == "postgresql"
    if gin:  # one GIN build at the end is many times faster than maintaining it row by row
        with engine.begin() as c:
            c.execute(text("DROP INDEX ix_search_doc_tokens"))
    gen = paragraphs(n, rnd)
    day0 = dt.date(2000, 1, 1)
    made = 0
    with Session(engine) as s, s.begin():
        paper_ids = [s.execute(insert(Newspaper).values(name=p).returning(Newspaper.id)).scalar_one() for p in PAPERS]
    issue_no = 0
    while made < n:
        with Session(engine) as s, s.begin():
            for _ in range(50):  # issues per transaction
                if made >= n:
                    break
                issue_no += 1
                day = day0 + dt.timedelta(days=issue_no // len(PAPERS))
                issue_id = s.execute(
                    insert(Issue).values(newspaper_id=paper_ids[issue_no % len(PAPERS)], date=day).returning(Issue.id)
                ).scalar_one()
                source_id = s.execute(
                    insert(Source)
                    .values(path=f"/bench/{issue_no}.txt", sha256=f"{issue_no:064x}", encoding="utf-8", byte_count=0,
                            text="", loaded_at=dt.datetime(2026, 1, 1), parser_version="bench")
                    .returning(Source.id)
                ).scalar_one()
                count = min(PER_ISSUE, n - made)
                bodies = [next(gen) for _ in range(count)]
                made += count
                n_articles = (count + 9) // 10
                titles = [bodies[a * 10][:20] for a in range(n_articles)]
                article_ids = list(s.execute(insert(Article).returning(Article.id, sort_by_parameter_order=True), [
                    dict(issue_id=issue_id, source_id=source_id, ordinal=a + 1, title=titles[a],
                         char_count=0, paragraph_count=len(bodies[a * 10 : a * 10 + 10]))
                    for a in range(n_articles)
                ]).scalars())
                section_ids = list(s.execute(insert(Section).returning(Section.id, sort_by_parameter_order=True), [
                    dict(article_id=a, ordinal=0, heading=None) for a in article_ids
                ]).scalars())
                para_ids = list(s.execute(insert(Paragraph).returning(Paragraph.id, sort_by_parameter_order=True), [
                    dict(article_id=article_ids[i // 10], section_id=section_ids[i // 10], ordinal=i % 10 + 1,
                         text=b, char_count=len(b), line_start=1, line_end=1)
                    for i, b in enumerate(bodies)
                ]).scalars())
                searchindex.add(s, [(doc_key(day, a, "title"), t) for a, t in zip(article_ids, titles)]
                                + [(doc_key(day, p), b) for p, b in zip(para_ids, bodies)])
        print(f"  built {made:,} paragraphs", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    if gin:
        with engine.begin() as c:
            c.execute(text("SET maintenance_work_mem = '256MB'"))
            c.execute(text(next(d for d in search_index.DDL["postgresql"]["create"] if "USING gin" in d)))


def timed(fn, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], result


def time_term(s: Session, term: str, repeat: int = REPEAT) -> dict:
    """The first page as `archive search` makes it (20 hits newest first, with snippets, no count) and
    the count of every hit, each timed `repeat` times in this process: medians and p95s in ms."""
    q = parse_query(term)
    page_med, page_p95, _ = timed(lambda: hits_for_keys(s, q, find_keys(s, q, limit=20, count=False)[1]), repeat)
    count_med, count_p95, (hits, _) = timed(lambda: find_keys(s, q, limit=0), repeat)
    return dict(query=term, length=len(term), hits=hits, page_median_ms=page_med, page_p95_ms=page_p95,
                count_median_ms=count_med, count_p95_ms=count_p95)


def sizes(engine) -> dict:
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            # the pages the index's shadow tables fill, as the file holds them (dbstat); the sum of
            # their blobs alone, measured before, left out page overhead and said 1.24x for 1.33x
            index = c.execute(text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_fts%'")).scalar()
        elif engine.dialect.name == "postgresql":
            index = c.execute(text("SELECT pg_total_relation_size('search_doc')")).scalar()
        else:
            index = c.execute(text("SELECT data_length + index_length FROM information_schema.tables "
                                   "WHERE table_schema = DATABASE() AND table_name = 'search_doc'")).scalar()
        size = "octet_length({})" if engine.dialect.name != "sqlite" else "length(CAST({} AS BLOB))"
        text_bytes = c.execute(text(f"SELECT sum({size.format('text')}) FROM paragraph")).scalar() or 0
        # every text the index holds: paragraphs, and the titles, subtitles, kickers and section headings
        others = c.execute(text(
            f"SELECT (SELECT coalesce(sum({size.format('title')}), 0) + coalesce(sum({size.format('subtitle')}), 0)"
            f" + coalesce(sum({size.format('kicker')}), 0) FROM article)"
            f" + (SELECT coalesce(sum({size.format('heading')}), 0) FROM section)")).scalar()
    return {"index_bytes": int(index or 0), "text_bytes": int(text_bytes), "indexed_bytes": int(text_bytes + others)}


def run(n_paragraphs: int, url: str | None = None) -> list[dict]:
    """Build (or reuse) the corpus at `url` and print one line per query; return the rows."""
    own = url is None
    if own:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='search-bench-')}/bench.db"
    engine = db.make_engine(url)
    if engine.dialect.name == "postgresql":
        # Index pages are mostly cached; the default (4) makes the planner prefer full scans.
        engine = db.make_engine(url, connect_args={"options": "-c random_page_cost=1.1"})
    db.upgrade(engine)
    with Session(engine) as s:
        have = s.scalar(select(func.count()).select_from(Paragraph))
    if have == 0:
        t0 = time.perf_counter()
        build(engine, n_paragraphs)
        print(f"built {n_paragraphs:,} paragraphs in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        if engine.dialect.name == "postgresql":
            with engine.connect() as c:
                c.execute(text("ANALYZE"))
                c.commit()
    elif have != n_paragraphs:
        raise SystemExit(f"{url} holds {have} paragraphs, not {n_paragraphs}: use an empty database")
    size = sizes(engine)
    print(f"engine {engine.dialect.name}, {n_paragraphs:,} paragraphs, text {size['text_bytes'] / 1e6:.0f} MB, "
          f"index {size['index_bytes'] / 1e6:.0f} MB ({size['index_bytes'] / size['text_bytes']:.2f}x the text); "
          f"shared 2-core machine, timings are noisy")
    print(f"{'query':14} {'len':>3} {'hits':>8} | {'page med':>8} {'p95':>7} | {'count med':>9} {'p95':>7} |"
          f" {'LIKE page':>9} {'LIKE count':>10} | {'page x':>6} {'count x':>7}   (ms)")
    rows = []
    with Session(engine) as s:
        for term in SINGLE + COMMON + RARE + LONG:
            row = time_term(s, term)
            like = {"p": f"%{term}%"}
            like_page, _, _ = timed(lambda: s.execute(text(LIKE_PAGE), like).all(), LIKE_REPEAT)
            like_count, _, _ = timed(lambda: s.execute(text(
                "SELECT count(*) FROM paragraph WHERE text LIKE :p"), like).scalar(), LIKE_REPEAT)
            row.update(like_page_ms=like_page, like_count_ms=like_count)
            rows.append(row)
            page_med, count_med = row["page_median_ms"], row["count_median_ms"]
            print(f"{term + ' ' * (14 - width(term))} {len(term):>3} {row['hits']:>8,} | {page_med:>8.1f} "
                  f"{row['page_p95_ms']:>7.1f} | {count_med:>9.1f} {row['count_p95_ms']:>7.1f} | {like_page:>9.1f} "
                  f"{like_count:>10.1f} | {like_page / page_med:>6.0f} {like_count / count_med:>7.0f}", flush=True)
    engine.dispose()
    return rows


TARGET_PAGE_MS = 20


def search_rows(n_paragraphs: int, engines: list[str]) -> list[Row]:
    """The search figures as table rows, on SQLite and on each PostgreSQL server in `engines` (a scratch
    database there): each query's first page against a LIKE scan's first page, count beside it."""
    from benchmarks.load import fresh_database

    out: list[Row] = []
    for engine in engines:
        backend = "sqlite" if engine == "sqlite" else make_url(engine).get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            continue
        group = f"search {backend} ({n_paragraphs:,} paragraphs)"
        if backend == "sqlite":
            directory = Path(tempfile.mkdtemp(prefix="search-bench-"))
            try:
                found = run(n_paragraphs, f"sqlite:///{directory / 'bench.db'}")
            finally:  # the 1,000,000-paragraph file is 0.7 GB
                shutil.rmtree(directory, ignore_errors=True)
        else:
            with fresh_database(engine, Path("."), "search") as url:
                found = run(n_paragraphs, url)
        for r in found:
            page, like_page = r["page_median_ms"], r["like_page_ms"]
            out.append(
                Row(
                    group,
                    f"{r['query']} ({r['length']} chars, {r['hits']:,} hits): first page",
                    page,
                    "ms",
                    like_page,
                    page / like_page,
                    f"≤ {TARGET_PAGE_MS} ms",
                    page <= TARGET_PAGE_MS,
                    f"floor: LIKE scan's first page; p95 {r['page_p95_ms']:.1f} ms; count {r['count_median_ms']:.1f} ms "
                    f"(LIKE count {r['like_count_ms']:.0f} ms)",
                )
            )
    return out


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    run(n, sys.argv[2] if len(sys.argv) > 2 else os.environ.get("ARCHIVE_BENCH_URL"))
