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


class Schemas:
    """The columns known of relations, as the sqlglot schemas that all of one command's queries written in
    ``dialect`` are typed with: relations are added as the queries read them, each normalised once
    (rather than two schemas built for every query). ``complete`` holds the relations whose columns
    are all known (what ``*`` is expanded with), ``typed`` every relation with known columns."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.complete = MappingSchema(dialect=dialect)
        self.typed = MappingSchema(dialect=dialect)
        self.added: dict[Key, str] = {}  # relation -> the digest of the columns it was added with

    def add(self, key: Key, shape: Shape, columns: dict[str, Any]) -> bool:
        """Whether the schemas hold ``key`` with these columns (added now if need be); False when it
        cannot: another shape under the same name, or a name sqlglot cannot place."""
        known = self.added.get(key)
        if known is not None:
            return known == shape.digest
        if not all(key):
            return False
        table = exp.Table(
            this=exp.to_identifier(key[2]), db=exp.to_identifier(key[1]), catalog=exp.to_identifier(key[0])
        )
        try:
            self.typed.add_table(table, columns, dialect=self.dialect)
            if shape.complete:
                self.complete.add_table(table.copy(), columns, dialect=self.dialect)
        except (SqlglotError, KeyError, ValueError, TypeError):
            self.added[key] = ""
            return False
        self.added[key] = shape.digest
        return True


def typed(
    statement: exp.Expression,
    source: str,
    lookup: Lookup,
    defaults: tuple[str, str],
    schemas: Schemas | None = None,
) -> Typed:
    """Type ``statement`` (in place) with the columns known of the relations it reads; ``schemas``: the
    command's, shared by its queries (else two are built for this one)."""
    complete_schema: dict[str, Any] = {}
    any_schema: dict[str, Any] = {}
    complete = True
    shared = schemas is not None and schemas.dialect == source
    for key in relation_keys(statement, defaults):
        shape = lookup(key)
        if not shape.known:
            complete = False
            continue
        columns = {name: (t if t is not None else exp.DataType.build("UNKNOWN")) for name, t in shape.columns()}
        if shared:
            shared = schemas.add(key, shape, columns)  # type: ignore[union-attr]
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
                    schema=schemas.complete if shared else MappingSchema(complete_schema, dialect=source),  # type: ignore[union-attr]
                    dialect=source,
                    catalog=defaults[0],
                    db=defaults[1],
                    validate_qualify_columns=False,
                    quote_identifiers=False,
                    identify=False,
                )
            annotate_types(
                copy,
                schema=schemas.typed if shared else MappingSchema(any_schema, dialect=source),  # type: ignore[union-attr]
                dialect=source,
            )
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
