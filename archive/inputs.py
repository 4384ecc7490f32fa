"""The files a load reads: found under the folders given, and named as text the archive can store.

Walking a folder loads its regular *.txt and *.md files. A symlink is followed only when its target is
inside the folder given (a link to /etc/passwd named x.txt is not loaded); a link that loops, dangles
or points outside, and a FIFO, socket or device, are skipped with a one-line reason, never followed for
ever or waited on. A symlink named on the command line is the user's choice and is loaded.

File names are bytes on POSIX and need not be UTF-8 (a GBK-named file, `fail\\377ing.txt`). The archive
stores and shows every path as text, escaped so that it is one line and reversible (path_text):
  - a byte that is not part of valid UTF-8 becomes \\xNN (two lowercase hex digits);
  - a control character (U+0000–U+001F, U+007F), a newline say, becomes \\xNN as well;
  - a backslash becomes \\\\ (on POSIX, where it is an ordinary character of a name; on Windows it is
    the separator and is kept).
Everything else is kept as it is. os_path reverses it.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Iterator

SUFFIXES = (".txt", ".md")  # what a folder is searched for

_ESCAPE_BACKSLASH = os.sep != "\\"
# os.fsdecode turns each byte that is not UTF-8 into a lone surrogate U+DC80–U+DCFF (surrogateescape)
_NEEDS_ESCAPE = re.compile(r"[\x00-\x1f\x7f\udc80-\udcff\\]" if _ESCAPE_BACKSLASH else r"[\x00-\x1f\x7f\udc80-\udcff]")
_ESCAPED = re.compile(rb"\\(\\|x[0-9a-f]{2})" if _ESCAPE_BACKSLASH else rb"\\(x[0-9a-f]{2})")


def _escape(m: re.Match) -> str:
    ch = m.group()
    if ch == "\\":
        return "\\\\"
    code = ord(ch)
    return f"\\x{code - 0xDC00 if code >= 0xDC80 else code:02x}"


def path_text(path: str | os.PathLike | bytes) -> str:
    """The path as the archive stores and shows it: valid UTF-8 text on one line (see the module)."""
    text = os.fsdecode(path)
    return _NEEDS_ESCAPE.sub(_escape, text) if _NEEDS_ESCAPE.search(text) else text


def os_path(text: str) -> str:
    """The file system path a path_text stands for (the inverse of path_text)."""
    raw = _ESCAPED.sub(lambda m: b"\\" if m.group(1) == b"\\" else bytes([int(m.group(1)[1:], 16)]), text.encode("utf-8", "surrogateescape"))
    return os.fsdecode(raw)


Skip = Callable[[str], None]


def iter_files(paths: Iterable[str | os.PathLike], on_skip: Skip | None = None) -> Iterator[str]:
    """Files named directly, and the regular *.txt and *.md files under named folders (sorted,
    recursively), as file system paths; what is skipped is told to `on_skip` as one line."""
    skip = on_skip or (lambda _line: None)
    for p in paths:
        path = Path(p)
        if path.is_dir():
            yield from _walk(path, skip)
        else:
            yield str(path.resolve()) if path.exists() else str(path)


def _walk(top: Path, skip: Skip) -> Iterator[str]:
    root = top.resolve()
    seen_dirs = {_key(root.stat())}  # a loop through links inside the folder ends where it began
    found: list[tuple[Path, str]] = []
    others: Counter[str] = Counter()  # regular files of other kinds, by suffix: told once, as a count
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            skip(f"{path_text(folder)}: skipped: cannot read this folder: {exc.strerror or exc}")
            continue
        for entry in entries:
            path = Path(entry.path)
            wanted = path.suffix.lower() in SUFFIXES
            try:
                if entry.is_symlink():
                    target, info = _link_target(path, root)
                else:
                    target, info = path, entry.stat(follow_symlinks=False)
            except _Skipped as why:
                if wanted or why.always:
                    skip(f"{path_text(path)}: skipped: {why}")
                continue
            except OSError as exc:  # vanished or unreadable since the folder was listed
                if wanted:
                    skip(f"{path_text(path)}: skipped: {exc.strerror or exc}")
                continue
            if stat.S_ISDIR(info.st_mode):
                if _key(info) not in seen_dirs:
                    seen_dirs.add(_key(info))
                    folders.append(path)
            elif wanted:
                if stat.S_ISREG(info.st_mode):
                    found.append((path, str(target.resolve())))
                else:
                    skip(f"{path_text(path)}: skipped: not a regular file ({_kind(info.st_mode)})")
            elif stat.S_ISREG(info.st_mode):
                others[path.suffix.lower() or "no suffix"] += 1
    if others:
        kinds = ", ".join(f"{suffix} ×{n}" for suffix, n in sorted(others.items(), key=lambda kv: (-kv[1], kv[0])))
        skip(f"{path_text(top)}: skipped {sum(others.values())} files not named *.txt or *.md ({kinds}); "
             "name a file on the command line to load it whatever its name")
    done: set[str] = set()
    for _, resolved in sorted(found):
        if resolved not in done:  # the same file reached through a link inside the folder
            done.add(resolved)
            yield resolved


class _Skipped(Exception):
    def __init__(self, reason: str, always: bool = False):
        super().__init__(reason)
        self.always = always  # said whatever the link's name (it might have led to a folder)


def _link_target(link: Path, root: Path) -> tuple[Path, os.stat_result]:
    """The target of a symlink inside the folder being walked, and its stat; _Skipped if it is not one to follow."""
    try:
        target = link.resolve(strict=True)
    except RuntimeError:  # Python's own "Symlink loop" on some versions
        raise _Skipped("symlink loop", always=True) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _Skipped("symlink loop", always=True) from None
        raise _Skipped(f"broken symlink ({exc.strerror or exc})") from None
    if not target.is_relative_to(root):
        raise _Skipped(f"symlink to {path_text(target)}, outside {path_text(root)}", always=True)
    return target, target.stat()


def _key(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a file"
