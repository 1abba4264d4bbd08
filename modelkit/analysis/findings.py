"""What the analysis of one query finds, and the kinds of findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelkit.analysis.relations import Key
from modelkit.analysis.shapes import UNKNOWN, Shape

# What a finding is; static_analysis decides how loud each one is (see modelkit.analysis.static).
UNKNOWN_COLUMN = "unknown_column"
UNDECLARED_COLUMN = "undeclared_column"  # not among a source's declared columns (which may be partial)
AMBIGUOUS_COLUMN = "ambiguous_column"
UNRESOLVED_COLUMN = "unresolved_column"  # its relation's columns are not all known
UNKNOWN_RELATION = "unknown_relation"  # a table the project does not build or declare
UNREFERENCED_RELATION = "unreferenced_relation"  # a project relation read without ref()/source()
STAR_UNKNOWN_SHAPE = "star_unknown_shape"
TYPE_MISMATCH = "type_mismatch"
SET_ARITY = "set_arity"


@dataclass
class Finding:
    code: str
    message: str
    start: int | None = None  # offset of the name in the compiled SQL
    text: str | None = None  # the name as written, to find it in the source file

    def to_json(self) -> list[Any]:
        return [self.code, self.message, self.start, self.text]

    @classmethod
    def from_json(cls, data: list[Any]) -> Finding:
        return cls(*data)


@dataclass
class QueryCheck:
    findings: list[Finding] = field(default_factory=list)
    shape: Shape = UNKNOWN  # the query's output columns
    tables: list[Key] = field(default_factory=list)  # the relations it reads (for the cache)
    missing: list[tuple[str | None, str | None, str]] = field(default_factory=list)  # names no relation has


class NotAnalysed(Exception):
    """The query could not be analysed (sqlglot cannot parse it, or it is not a query)."""


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
