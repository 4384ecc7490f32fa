"""The benchmark corpus: deterministic, seed-sized, varied, and parsed exactly as generated."""

from __future__ import annotations

from archive.formats import page
from archive.prepare import prepare_bytes
from benchmarks import corpus


def test_pages_parse_as_generated():
    for i in range(60):
        g = corpus.generate(i)
        assert corpus.check(page.parse(g.text), g) is None, g.name


def test_pages_are_distinct_issues_with_several_articles():
    pages = [corpus.generate(i) for i in range(40)]
    assert len({p.date for p in pages}) == len({p.number for p in pages}) == 40
    assert all(2 <= len(p.articles) <= 4 for p in pages)
    assert len({p.text for p in pages}) == 40
    bylines = {a.byline for p in pages for a in p.articles}
    assert len(bylines) > 60  # reporters are renamed page by page
    seed_size = corpus.SEED.stat().st_size
    mean = sum(len(p.text.encode()) for p in pages) / len(pages)
    assert 0.8 * seed_size < mean < 1.2 * seed_size


def test_generation_is_deterministic_and_prefix_stable(tmp_path):
    assert corpus.generate(7).text == corpus.generate(7).text
    assert corpus.generate(7).text != corpus.generate(7, salt="other").text
    small = corpus.write_corpus(tmp_path / "a", 3)
    big = corpus.write_corpus(tmp_path / "b", 5)
    assert [p.read_bytes() for p in small] == [p.read_bytes() for p in big[:3]]


def test_check_reports_a_difference():
    g = corpus.generate(1)
    other = corpus.generate(2)
    assert corpus.check(page.parse(other.text), g) is not None
    # the loader's own preparation sees the same structure
    prepared = prepare_bytes(g.name, g.text.encode("utf-8"))
    assert corpus.check(prepared.parsed.document, g) is None
