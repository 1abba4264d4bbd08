"""From a position in compiled SQL back to a line of the file it was rendered from.

Rendering moves lines (``{% for %}`` repeats them, ``{% if %}`` drops them, ephemeral models arrive as
CTEs at the top), so the compiled line is first aligned with the file's lines (difflib); then, when
the name the finding is about is written on lines of the file, the one nearest that estimate wins.

>>> source = "{{ config(materialized='table') }}\\nselect\\n    id,\\n    amout\\nfrom {{ ref('a') }}\\n"
>>> compiled = "\\nselect\\n    id,\\n    amout\\nfrom db.main.a\\n"
>>> source_line(source, compiled, compiled.index("amout"), "amout")
4
"""

from __future__ import annotations

import bisect
import difflib
import re

_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_SQL_COMMENT = re.compile(r"--[^\n]*")


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


class SourceMap:
    """Compiled lines to file lines for one node (built once, used for each finding)."""

    def __init__(self, source: str, compiled: str) -> None:
        self.source_lines = source.splitlines()
        readable = _SQL_COMMENT.sub(_blank, _JINJA_COMMENT.sub(_blank, source))
        self.searchable = readable.splitlines()
        self.compiled = compiled
        self._starts = [0] + [i + 1 for i, ch in enumerate(compiled) if ch == "\n"]
        left = [line.strip() for line in self.source_lines]
        right = [line.strip() for line in compiled.splitlines()]
        self._blocks = difflib.SequenceMatcher(None, left, right, autojunk=False).get_opcodes()

    def compiled_line(self, offset: int) -> int:
        """1-based line of an offset of the compiled SQL."""
        return bisect.bisect_right(self._starts, offset)

    def estimate(self, compiled_line: int) -> int:
        """The file line a compiled line most likely comes from (1-based)."""
        j = compiled_line - 1
        for tag, i1, i2, j1, j2 in self._blocks:
            if j1 <= j < j2 or (j1 == j2 == j):
                if tag == "equal":
                    return i1 + (j - j1) + 1
                if i2 > i1:
                    return i1 + min(j - j1, i2 - i1 - 1) + 1
                return max(i1, 1)
        return max(len(self.source_lines), 1)

    def line(self, offset: int | None, text: str | None) -> int | None:
        if offset is None:
            return None
        guess = self.estimate(self.compiled_line(offset))
        if text:
            pattern = re.compile(rf"(?<![\w$]){re.escape(text)}(?![\w$])", re.I)
            found = [i for i, line in enumerate(self.searchable, 1) if pattern.search(line)]
            if found:
                return min(found, key=lambda i: (abs(i - guess), i))
        return guess


def source_line(source: str, compiled: str, offset: int | None, text: str | None) -> int | None:
    """The line of ``source`` that the text at ``offset`` of ``compiled`` most likely comes from."""
    return SourceMap(source, compiled).line(offset, text)
