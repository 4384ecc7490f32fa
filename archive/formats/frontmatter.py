"""YAML front matter read safely: no aliases, bounded nesting.

yaml.safe_load constructs only plain types, but it still expands aliases: a 541-byte "billion laughs"
block (each level an anchor naming ten aliases of the one below) builds a structure of billions of
references and took 2 GB. And its composer recurses once per nesting level, so `[[[[…` a few
thousand deep ends in RecursionError, not a YAML error. Front matter is a handful of `key: value`
lines; it needs neither aliases nor depth, so both are refused with a YAMLError that has a mark
(the caller turns it into `path:line: reason`).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent
from yaml.nodes import Node

MAX_DEPTH = 32  # front matter nests a list of authors in a mapping; 32 leaves room and stays far from Python's limit


class FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader (the pure-Python one: the composer is where aliases and depth can be checked)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise ComposerError(None, None, f"aliases (*{event.anchor}) are not allowed in front matter", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load(text: str) -> Any:
    """The YAML document in `text` as plain Python values; yaml.YAMLError when it is not valid or unsafe."""
    loader = FrontMatterLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
