"""The SQL that tests, contracts and unit tests need, written by the engine's adapter.

:class:`StandardSQL` writes it in the SQL most engines share; an engine whose SQL differs
gives its adapter another builder (``adapter.sql``). Code outside ``adapters/`` asks the builder
and never writes SQL of its own.

>>> sql = StandardSQL()
>>> sql.select_from("select 1 as a", ["a"], alias="t")
'select "a" from (\\nselect 1 as a\\n) as t'
>>> sql.typed_rows([{"id": 1, "name": "o'k"}], [("id", "INTEGER"), ("name", "VARCHAR")])
'select cast(1 as INTEGER) as "id", cast(\\'o\\'\\'k\\' as VARCHAR) as "name"'
>>> sql.typed_rows([], [("id", "INTEGER")])
'select cast(null as INTEGER) as "id" where false'
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from modelkit.core.errors import CompilationError

# The three values dbt's test wrapper computes for every data test.
TEST_RESULT_COLUMNS = ("failures", "should_warn", "should_error")
# dbt's dollar-quoting label for comments: a comment may hold any text but this label
COMMENT_QUOTE = "$dbt_comment_literal_block$"
_INTEGERS = frozenset("TINYINT SMALLINT INTEGER BIGINT HUGEINT UTINYINT USMALLINT UINTEGER UBIGINT UHUGEINT".split())


def literal(value: Any) -> str:
    """A SQL literal for a YAML or CSV value (cast to the column's type around it).

    >>> [literal(v) for v in (None, True, 3, 1.5, "it's", datetime.date(2024, 1, 2))]
    ['null', 'true', '3', '1.5', "'it''s'", "'2024-01-02'"]
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime.datetime):
        return "'" + value.isoformat(sep=" ") + "'"
    if isinstance(value, datetime.date):
        return "'" + value.isoformat() + "'"
    return "'" + str(value).replace("'", "''") + "'"


def strip_semicolon(sql: str) -> str:
    """The statement without trailing semicolons (it is about to become a subquery)."""
    stripped = sql.rstrip()
    while stripped.endswith(";"):
        stripped = stripped[:-1].rstrip()
    return stripped


