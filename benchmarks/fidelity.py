"""Are article files stored as printed? Load a folder of crawl article files, then compare each stored
article's headings and paragraphs with the file's own lines.

`python -m benchmarks.fidelity FOLDER --newspaper 人民日报 --name-pattern '{date:%Y%m%d}-{page}-{ordinal}.txt'`

A file's printed body is its lines after the title block, less blank lines, bylines, credits, page staff
and source lines. An article is as printed when walking its sections gives exactly those lines: each
paragraph one line, each heading one line or two joined by a space. Anything else is a failure of a kind:
`split` (a paragraph is the start of a line), `joined` (a paragraph runs past its line), `heading` (a
heading that is not one or two lines), `changed`, `lost` (lines never stored), `extra` (stored text the file
lacks past its end). Files that did not load are counted by reason; articles without body text apart.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import click
from sqlalchemy import select

from archive import db
from archive.decode import decode
from archive.formats import article as article_format
from archive.formats.metadata import Metadata
from archive.loader import load_paths
from archive.models import Article, Paragraph, Section, Source

TARGET_SHARE = 0.995


@dataclass
class Fidelity:
    files: int = 0
    stored: int = 0
    as_printed: int = 0
    without_body: int = 0
    kinds: Counter = field(default_factory=Counter)  # mismatched articles by their first failure's kind
    failed: Counter = field(default_factory=Counter)  # files not loaded, by reason
    examples: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.as_printed / self.stored if self.stored else 1.0

    def render(self) -> str:
        out = [
            f"{self.files} files, {self.stored} articles stored, {sum(self.failed.values())} files failed",
            f"as printed: {self.as_printed} of {self.stored} ({self.share:.2%}; target {TARGET_SHARE:.1%}) "
            + ("ok" if self.share >= TARGET_SHARE else "BELOW TARGET"),
            f"without body text: {self.without_body}",
        ]
        out += [f"  not as printed, {kind}: {n}" for kind, n in self.kinds.most_common()]
        out += [f"  failed, {reason}: {n}" for reason, n in self.failed.most_common()]
        out += [f"  e.g. {e}" for e in self.examples]
        return "\n".join(out)


def printed_lines(text: str, title: str, kicker: str | None, subtitle: str | None) -> list[tuple[int, str]]:
    """(line number, text) of the body as printed: the title block's lines (those holding the stored
    title, kicker, subtitle among the first three) and credits, staff and source lines left out."""
    lines = article_format._lines(text)
    head = {t for t in (title, kicker, subtitle) if t}
    out = []
    for k, (line, _) in enumerate(lines):
        t = line.text
        if not t or (k < article_format.TITLE_SLOTS and (t in head or t.lstrip("—-－").strip() in head)):
            continue
        if article_format.furniture(t):
            continue
        out.append((line.number, t))
    return out


def compare(printed: list[tuple[int, str]], stored: list[tuple[str, str]]) -> tuple[str, int] | None:
    """None when `stored` ((kind, text) of headings and paragraphs in order) is `printed`; else the first
    failure's kind and the line it concerns."""
    k = 0
    for kind, text in stored:
        if k >= len(printed):
            return "extra", printed[-1][0] if printed else 1
        number, line = printed[k]
        if kind == "heading":
            if text == line:
                k += 1
                continue
            if k + 1 < len(printed) and text == f"{line} {printed[k + 1][1]}":
                k += 2
                continue
            return "heading", number
        if text == line:
            k += 1
        elif line.startswith(text):
            return "split", number
        elif text.startswith(line):
            return "joined", number
        else:
            return "changed", number
    if k < len(printed):
        return "lost", printed[k][0]
    return None


def _reason(message: str) -> str:
    """A failure's reason without its path, line and quoted text, to count alike failures together."""
    m = re.search(r":\d+: ", message)
    reason = message[m.end():] if m else message
    return re.split(r"[:：'(（]", reason, maxsplit=1)[0].strip()


def stored_articles(engine) -> dict[str, list[tuple[Article, list[tuple[str, str]]]]]:
    """Per source path, each stored article with its headings and paragraphs in order."""
    rows = select(Source.path, Article.id, Article.title, Article.kicker, Article.subtitle, Article.paragraph_count)
    rows = rows.join(Article, Article.source_id == Source.id).order_by(Source.path, Article.ordinal)
    sections = select(Section.article_id, Section.id, Section.heading).order_by(Section.article_id, Section.ordinal)
    paragraphs = select(Paragraph.section_id, Paragraph.text).order_by(Paragraph.section_id, Paragraph.ordinal)
    with engine.connect() as conn:
        texts: dict[int, list[str]] = {}
        for section_id, text in conn.execute(paragraphs):
            texts.setdefault(section_id, []).append(text)
        items: dict[int, list[tuple[str, str]]] = {}
        for article_id, section_id, heading in conn.execute(sections):
            seq = items.setdefault(article_id, [])
            if heading is not None:
                seq.append(("heading", heading))
            seq += [("paragraph", t) for t in texts.get(section_id, [])]
        out: dict[str, list] = {}
        for path, article_id, title, kicker, subtitle, count in conn.execute(rows):
            out.setdefault(path, []).append(((title, kicker, subtitle, count), items.get(article_id, [])))
    return out


def check_folder(folder: Path, meta: Metadata, fmt: str | None = None, url: str | None = None, examples: int = 10) -> Fidelity:
    """Load `folder` into a fresh database (SQLite in a temporary directory unless `url`), then compare."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.make_engine(url or f"sqlite:///{tmp}/fidelity.db")
        db.upgrade(engine)
        report = load_paths(engine, [folder], fmt=fmt, meta=meta)
        found = Fidelity(files=len(report.results))
        for r in report.failed:
            found.failed[_reason(r.message or "")] += 1
            if len(found.examples) < examples:
                found.examples.append(r.message or r.path)
        for path, articles in stored_articles(engine).items():
            text = decode(Path(path).read_bytes()).text
            for (title, kicker, subtitle, count), items in articles:
                found.stored += 1
                found.without_body += count == 0
                failure = compare(printed_lines(text, title, kicker, subtitle), items)
                if failure is None:
                    found.as_printed += 1
                    continue
                found.kinds[failure[0]] += 1
                if len(found.examples) < examples:
                    found.examples.append(f"{path}:{failure[1]}: {failure[0]}")
        engine.dispose()
    return found


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--newspaper", help="Newspaper of files that do not name it.")
@click.option("--name-pattern", help="Pattern of the file names, e.g. '{date:%Y%m%d}-{page}-{ordinal}.txt'.")
@click.option("--format", "fmt", default=None, help="Force a format (default: detect per file).")
@click.option("--db", "url", default=None, help="Database to load into (default: a temporary SQLite file).")
@click.option("--examples", default=10, show_default=True, help="How many failures to show.")
def main(folder: Path, newspaper: str | None, name_pattern: str | None, fmt: str | None, url: str | None, examples: int) -> None:
    """Share of article files stored as printed, failures by kind, articles without body text."""
    click.echo(check_folder(folder, Metadata(newspaper=newspaper, name_pattern=name_pattern), fmt, url, examples).render())


if __name__ == "__main__":
    main()
