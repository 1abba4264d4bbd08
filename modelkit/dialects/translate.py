"""A query read in one dialect, typed, checked and written in another (sqlglot).

The query is parsed as written (:func:`reader`: the source dialect, also reading the target's
identifier quotes, which relations rendered for the target use). A copy of it is qualified with
the columns known of the relations it reads and typed (sqlglot's ``qualify`` and ``annotate_types``);
the types and the expanded ``*`` lists are carried back to the original, which keeps its own
spelling: no added aliases, no table prefixes on every column. The rules of
:mod:`modelkit.dialects.rules` then rewrite or report what sqlglot alone would get wrong, and the
original is written in the target dialect. Anything sqlglot itself calls unsupported is reported too.

Loaded only when a node is translated (or typed for one that is): it imports sqlglot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, SqlglotError, UnsupportedError

from modelkit.dialects import checks, rules
from modelkit.dialects.results import Finding, Translation, compiled_line, file_line
from modelkit.dialects.shapes import UNKNOWN, Shape
from modelkit.dialects.typed import Lookup, Schemas, output_shape, typed


@lru_cache(maxsize=64)
def reader(source: str, target: str) -> Dialect:
    """``source``, also reading identifiers quoted as ``target`` quotes them (``ref()`` renders relations
    in the target's quotes: Spark's backticks in a model written for DuckDB)."""
    dialect = Dialect.get_or_raise(source)
    extra = [q for q in Dialect.get_or_raise(target).tokenizer_class.IDENTIFIERS if q not in _quotes(dialect)]
    if not extra:
        return dialect
    base = type(dialect)
    tokenizer = type("Tokenizer", (base.tokenizer_class,), {"IDENTIFIERS": [*_quotes(dialect), *extra]})
    return type(
        f"{base.__name__}Reading{type(Dialect.get_or_raise(target)).__name__}", (base,), {"Tokenizer": tokenizer}
    )()


def _quotes(dialect: Dialect) -> list[Any]:
    return list(dialect.tokenizer_class.IDENTIFIERS)


def parse(sql: str, source: str, target: str) -> list[exp.Expression]:
    """The statements of ``sql`` (a ParseError says where sqlglot stopped)."""
    return [s for s in sqlglot.parse(sql, dialect=reader(source, target)) if s is not None]


def known_dialect(name: str) -> bool:
    """Whether sqlglot knows a dialect of this name."""
    try:
        Dialect.get_or_raise(name)
    except (ValueError, KeyError):
        return False
    return True


def infer(
    sql: str, dialect: str, target: str, lookup: Lookup, defaults: tuple[str, str], schemas: Schemas | None = None
) -> Shape:
    """The columns of ``sql`` (its last statement), written in ``dialect`` (relations quoted as
    ``target`` quotes them)."""
    try:
        statements = parse(sql, dialect, target)
    except SqlglotError:
        return UNKNOWN
    if not statements:
        return UNKNOWN
    found = typed(statements[-1], dialect, lookup, defaults, schemas)
    return output_shape(found.copy, found.complete) if found.qualified else UNKNOWN


def translate(
    sql: str,
    source: str,
    target: str,
    lookup: Lookup,
    defaults: tuple[str, str],
    *,
    pretty: bool = True,
    schemas: Schemas | None = None,
) -> Translation:
    """``sql``, written in ``source``, written in ``target``; the findings say what does not translate.
    ``schemas``: the relations' columns as sqlglot schemas shared by a command's queries (see
    :class:`~modelkit.dialects.typed.Schemas`)."""
    try:
        statements = parse(sql, source, target)
    except SqlglotError as exc:
        return Translation(sql, [rules.unreadable(source, exc)])
    findings: list[Finding] = []
    written: list[str] = []
    writer = Dialect.get_or_raise(target)
    shape = UNKNOWN
    for statement in statements:
        found = typed(statement, source, lookup, defaults, schemas)
        context = rules.Context(found, source, target)
        checks.check(context)
        findings.extend(context.findings)
        try:
            # not copied first (sqlglot's default): the statement is not used again once written
            text = writer.generate(statement, copy=False, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
        except UnsupportedError as exc:
            findings.append(rules.unsupported(statement, source, exc))
            continue
        for finding in rules.functions(text, source, target):
            findings.append(replace(finding, line=compiled_line(sql, finding.snippet)))
        written.append(text)
        if found.qualified:
            shape = output_shape(found.copy, found.complete)
    return Translation(";\n".join(written), dedupe(findings), shape)


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    kept: list[Finding] = []
    for finding in findings:
        key = (finding.construct, finding.snippet)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


__all__ = [
    "Finding",
    "Schemas",
    "Translation",
    "compiled_line",
    "file_line",
    "infer",
    "known_dialect",
    "parse",
    "translate",
]
