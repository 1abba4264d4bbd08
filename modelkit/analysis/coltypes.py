"""Column types as far as the SQL shows them, and which of them cannot be compared.

Types are kept as the text a relation's columns have (``INTEGER``, ``decimal(18, 2)``); each falls in a
family (numeric, text, temporal, boolean) through sqlglot's type classes, or in none (structs, lists,
JSON...: never judged). An expression's type is known only where the SQL says it plainly: a column
of a known type, a cast, a literal, ``count``, a comparison, string functions; anything else is unknown,
and unknown types are never reported.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from modelkit.analysis.loading import expressions, load_sqlglot

NUMERIC, TEXT, TEMPORAL, BOOLEAN = "numeric", "text", "temporal", "boolean"

# Families whose values the engine cannot compare without an explicit cast (or only by converting
# text at run time, which fails on the first value that is not a number or a date).
INCOMPATIBLE = frozenset(
    frozenset(pair)
    for pair in ((NUMERIC, TEXT), (NUMERIC, TEMPORAL), (TEMPORAL, TEXT), (BOOLEAN, TEXT), (BOOLEAN, TEMPORAL))
)


@lru_cache(maxsize=4096)
def family(data_type: str | None, dialect: str = "") -> str | None:
    """The family of a type's text, or None.

    >>> family("INTEGER"), family("varchar"), family("timestamp with time zone"), family("boolean"), family("json")
    ('numeric', 'text', 'temporal', 'boolean', None)
    """
    if not data_type:
        return None
    load_sqlglot()
    exp = expressions()
    from sqlglot.errors import SqlglotError  # (lazy, as above)

    try:
        built = exp.DataType.build(data_type, dialect=dialect or None, udt=True)
    except (SqlglotError, ValueError, TypeError):
        return None
    kind = built.this
    if kind in exp.DataType.NUMERIC_TYPES:
        return NUMERIC
    if kind in exp.DataType.TEXT_TYPES:
        return TEXT
    if kind in exp.DataType.TEMPORAL_TYPES:
        return TEMPORAL
    if kind == exp.DataType.Type.BOOLEAN:
        return BOOLEAN
    return None


_SAME_AS_FIRST_ARGUMENT = frozenset(
    ("Min", "Max", "AnyValue", "First", "Last", "Coalesce", "Nullif", "Abs", "ArgMax", "ArgMin")
)
_TEXT_FUNCTIONS = frozenset((
    "Lower", "Upper", "Trim", "Concat", "ConcatWs", "DPipe", "Substring", "Initcap", "Left", "Right",
    "Lpad", "Rpad", "Replace", "GroupConcat", "StringAgg", "Md5",
))  # fmt: skip
_BOOLEAN_NODES = frozenset(("Predicate", "And", "Or", "Not", "Boolean", "Xor"))
_BIGINT_NODES = frozenset(("Count", "RowNumber", "Rank", "DenseRank", "Ntile"))


def expression_type(node: Any, column_type: Callable[[Any], str | None], dialect: str) -> str | None:
    """The type of an expression where the SQL shows it; ``column_type`` types a column."""
    exp = expressions()

    while isinstance(node, (exp.Alias, exp.Paren)):
        node = node.this
    if isinstance(node, exp.Column):
        return column_type(node)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return type_text(node.to, dialect)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return "VARCHAR"
        return "INTEGER" if node.this.lstrip("-").isdigit() else "DECIMAL"
    if isinstance(node, exp.Window):
        return expression_type(node.this, column_type, dialect)
    names = {cls.__name__ for cls in type(node).__mro__}
    if names & _BIGINT_NODES:
        return "BIGINT"
    if names & _BOOLEAN_NODES:
        return "BOOLEAN"
    if names & _TEXT_FUNCTIONS:
        return "VARCHAR"
    if names & _SAME_AS_FIRST_ARGUMENT:
        first = node.this if node.this is not None else (node.expressions[0] if node.expressions else None)
        return expression_type(first, column_type, dialect) if isinstance(first, exp.Expression) else None
    if isinstance(node, exp.Case):
        branches = [expression_type(i.args.get("true"), column_type, dialect) for i in node.args.get("ifs") or []]
        default = node.args.get("default")
        if default is not None and not isinstance(default, exp.Null):
            branches.append(expression_type(default, column_type, dialect))
        found = {b.lower() for b in branches if b}
        return branches[0] if branches and all(branches) and len(found) == 1 else None
    if isinstance(node, exp.CurrentDate):
        return "DATE"
    return None


_TYPE_TEXT: dict[tuple[Any, ...], str] = {}


def type_text(data_type: Any, dialect: str) -> str:
    """A cast's type as the dialect writes it (remembered: generating SQL costs, and casts repeat)."""
    exp = expressions()
    params = data_type.expressions
    if not all(isinstance(p, exp.DataTypeParam) for p in params):
        return data_type.sql(dialect=dialect or None)
    key = (data_type.this, data_type.args.get("kind"), tuple(p.name for p in params), dialect)
    found = _TYPE_TEXT.get(key)
    if found is None:
        found = _TYPE_TEXT[key] = data_type.sql(dialect=dialect or None)
    return found


def operand_family(node: Any, column_type: Callable[[Any], str | None], dialect: str) -> str | None:
    """The family of one side of a comparison; None where the engine would adapt it (a string literal)."""
    exp = expressions()

    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal):
        return None if node.is_string else NUMERIC
    if isinstance(node, exp.Boolean):
        return BOOLEAN
    if isinstance(node, (exp.Column, exp.Cast, exp.TryCast)):
        return family(expression_type(node, column_type, dialect), dialect)
    return None
