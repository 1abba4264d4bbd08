"""What a translation gives, without sqlglot: the SQL written for the target, the constructs that do not
translate (:class:`Finding`), the columns of the result; and where a construct is in a node's file.

A translation kept between commands (:mod:`modelkit.dialects.cache`) is read back into these.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from modelkit.dialects.shapes import UNKNOWN, Shape


@dataclass(frozen=True)
class Finding:
    """A construct that does not translate: what it is, its text, why, and where in the compiled SQL."""

    construct: str
    snippet: str
    message: str
    line: int | None = None

    def to_json(self) -> list[Any]:
        return [self.construct, self.snippet, self.message, self.line]

    @classmethod
    def from_json(cls, data: list[Any]) -> Finding:
        construct, snippet, message, line = data
        return cls(str(construct), str(snippet), str(message), int(line) if line is not None else None)


@dataclass
class Translation:
    """A query in the target dialect (``sql``), what could not be translated, and its columns."""

    sql: str
    findings: list[Finding] = field(default_factory=list)
    shape: Shape = UNKNOWN

    def to_json(self) -> dict[str, Any]:
        return {"sql": self.sql, "f": [f.to_json() for f in self.findings], "s": self.shape.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Translation:
        return cls(str(data["sql"]), [Finding.from_json(f) for f in data["f"]], Shape.from_json(data["s"]))


_TYPE_WORDS = re.compile(r"\s+")


def compiled_line(sql: str, snippet: str) -> int | None:
    """The line of ``sql`` where ``snippet`` (as sqlglot writes it) starts, matching words loosely."""
    words = [w for w in re.split(r"\W+", snippet) if w]
    if not words:
        return None
    pattern = r"\W+".join(re.escape(w) for w in words[:6])
    match = re.search(pattern, sql, re.IGNORECASE)
    return sql.count("\n", 0, match.start()) + 1 if match else None


def file_line(source: str, compiled: str, line: int | None, snippet: str) -> int | None:
    """The line of a node's file that holds a construct found at ``line`` of its compiled SQL."""
    found = compiled_line(source, snippet)
    if found is not None:
        return found
    if line is None:
        return None
    lines: Sequence[str] = compiled.splitlines()
    if 0 < line <= len(lines):
        text = _TYPE_WORDS.sub(" ", lines[line - 1].strip()).lower()
        for number, raw in enumerate(source.splitlines(), 1):
            if text and _TYPE_WORDS.sub(" ", raw.strip()).lower() == text:
                return number
    return None
