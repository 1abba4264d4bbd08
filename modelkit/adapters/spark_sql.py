"""Spark SQL: the snippets tests, contracts and unit tests need, and the names the adapter writes.

Spark quotes identifiers with backticks, escapes quotes inside string literals with a backslash
(two adjacent literals ``'it''s'`` are concatenated, not escaped), and names its types in lower
case (``int``, ``bigint``, ``string``, ``decimal(10,2)``).

>>> sql = SparkSQL()
>>> sql.select_from("select 1 as a", ["a"], alias="t")
'select `a` from (\\nselect 1 as a\\n) as t'
>>> sql.typed_rows([{"id": 1, "name": "o'k"}], [("id", "int"), ("name", "string")])
"select cast(1 as int) as `id`, cast('o\\\\'k' as string) as `name`"
>>> sql.decode_text("3", "bigint"), sql.decode_text("true", "boolean"), sql.decode_text("1.50", "decimal(3,2)")
(3, True, Decimal('1.50'))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from modelkit.adapters.snapshot_sql import SnapshotDialect
from modelkit.adapters.sql import TEST_RESULT_COLUMNS, StandardSQL, literal
from modelkit.core.relation import Relation

_INTEGERS = frozenset({"tinyint", "smallint", "int", "integer", "bigint", "byte", "short", "long"})


def spark_literal(value: Any) -> str:
    """A Spark SQL literal: strings escaped with backslashes, the rest as :func:`literal` writes them.

    >>> [spark_literal(v) for v in (None, 2, True, "a'b", "c\\\\d")]
    ['null', '2', 'true', "'a\\\\'b'", "'c\\\\\\\\d'"]
    """
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return literal(value)


def quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def relation_name(relation: Relation) -> str:
    """``schema``.``identifier`` (Spark has no database above schemas; a CTE is its bare name)."""
    if relation.is_cte or not relation.schema:
        return quote(relation.identifier) if not relation.is_cte else relation.identifier
    return f"{quote(relation.schema)}.{quote(relation.identifier)}"


def columns_list(names: Sequence[str]) -> str:
    return ", ".join(quote(n) for n in names)


# dbt-spark's snapshot SQL: the snapshot time is current_timestamp(), hashed arguments are cast to string
SPARK_SNAPSHOT = SnapshotDialect(now="current_timestamp()", text_type="string", quote_char="`", name=relation_name)


class SparkSQL(StandardSQL):
    """:class:`StandardSQL` in Spark's dialect."""

    def __init__(self) -> None:
        super().__init__("`", type_of_function="typeof")

    def typed_rows(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
        if not rows:
            return self.typed_nulls(columns) + " where false"
        selects = []
        for row in rows:
            values = {str(k).lower(): v for k, v in row.items()}
            parts = [f"{self.cast(spark_literal(values.get(n.lower())), t)} as {self.quote(n)}" for n, t in columns]
            selects.append("select " + ", ".join(parts))
        return "\nunion all\n".join(selects)

    def test_batch_branch(self, index: int, wrapped_sql: str) -> str:
        columns = ", ".join(f"{self.cast(c, 'string')} as {c}, typeof({c}) as {c}_type" for c in TEST_RESULT_COLUMNS)
        return f"select {index} as idx, {columns}\nfrom (\n{wrapped_sql}\n) as modelkit_batch_{index}"

    def column_constraint(self, constraint: Mapping[str, Any]) -> str | None:
        """Spark's data source tables declare no constraints: none is written (dbt-spark's are not enforced)."""
        return None

    def model_constraint(self, constraint: Mapping[str, Any]) -> str | None:
        return None

    def comment_on_relation(self, kind: str, relation: str, comment: str) -> str:
        """The ``comment`` table property, which Spark keeps as the relation's comment for every format
        (``COMMENT ON TABLE`` needs a catalog that supports it).

        >>> SparkSQL().comment_on_relation("view", "`s`.`v`", "it's")
        "alter view `s`.`v` set tblproperties ('comment' = 'it\\\\'s');"
        """
        return f"alter {kind} {relation} set tblproperties ('comment' = {spark_literal(comment)});"

    def comment_on_column(self, relation: str, column: str, comment: str) -> str:
        return f"alter table {relation} alter column {column} comment {spark_literal(comment)};"

    def decode_text(self, text: str | None, type_name: str) -> Any:
        if text is None:
            return None
        kind = type_name.lower()
        if kind in _INTEGERS:
            return int(text)
        if kind in ("double", "float", "real"):
            return float(text)
        if kind.startswith("decimal"):
            return Decimal(text)
        if kind == "boolean":
            return text == "true"
        if kind in ("string", "void") or kind.startswith(("varchar", "char")):
            return text
        raise ValueError(f"unexpected type {type_name}")


def split_statements(sql: str) -> list[str]:
    """The statements of ``sql``, split at semicolons outside quotes and comments (Spark runs one at a time).

    >>> split_statements("select 'a;b' as x; -- done;\\n/* c; */ insert into t values (1);\\n")
    ["select 'a;b' as x", '-- done;\\n/* c; */ insert into t values (1)']
    >>> split_statements("  ;  ")
    []
    """
    statements: list[str] = []
    start, i, n = 0, 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"`":
            i += 1
            while i < n and sql[i] != char:
                i += 2 if sql[i] == "\\" and char != "`" else 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 1
        elif char == ";":
            statements.append(sql[start:i])
            start = i + 1
        i += 1
    statements.append(sql[start:])
    return [s.strip() for s in statements if _has_code(s)]


def _has_code(statement: str) -> bool:
    """Whether anything but whitespace and comments is left."""
    text = statement
    while True:
        text = text.strip()
        if text.startswith("--"):
            text = text.split("\n", 1)[1] if "\n" in text else ""
        elif text.startswith("/*") and "*/" in text:
            text = text.split("*/", 1)[1]
        else:
            return bool(text)
