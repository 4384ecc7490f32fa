"""The docs a maintainer navigates stay true to the code: links and anchors resolve, every `archive …` line
in a code block parses with the real CLI, the README's command table names exactly the CLI's commands,
and CI runs the README's quick start. No database: commands are parsed, not run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from archive.cli import main

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```+|~~~+)(.*)$")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
SHELL_LANGUAGES = {"", "sh", "shell", "bash", "console"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def blocks(text: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The lines outside fenced code blocks, and each fenced block as (language, lines)."""
    prose: list[str] = []
    fenced: list[tuple[str, list[str]]] = []
    fence = None
    for line in text.splitlines():
        m = FENCE.match(line.strip())
        if fence is None and m:
            fence, language, body = m.group(1), m.group(2).strip().lower(), []
        elif fence is not None and line.strip().startswith(fence) and not line.strip()[len(fence):].strip():
            fenced.append((language, body))
            fence = None
        elif fence is not None:
            body.append(line)
        else:
            prose.append(line)
    assert fence is None, "a code block is not closed"
    return prose, fenced


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text (code, emphasis and link markup dropped), lower case,
    without punctuation, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").replace("*", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in blocks(page.read_text(encoding="utf-8"))[0]:
        m = HEADING.match(line)
        if m:
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def relative_links(page: Path) -> list[str]:
    prose = "\n".join(blocks(page.read_text(encoding="utf-8"))[0])
    prose = CODE_SPAN.sub(lambda m: "code" if "](" not in m.group(0) else m.group(0), prose)
    return [t for t in LINK.findall(prose) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_relative_links_and_anchors_resolve(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading with anchor #{anchor} in {file.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_slug_follows_github() -> None:
    assert slug("Browsing: `archive serve`") == "browsing-archive-serve"
    assert slug("v_article (view)") == "v_article-view"
    assert slug("What happens when…") == "what-happens-when"
    assert slug("Load options: what a file does not print") == "load-options-what-a-file-does-not-print"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in relative_links(README)}
    assert [p.name for p in PAGES[1:] if p.resolve() not in linked] == []


# ---------------------------------------------------------------- the commands shown


def shell_commands(lines: list[str]) -> list[list[str]]:
    """The simple commands on the lines of a shell block (continuations joined, comments, pipes,
    redirections and `&&` cut), each as its words without leading VAR=value assignments."""
    if any(line.startswith("$ ") for line in lines):  # a session: the prompts are commands, the rest output
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    commands = []
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            tokens = [*lexer, ";"]
        except ValueError:  # not shell (a diagram, program output): fine unless it starts like a command
            assert not re.match(r"\s*(\S+=\S*\s+)*archive\s", line), f"cannot split {line!r}"
            continue
        words: list[str] = []
        for token in tokens:
            if token and set(token) <= set("();<>|&"):
                while words and ASSIGNMENT.match(words[0]):
                    words.pop(0)
                if words:
                    commands.append(words)
                words = []
                if token[0] in "<>":
                    words = ["<redirect>"]  # the file name that follows is not a command
            elif words == ["<redirect>"]:
                words = []
            else:
                words.append(token)
    return commands


def archive_commands() -> list[tuple[str, list[str]]]:
    found = []
    for page in PAGES:
        for language, lines in blocks(page.read_text(encoding="utf-8"))[1]:
            if language in SHELL_LANGUAGES:
                found += [(page.relative_to(ROOT).as_posix(), words[1:]) for words in shell_commands(lines) if words[0] == "archive"]
    return found


def parse(args: list[str]) -> click.Command:
    """Parse `archive ARGS` down to the command it names, as click does before running it (types,
    choices, required arguments and option callbacks included); returns that command."""
    command: click.Command = main
    ctx = main.make_context("archive", list(args))
    while isinstance(command, click.Group):
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        assert rest, "no command named"
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None, f"no command {name}"
        try:
            ctx = sub.make_context(name, rest, parent=ctx)
        except click.BadParameter as exc:  # a file the example names need not exist here
            if not (isinstance(exc.param.type, click.Path) and exc.param.type.exists):
                raise
        command = sub
    return command


def test_shell_commands_are_split_like_a_shell() -> None:
    lines = ["ARCHIVE_RO_PASSWORD=… archive db grant-readonly r --password-env X \\", "    --db postgresql+psycopg://o@h/a"]
    assert shell_commands(lines) == [["archive", "db", "grant-readonly", "r", "--password-env", "X", "--db", "postgresql+psycopg://o@h/a"]]
    assert shell_commands(['pip install -e ".[test]" && archive load seeds/     # install']) == [["pip", "install", "-e", ".[test]"], ["archive", "load", "seeds/"]]
    assert shell_commands(['archive export --query "SELECT 1" --format jsonl > rows.jsonl']) == [["archive", "export", "--query", "SELECT 1", "--format", "jsonl"]]
    assert shell_commands(["$ archive stats", "table  rows", "$ archive show 1"]) == [["archive", "stats"], ["archive", "show", "1"]]


def test_docs_show_archive_commands() -> None:
    shown = archive_commands()
    assert len(shown) >= 30
    assert {page for page, _ in shown} >= {"README.md", "docs/loading.md", "docs/search.md", "docs/sql-and-bi.md"}


@pytest.mark.parametrize("page, args", archive_commands(), ids=lambda v: v if isinstance(v, str) else " ".join(v)[:60])
def test_archive_command_in_docs_parses(page: str, args: list[str]) -> None:
    try:
        parse(args)
    except click.ClickException as exc:
        pytest.fail(f"{page}: `archive {shlex.join(args)}`: {exc.format_message()}")


def test_parse_refuses_what_the_cli_refuses() -> None:
    for bad in (["lod", "x"], ["load"], ["search", "q", "--order", "best"], ["db", "upgrad"], ["stats", "--nope"]):
        with pytest.raises(click.UsageError):
            parse(bad)
    assert parse(["db", "restore", "no-such-backup.db"]).name == "restore"


# ---------------------------------------------------------------- the command table and the quick start


def cli_commands(group: click.Group = main, prefix: str = "") -> set[str]:
    names = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names |= cli_commands(command, f"{prefix}{name} ")
        else:
            names.add(prefix + name)
    return names


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_readme_command_table_lists_exactly_the_cli_commands() -> None:
    rows = [line for line in section(README.read_text(encoding="utf-8"), "Commands").splitlines() if line.startswith("| `archive ")]
    listed = []
    for row in rows:
        words = row.split("`")[1].split()[1:]
        listed.append(" ".join(w for w in words[:2] if re.fullmatch(r"[a-z][a-z-]*", w)) if words[0] == "db" else words[0])
    assert sorted(listed) == sorted(cli_commands())
    assert len(listed) == len(set(listed))


def test_ci_runs_the_readme_quick_start() -> None:
    quick = blocks(section(README.read_text(encoding="utf-8"), "Quick start"))[1][0][1]
    readme_lines = [re.sub(r"\s+#.*$", "", line).strip() for line in quick]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    ci_lines = [line for line in ci if line and not line.startswith("#")]
    assert readme_lines == ['pip install -e ".[test]" && archive load seeds/', "pytest"]
    assert ci_lines[-len(readme_lines):] == readme_lines
