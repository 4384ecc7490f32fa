"""Search: the query language, exact substring hits against a brute-force scan, the index kept in step
with loading, updating and purging, and the `archive search` command, on every engine."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from archive import db, loader, queries, searchindex, writer
from archive.cli import main
from archive.search import Filters, find_keys, search
from archive.searchkey import DATE_SHIFT, split_key
from archive.searchquery import stored_docs
from archive.searchtext import EmptyQuery, Term, doc_tokens, fold, parse_query, token_text
from tests import searchcorpus

HOSTILE = ['"', "*", "(", "NEAR", "OR", "'; DROP TABLE paragraph; --", "-", '""', "AND NOT", "a:*", "%", "_", "\\", "'"]
SEED_TEXTS = 38  # the seed page: 1 title, 1 subtitle, 5 headings, 31 paragraphs
FIXED = ["X光机", "x光机", "12345", "１２３４５", "58.2%", '"CN 15-0025"', "cn", "民警", "包头", "警", "。", "，", "”"]


# ---------------------------------------------------------------- pure parts


def test_fold_width_and_case_only():
    assert fold("１２３４５ＡＢｃ，（）　") == "12345abc,() "
    assert fold("X光机") == "x光机"
    assert fold("個人") == "個人"  # traditional stays traditional
    assert fold("㎡①") == "㎡1"  # a compatibility form that expands is kept as it is
    assert len(fold("Ǆ㎡ﬁİ")) == 4  # one character in, one out


def test_tokens_are_bigrams_and_last_character():
    toks = doc_tokens("民警a")
    assert len(toks) == 3 and [len(t) for t in toks] == [8, 8, 4]
    assert toks[0][4:] == toks[1][:4] and toks[1][4:] == toks[2]
    assert doc_tokens("") == []
    assert all(t.isalnum() and t.islower() or t.isdigit() for t in doc_tokens("Ab 1。𠀀😀"))


@given(st.text(alphabet=st.sampled_from("民警ａＢ12，。 \u3000𠀀😀x\tİǄ"), max_size=30) | st.text(max_size=30))
def test_token_text_is_the_tokens_joined(text):
    # token_text builds the string with str.translate; doc_tokens says what it must hold
    assert token_text(text) == " ".join(doc_tokens(text))


def test_query_language():
    assert parse_query("民警  辅警").terms == (Term("民警"), Term("辅警"))
    assert parse_query('"CN 15-0025" -包头').terms == (Term("cn 15-0025"), Term("包头", exclude=True))
    assert parse_query('-"公安 民警"').terms == (Term("公安 民警", exclude=True),)
    assert parse_query("-").terms == (Term("-"),)
    assert parse_query("a -").terms == (Term("a"), Term("-"))
    assert parse_query('"').terms == (Term('"'),)
    assert parse_query('""').terms == (Term('""'),)
    assert parse_query('"民警').terms == (Term('"民警'),)
    assert parse_query("NEAR OR (").terms == (Term("near"), Term("or"), Term("("))
    assert parse_query("'; DROP TABLE paragraph; --").terms == (
        Term("';"), Term("drop"), Term("table"), Term("paragraph;"), Term("-", exclude=True)
    )
    assert parse_query("１２３４５　ＡＢ").terms == (Term("12345"), Term("ab"))
    assert parse_query("民警 民警").terms == (Term("民警"),)
    for empty in ("", "   ", "\u3000"):
        with pytest.raises(EmptyQuery):
            parse_query(empty)


def test_query_meaning():
    q = parse_query("民警 -辅警")
    assert q.matches("公安民警") and not q.matches("民警辅警") and not q.matches("辅警")


# ---------------------------------------------------------------- against the database


def store(engine, items) -> None:
    for prepared in items:
        assert loader.store_with_retry(engine, prepared).status in ("new", "updated")


class Brute:
    """Every stored title and paragraph, read once; `keys` answers a query by reading each text."""

    def __init__(self, engine):
        with Session(engine) as s:
            self.docs = stored_docs(s)
            self.article_of = {
                "paragraph": dict(s.execute(text("SELECT id, article_id FROM paragraph")).all()),
                "heading": dict(s.execute(text("SELECT id, article_id FROM section")).all()),
            }
            self.papers = {a["id"]: a["newspaper"] for a in queries.list_articles(s)}
        self.folded = [(key, fold(body)) for key, body in self.docs]

    def keys(self, query: str, filters: Filters = Filters()) -> list[int]:
        q = parse_query(query)
        out = []
        for key, body in self.folded:
            day = dt.date.fromordinal(key >> DATE_SHIFT)
            if filters.date_from and day < filters.date_from or filters.date_to and day > filters.date_to:
                continue
            field, rid = split_key(key)
            article = self.article_of[field][rid] if field in self.article_of else rid
            if filters.newspaper and self.papers[article] != filters.newspaper:
                continue
            if all((t.text in body) != t.exclude for t in q.terms):  # Query.matches, on pre-folded text
                out.append(key)
        return sorted(out, reverse=True)


def brute(engine, query: str) -> list[int]:
    return Brute(engine).keys(query)


def indexed(engine, query: str, filters: Filters = Filters(), **kw) -> list[int]:
    with Session(engine) as s:
        total, keys = find_keys(s, parse_query(query), filters=filters, limit=None, **kw)
    assert total == len(keys), query
    return keys


def index_missing(engine) -> bool:
    names = set(inspect(engine).get_table_names())
    return not names & {"search_fts", "search_doc"}


def index_rows(engine) -> int:
    table = "search_fts" if engine.dialect.name == "sqlite" else "search_doc"
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def sample_queries(texts: list[str], n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = list(FIXED)
    while len(out) < n:
        body = rnd.choice(texts)
        size = rnd.choice([1, 2, 2, 3, 3, 4, 5, 8])
        start = rnd.randrange(max(1, len(body) - size + 1))
        sub = body[start : start + size]
        if '"' in sub or sub.strip() != sub or sub.startswith("-") or not sub:
            continue
        out.append(f'"{sub}"' if " " in sub else sub)
    out += ["公安 民警", "民警 -辅警", "江城 -司法", '"法律 援助"', "没有这个词", "民警民警民警", "-的"]
    return out


def test_seed_hits_are_exactly_the_substrings(engine, seed_dir):
    loader.load_paths(engine, [seed_dir], workers=1)
    truth = Brute(engine)
    for query in sample_queries([t for _, t in truth.docs], 150, seed=4) + HOSTILE:
        assert indexed(engine, query) == truth.keys(query), query
    assert len(truth.keys("民警")) == 17 and len(truth.keys("包头")) == 22  # the subtitle holds it too


def test_generated_corpus_hits_are_exactly_the_substrings(engine):
    store(engine, searchcorpus.documents(3000, seed=11))
    truth = Brute(engine)
    texts = [t for _, t in truth.docs]
    assert len(texts) > 3000
    for i, query in enumerate(sample_queries(texts, 250, seed=5)):
        expected = truth.keys(query)
        assert indexed(engine, query) == expected, query
        if i % 5 == 0:  # first pages take another path on PostgreSQL (newest rows first, then GIN)
            for offset in (0, 20):
                with Session(engine) as s:
                    page = find_keys(s, parse_query(query), limit=20, offset=offset, count=False)[1]
                assert page == expected[offset : offset + 20], (query, offset)
    full_width = [k for k, t in truth.docs if "１２３４５" in t and "12345" not in t]
    assert full_width and set(full_width) <= set(indexed(engine, "12345")) == set(indexed(engine, "１２３４５"))
    for f in (Filters(newspaper="临江日报"), Filters(date_from=dt.date(2021, 2, 1), date_to=dt.date(2021, 2, 10))):
        for query in ("民警", "法", "服务 -群众", "12"):
            assert indexed(engine, query, f) == truth.keys(query, f), (query, f)


def test_long_and_repetitive_texts(engine):
    # PostgreSQL keeps at most 256 positions per lexeme and positions up to 16383: such texts are
    # decided on their text there. Every engine must give the same exact hits.
    long_text = "哈" * 600 + "民警" + "。".join(f"第{i}条" for i in range(4000)) + "尾声X"
    store(engine, [searchcorpus.single("/long.txt", dt.date(2022, 1, 1), "长文", [long_text, "哈哈民警", "第3999条"])])
    truth = Brute(engine)
    for query in ("哈哈哈民", "哈哈", "第3999条", "尾声x", "3999条尾", "-哈", "条 -民警", "声"):
        assert indexed(engine, query) == truth.keys(query), query
    assert len(indexed(engine, "尾声x")) == 1


def _grouped_tsvector(tokens: list[str]) -> str:
    """The tsvector literal written out in full: each lexeme once, its first 256 positions."""
    positions: dict[str, list[int]] = {}
    for pos, tok in enumerate(tokens, start=1):
        positions.setdefault(tok, []).append(pos)
    return " ".join(f"{tok}:{','.join(map(str, p[:256]))}" for tok, p in positions.items())


def test_tsvector_literal_means_the_grouped_one(engine):
    """searchindex writes one "token:position" per token and lets PostgreSQL merge repeated lexemes:
    the tsvector it reads must be the one the grouped literal gives, lossy flag included."""
    if engine.dialect.name != "postgresql":
        pytest.skip("tsvector is PostgreSQL's")
    rnd = random.Random(5)
    cases = [[], ["aaaa"], ["aaaa"] * 300, ["abcd", "bcde"] * 200 + ["zz99"]]
    cases += [[rnd.choice(["0a1b", "0a1b0c2d", "zzzz", "1e10"]) for _ in range(rnd.randint(1, 700))] for _ in range(20)]
    with engine.connect() as conn:
        for tokens in cases:
            literal, lossy = searchindex._tsvector(tokens)
            same = conn.execute(text("SELECT CAST(:a AS tsvector) = CAST(:b AS tsvector)"), {"a": literal, "b": _grouped_tsvector(tokens)})
            assert same.scalar() is True, tokens[:5]
            assert lossy == any(tokens.count(t) > 256 for t in set(tokens))
        long = [f"{i % 1000:04d}" for i in range(17000)]
        assert searchindex._tsvector(long)[1] is True  # positions beyond 16383
        huge = [f"{i % 3000:04d}{i % 7:04d}" for i in range(400_000)]  # 3.2 MB of lexemes before merging
        literal, lossy = searchindex._tsvector(huge)
        assert lossy and conn.execute(text("SELECT length(CAST(:a AS tsvector))"), {"a": literal}).scalar() == 21000


def test_hostile_queries_change_nothing(db_url, seed_dir):
    run(db_url, "load", str(seed_dir))
    before = run(db_url, "stats", "--format", "json").output
    for query in HOSTILE:
        for fmt in ("table", "json", "csv"):
            result = run(db_url, "search", query, "--format", fmt)
            assert "Traceback" not in result.output
    eng = db.make_engine(db_url)
    assert json.loads(run(db_url, "search", "'; DROP TABLE paragraph; --", "--format", "json").output)["total"] == len(
        brute(eng, "'; DROP TABLE paragraph; --")
    )
    eng.dispose()
    assert run(db_url, "stats", "--format", "json").output == before
    assert run(db_url, "search", "  ", ok=False).output.strip() == "Error: nothing to search for: the query is empty"


def test_index_in_step_with_update_purge_and_reload(engine, tmp_path):
    first = searchcorpus.single("/p.txt", dt.date(2021, 5, 1), "初版标题", ["独有词甲出现在这里", "共同的民警"])
    second = searchcorpus.single("/p.txt", dt.date(2021, 6, 1), "再版标题", ["独有词乙出现在这里", "共同的民警"])
    other = searchcorpus.single("/q.txt", dt.date(2021, 7, 1), "别的标题", ["另一份民警报道"], paper="临江日报")
    store(engine, [first, other])
    assert len(indexed(engine, "独有词甲")) == 1 and len(indexed(engine, "民警")) == 2
    store(engine, [second])  # same path, new content: replaces the first version
    truth = Brute(engine)
    # one character too: PostgreSQL counts those from search_char_count, kept by the same upkeep
    for query in ("独有词甲", "初版", "独有词乙", "再版", "民警", "标题", "-民警", "甲", "乙", "初", "再", "民", "的"):
        assert indexed(engine, query) == truth.keys(query), query
    assert indexed(engine, "独有词甲") == [] and len(indexed(engine, "民警")) == 2
    assert indexed(engine, "甲") == [] and len(indexed(engine, "的")) == 2
    assert index_rows(engine) == 5
    writer.purge(engine, "/p.txt")
    assert indexed(engine, "独有词乙") == [] and indexed(engine, "民警") == brute(engine, "民警")
    assert indexed(engine, "乙") == [] and len(indexed(engine, "的")) == 1 and len(indexed(engine, "民")) == 1
    assert index_rows(engine) == 2


def test_reindex_command(db_url, seed_dir):
    run(db_url, "load", str(seed_dir))
    before = run(db_url, "search", "民警", "--format", "json").output
    assert run(db_url, "db", "reindex").output == f"indexed {SEED_TEXTS} texts (titles, subtitles, kickers, headings, paragraphs)\n"
    assert run(db_url, "search", "民警", "--format", "json").output == before
    eng = db.make_engine(db_url)
    assert index_rows(eng) == SEED_TEXTS
    eng.dispose()


def test_migration_indexes_existing_rows(engine, seed_dir):
    loader.load_paths(engine, [seed_dir], workers=1)
    before_search = ScriptDirectory.from_config(db.alembic_config()).get_revision("0005_search_index").down_revision
    db.downgrade(engine, before_search)
    assert index_missing(engine)
    db.upgrade(engine)
    assert len(indexed(engine, "民警")) == 17
    assert index_rows(engine) == SEED_TEXTS


def test_sqlite_index_merges_segments_sixteen_at_a_time(engine, seed_dir):
    """Migration 0006 sets FTS5's automerge (kept in the database) and its downgrade puts back the
    default; the index answers the same either way."""
    if engine.dialect.name != "sqlite":
        pytest.skip("FTS5's automerge is a SQLite setting")

    def automerge() -> int | None:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT v FROM search_fts_config WHERE k = 'automerge'").scalar()

    loader.load_paths(engine, [seed_dir], workers=1)
    assert automerge() == searchindex.SQLITE_AUTOMERGE == 16
    db.downgrade(engine, "0005_search_index")
    assert automerge() == searchindex.SQLITE_DEFAULT_AUTOMERGE
    assert len(indexed(engine, "民警")) == 17
    db.upgrade(engine)
    assert automerge() == 16
    assert len(indexed(engine, "民警")) == 17


def rid_of(session, hit: dict) -> int:
    """The id of the row whose text a hit matched."""
    if hit["hit"] == "heading":
        return session.execute(
            text("SELECT id FROM section WHERE article_id = :a AND heading = :h"), {"a": hit["article_id"], "h": hit["heading"]}
        ).scalars().first()
    return hit["paragraph_id"] or hit["article_id"]


def test_paging_and_order(engine):
    store(engine, searchcorpus.documents(300, seed=3))
    everything = indexed(engine, "服务")
    with Session(engine) as s:
        pages = []
        for offset in range(0, len(everything) + 7, 7):
            found = search(s, "服务", limit=7, offset=offset)
            assert found["total"] == len(everything)
            pages += [(h["hit"], rid_of(s, h)) for h in found["hits"]]
        ranked = search(s, "服务", limit=len(everything), order="relevance")
        dates = [h["date"] for h in search(s, "服务", limit=50)["hits"]]
        assert sorted((h["hit"], rid_of(s, h)) for h in ranked["hits"]) == sorted(map(split_key, everything))
    assert pages == list(map(split_key, everything))
    assert dates == sorted(dates, reverse=True)


# ---------------------------------------------------------------- the command


def run(url, *args, ok=True):
    result = CliRunner().invoke(main, ["--db", url, *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_search_command(db_url, seed_dir):
    run(db_url, "load", str(seed_dir))
    table = run(db_url, "search", "民警", "--limit", "3").output
    assert table.count("[民警]") == 3 and table.rstrip().endswith("17 hits, showing 1-3")
    assert "内蒙古法制报" in table and "2020-08-26" in table
    data = json.loads(run(db_url, "search", "１２３４５", "--format", "json").output)
    assert data["total"] == 1
    hit = data["hits"][0]
    eng = db.make_engine(db_url)
    with Session(eng) as s:
        body = s.execute(text("SELECT text FROM paragraph WHERE id = :i"), {"i": hit["paragraph_id"]}).scalar_one()
    eng.dispose()
    m = hit["matches"][0]
    assert body[m["start"] : m["end"]] == "12345"
    assert hit["snippet"] in body and body.find(hit["snippet"]) == hit["snippet_start"]
    assert hit["heading"] is None and hit["title"] == "“包头样本”应民意 激发担当新作为"
    title_hit = json.loads(run(db_url, "search", "包头样本", "--format", "json").output)["hits"][0]
    assert title_hit["hit"] == "title" and title_hit["paragraph_id"] is None
    csv_lines = run(db_url, "search", '"CN 15-0025"', "--format", "csv").output.splitlines()
    assert csv_lines[0].startswith("newspaper,date,article_id,title,heading,paragraph_id,hit,snippet")
    assert run(db_url, "search", "民警", "--newspaper", "别的报", "--format", "json").output.count('"hits": []') == 1
    assert json.loads(run(db_url, "search", "民警", "--from", "2020-08-27", "--format", "json").output)["total"] == 0
    assert json.loads(run(db_url, "search", "民警", "--to", "2020-08-26", "--format", "json").output)["total"] == 17
    assert run(db_url, "search", "没有这个词").output == "0 hits\n"
    assert run(db_url, "search", "--", "-民警 包头").output.rstrip().endswith("9 hits, showing 1-9")  # the subtitle too



# ---------------------------------------------------------------- one character (issue 17)


def test_every_single_character_is_exact(engine):
    """Every character of a generated corpus, searched alone, finds exactly the texts holding it, in all
    five fields; the commonest ones page newest first exactly (SQLite reads FTS5's per-character prefix
    index, PostgreSQL tries its newest rows first), with filters and beside other terms."""
    store(engine, searchcorpus.documents(900, seed=17))
    truth = Brute(engine)
    counts: dict[str, int] = {}
    for _, body in truth.folded:
        for c in set(body):
            counts[c] = counts.get(c, 0) + 1
    chars = sorted((c for c in counts if not c.isspace()), key=lambda c: -counts[c])
    assert len(chars) > 300 and counts[chars[0]] > len(truth.docs) // 2
    fields = set()
    for c in chars:
        expected = truth.keys(c)
        assert indexed(engine, c) == expected, c
        fields |= {split_key(k)[0] for k in expected}
    assert fields == {"paragraph", "title", "subtitle", "kicker", "heading"}
    with Session(engine) as s:
        for c in chars[:25]:
            expected = truth.keys(c)
            for offset in (0, 20, 200):
                page = find_keys(s, parse_query(c), limit=20, offset=offset, count=False)[1]
                assert page == expected[offset : offset + 20], (c, offset)
    common, rare = chars[0], chars[-1]
    for f in (Filters(newspaper="临江日报"), Filters(date_from=dt.date(2021, 3, 1), date_to=dt.date(2021, 3, 20))):
        for query in (common, rare, "警", f"{common} -{chars[1]}", f"-{common}"):
            assert indexed(engine, query, f) == truth.keys(query, f), (query, f)
    for query in (f"{chars[1]} {chars[2]}", f"{common} 民警", f"民警 -{chars[3]}", f"警 -{rare}", f"{rare} 的"):
        assert indexed(engine, query) == truth.keys(query), query


def test_sqlite_index_has_a_doclist_per_character(engine, seed_dir):
    """Migration 0011 makes SQLite's index with FTS5's 4-letter prefix index (one doclist per character,
    what a one-character query reads); its downgrade makes it without; hits are the same either way."""
    if engine.dialect.name != "sqlite":
        pytest.skip("FTS5's prefix index is SQLite's")

    def ddl() -> str:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'search_fts'").scalar()

    loader.load_paths(engine, [seed_dir], workers=1)
    truth = Brute(engine)
    assert searchindex.SQLITE_CHAR_PREFIX in ddl()
    queries = ("警", "民警", "。", "包", "-的", "的 -民警")
    before = {q: indexed(engine, q) for q in queries}
    assert before == {q: truth.keys(q) for q in queries} and len(before["警"]) > 17
    db.downgrade(engine, "0010_metric_series")
    assert "prefix" not in ddl()
    assert {q: indexed(engine, q) for q in queries} == before and index_rows(engine) == SEED_TEXTS
    db.upgrade(engine)
    assert searchindex.SQLITE_CHAR_PREFIX in ddl()
    assert {q: indexed(engine, q) for q in queries} == before and index_rows(engine) == SEED_TEXTS
    with engine.connect() as conn:  # the automerge setting of 0006 survives the new table
        assert conn.exec_driver_sql("SELECT v FROM search_fts_config WHERE k = 'automerge'").scalar() == 16


def test_sqlite_index_gathers_a_batch_into_one_segment(engine, seed_dir):
    """Migration 0012 sets FTS5's hashsize to 8 MB (kept in the database, and kept when 0011 makes the
    table again): a transaction indexing more than the default 1 MB of terms writes one segment, not
    several; its downgrade puts back the default. Hits are the same either way."""
    if engine.dialect.name != "sqlite":
        pytest.skip("FTS5's hashsize is a SQLite setting")

    def setting() -> int | None:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT v FROM search_fts_config WHERE k = 'hashsize'").scalar()

    def segments_after_writing(first_key: int) -> int:
        # about 2.5 MB of terms in one transaction: 3,000 texts of 200 distinct made-up characters
        docs = [(first_key + i, token_text("".join(chr(0x4E00 + (i * 7 + j * 13) % 20000) for j in range(200)))) for i in range(3000)]
        with engine.connect() as conn:
            before = {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT segid FROM search_fts_idx")}
        with engine.begin() as conn:
            searchindex.add_tokens(conn, docs)
        with engine.connect() as conn:
            after = {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT segid FROM search_fts_idx")}
        return len(after - before)

    loader.load_paths(engine, [seed_dir], workers=1)
    assert setting() == searchindex.SQLITE_HASHSIZE == 8 * 1024 * 1024
    assert segments_after_writing(10**12) == 1
    db.downgrade(engine, "0011_search_char_prefix")
    assert setting() == searchindex.SQLITE_DEFAULT_HASHSIZE
    assert segments_after_writing(2 * 10**12) >= 2
    db.downgrade(engine, "0010_metric_series")
    db.upgrade(engine)
    assert setting() == searchindex.SQLITE_HASHSIZE
    assert len(indexed(engine, "民警")) == 17
