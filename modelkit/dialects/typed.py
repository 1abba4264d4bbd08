"""A query typed with what is known of the relations it reads (sqlglot's qualify and annotate_types).

The statement as written is copied; the copy is qualified (``*`` expanded where the columns of every
relation read are known) and typed, and the types are carried back to the statement, whose nodes the
copy's map to (:attr:`Typed.origin`). The statement keeps its own spelling.

Loaded only when a node is translated (or typed for one that is): it imports sqlglot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from modelkit.dialects.shapes import UNKNOWN, Shape

Key = tuple[str, str, str]
Lookup = Callable[[Key], Shape]  # what is known of a relation's columns, by (database, schema, name)
GENERATED_NAME = re.compile(r"_col_\d+")  # sqlglot's name for a projection without one


def relation_keys(statement: exp.Expression, defaults: tuple[str, str]) -> list[Key]:
    """The relations a statement reads, as (database, schema, name), lower-cased; unqualified parts
    are the target's."""
    keys: list[Key] = []
    ctes = {c.alias_or_name.lower() for c in statement.find_all(exp.CTE)}
    for table in statement.find_all(exp.Table):
        name = table.name.lower()
        if not name or (not table.db and name in ctes):
            continue
        key = ((table.catalog or defaults[0]).lower(), (table.db or defaults[1]).lower(), name)
        if key not in keys:
            keys.append(key)
    return keys


@dataclass
class Typed:
    """A statement and its typed copy: ``origin`` maps a node of the copy to the statement's node."""

    statement: exp.Expression
    copy: exp.Expression
    origin: dict[int, exp.Expression]
    qualified: bool
    complete: bool  # every relation read has known columns


def typed(statement: exp.Expression, source: str, lookup: Lookup, defaults: tuple[str, str]) -> Typed:
    """Type ``statement`` (in place) with the columns known of the relations it reads."""
    complete_schema: dict[str, Any] = {}
    any_schema: dict[str, Any] = {}
    complete = True
    for key in relation_keys(statement, defaults):
        shape = lookup(key)
        if not shape.known:
            complete = False
            continue
        columns = {name: (t if t is not None else exp.DataType.build("UNKNOWN")) for name, t in shape.columns()}
        any_schema.setdefault(key[0], {}).setdefault(key[1], {})[key[2]] = columns
        if shape.complete:
            complete_schema.setdefault(key[0], {}).setdefault(key[1], {})[key[2]] = columns
        else:
            complete = False
    for qualified in (True, False):
        copy = statement.copy()
        origin = {id(c): o for o, c in zip(statement.walk(), copy.walk())}
        try:
            if qualified:
                copy = qualify(
                    copy,
                    schema=MappingSchema(complete_schema, dialect=source),
                    dialect=source,
                    catalog=defaults[0],
                    db=defaults[1],
                    validate_qualify_columns=False,
                    quote_identifiers=False,
                    identify=False,
                )
            annotate_types(copy, schema=MappingSchema(any_schema, dialect=source), dialect=source)
        except (SqlglotError, OptimizeError, KeyError, ValueError, TypeError, AttributeError, IndexError):
            continue  # sqlglot could not qualify (or type) it: try without, else leave it untyped
        for node in copy.walk():
            found = origin.get(id(node))
            if found is not None and node.type is not None and not node.is_type(exp.DataType.Type.UNKNOWN):
                found.type = node.type
        return Typed(statement, copy, origin, qualified, complete and qualified)
    return Typed(statement, statement.copy(), {}, False, False)


def output_shape(query: exp.Expression, complete: bool) -> Shape:
    """The columns a typed, qualified query returns (unknown when a ``*`` stayed unexpanded; not complete
    when a projection has no name of its own, which each engine names its way and sqlglot ``_col_<n>``)."""
    if not isinstance(query, exp.Query):
        return UNKNOWN
    names: list[str] = []
    types: list[Any] = []
    for projection in query.selects:
        if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and projection.is_star):
            return UNKNOWN
        if GENERATED_NAME.fullmatch(projection.alias_or_name):
            complete = False
        names.append(projection.alias_or_name)
        kind = projection.type
        types.append(None if kind is None or kind.is_type(exp.DataType.Type.UNKNOWN) else kind)
    return Shape(tuple(names), tuple(types), complete)