class StandardSQL:
    """SQL builders for engines that speak the common dialect (DuckDB, PostgreSQL, ...)."""

    def __init__(self, quote_char: str = '"', type_of_function: str | None = None) -> None:
        self.quote_char = quote_char
        self.type_of_function = type_of_function  # names a value's type in SQL, if the engine has one

    def quote(self, identifier: str) -> str:
        q = self.quote_char
        return q + identifier.replace(q, q * 2) + q

    def cast(self, expression: str, data_type: str) -> str:
        return f"cast({expression} as {data_type})"

    def select_from(
        self, sql: str, columns: Sequence[str] | None = None, *, alias: str = "t", quoted: bool = True
    ) -> str:
        """``select <columns> from (<sql>) as <alias>`` (every column when ``columns`` is None).

        ``quoted=False`` takes the columns as SQL expressions (e.g. a snapshot's ``check_cols``).
        """
        shown = "*" if columns is None else ", ".join(self.quote(c) if quoted else c for c in columns)
        return f"select {shown} from (\n{strip_semicolon(sql)}\n) as {alias}"

    def select_all(self, relation: str) -> str:
        """Every row of a relation (``show`` of a seed)."""
        return f"select * from {relation}"

    def connection_check(self) -> str:
        """The cheapest statement that proves the connection works."""
        return "select 1"

    def select_relation(self, relation: str) -> str:
        """Every row of a relation, as a failing-rows query reads back stored failures."""
        return f"        select *\n        from {relation}\n"

    def typed_nulls(self, columns: Sequence[tuple[str, str]]) -> str:
        """One row of typed NULLs named ``columns`` (name, type): how the engine spells those types."""
        return "select " + ", ".join(f"{self.cast('null', t)} as {self.quote(n)}" for n, t in columns)

    def typed_rows(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
        """Literal rows cast to ``columns`` (name, type), joined by ``union all``; NULL where a row is silent."""
        if not rows:
            return self.typed_nulls(columns) + " where false"
        selects = []
        for row in rows:
            values = {str(k).lower(): v for k, v in row.items()}
            parts = [f"{self.cast(literal(values.get(n.lower())), t)} as {self.quote(n)}" for n, t in columns]
            selects.append("select " + ", ".join(parts))
        return "\nunion all\n".join(selects)

    def test_wrapper(self, main_sql: str, fail_calc: str, warn_if: str, error_if: str, limit: int | None) -> str:
        """dbt's data test wrapper: one row with the failure count and the warn/error checks."""
        shown_limit = f"\n      limit {limit}" if limit is not None else ""
        return (
            "select\n"
            f"      {fail_calc} as failures,\n"
            f"      {fail_calc} {warn_if} as should_warn,\n"
            f"      {fail_calc} {error_if} as should_error\n"
            "    from (\n"
            f"{strip_semicolon(main_sql)}{shown_limit}\n"
            "    ) dbt_internal_test"
        )

    def limited(self, main_sql: str, limit: int | None) -> str:
        """A failing-rows query with the test's ``limit`` applied."""
        return strip_semicolon(main_sql) + (f"\n      limit {limit}" if limit is not None else "")

    def test_batch_branch(self, index: int, wrapped_sql: str) -> str:
        """One data test's part of a ``union all`` batch: its index and its wrapped row as text with types.

        Carrying text keeps ``union all`` from uniting the tests' types (a bigint count with a double
        or decimal sum would change values); the caller decodes each value with its type's name.
        """
        if self.type_of_function is None:
            raise NotImplementedError("this engine cannot name a value's type: data tests run one by one")
        type_of = self.type_of_function
        columns = ", ".join(
            f"{self.cast(c, 'varchar')} as {c}, {type_of}({c}) as {c}_type" for c in TEST_RESULT_COLUMNS
        )
        return f"select {index} as idx, {columns}\nfrom (\n{wrapped_sql}\n) as modelkit_batch_{index}"

    def column_constraint(self, constraint: Mapping[str, Any]) -> str | None:
        """A column-level constraint as DDL (None: nothing to write for it)."""
        kind, expression = constraint.get("type"), constraint.get("expression")
        if kind == "not_null":
            return "not null"
        if kind == "unique":
            return "unique"
        if kind == "primary_key":
            return "primary key"
        if kind == "check" and expression:
            return f"check ({expression})"
        if kind == "foreign_key":
            if constraint.get("to"):
                columns = ", ".join(constraint.get("to_columns") or [])
                return f"references {constraint['to']} ({columns})"
            return f"references {expression}" if expression else None
        if kind == "custom" and expression:
            return str(expression)
        return None

    def model_constraint(self, constraint: Mapping[str, Any], *, quoted: bool = True) -> str | None:
        """A model-level (table) constraint as DDL (None: nothing to write for it); ``quoted=False`` writes
        its name and columns as given, as dbt's ``table_columns_and_constraints`` macro does."""
        kind, expression = constraint.get("type"), constraint.get("expression")
        name_of = self.quote if quoted else str
        columns = ", ".join(name_of(c) for c in constraint.get("columns") or [])
        name = f"constraint {name_of(str(constraint['name']))} " if constraint.get("name") else ""
        if kind == "primary_key" and columns:
            return f"{name}primary key ({columns})"
        if kind == "unique" and columns:
            return f"{name}unique ({columns})"
        if kind == "check" and expression:
            return f"{name}check ({expression})"
        if kind == "foreign_key" and columns:
            if constraint.get("to"):
                to_columns = ", ".join(name_of(c) for c in constraint.get("to_columns") or [])
                return f"{name}foreign key ({columns}) references {constraint['to']} ({to_columns})"
            return f"{name}foreign key ({columns}) references {expression}" if expression else None
        if kind == "custom" and expression:
            return f"{name}{expression}"
        return None

    def with_header(self, sql_header: str | None, statement: str) -> str:
        """A model's ``sql_header`` and the statement, in one batch (as dbt's create macros write them).

        >>> StandardSQL().with_header("set threads = 2;", "create table t as (select 1)")
        'set threads = 2;\\ncreate table t as (select 1)'
        """
        return f"{sql_header}\n{statement}" if sql_header else statement

    def comment_literal(self, comment: str) -> str:
        """A comment as dbt writes it: dollar-quoted, so that quotes, semicolons and ``--`` need no escaping.

        >>> StandardSQL().comment_literal("it's -- fine")
        "$dbt_comment_literal_block$it's -- fine$dbt_comment_literal_block$"
        """
        if not isinstance(comment, str):
            raise CompilationError(f"cannot escape a non-string: {comment}")
        if COMMENT_QUOTE in comment:
            raise CompilationError(f"The string {COMMENT_QUOTE} is not allowed in comments.")
        return f"{COMMENT_QUOTE}{comment}{COMMENT_QUOTE}"

    def comment_on_relation(self, kind: str, relation: str, comment: str) -> str:
        """``comment on <table|view> <relation> is ...`` (persist_docs ``relation``)."""
        return f"comment on {kind} {relation} is {self.comment_literal(comment)};"

    def comment_on_column(self, relation: str, column: str, comment: str) -> str:
        """``comment on column <relation>.<column> is ...``; ``column`` as written (quoted or not)."""
        return f"comment on column {relation}.{column} is {self.comment_literal(comment)};"

    def contract_type(self, data_type: str) -> str:
        """What an enforced contract compares of a column's type: the engine's name of it, upper-cased."""
        return data_type.upper()

    def union_all(self, selects: Sequence[str]) -> str:
        return "\nunion all\n".join(selects)

    def decode_text(self, text: str | None, type_name: str) -> Any:
        """A value carried as text by :meth:`test_batch_branch`, back as the driver returns it.

        Raises ValueError for a type the batch does not carry.
        """
        if text is None:
            return None
        kind = type_name.upper()
        if kind in _INTEGERS:
            return int(text)
        if kind == "DOUBLE":
            return float(text)  # the engine prints doubles in their shortest round-trip form
        if kind.startswith("DECIMAL"):
            return Decimal(text)
        if kind == "BOOLEAN":
            return text == "true"
        if kind == "VARCHAR":
            return text
        raise ValueError(f"unexpected type {type_name}")
