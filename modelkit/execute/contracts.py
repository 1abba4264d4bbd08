"""Model contracts: ``contract: {enforced: true}`` with a ``data_type`` for every column.

At parse time every column of a contracted model must declare its type (see
:mod:`modelkit.parse.contracts`). Before the model is built, its query's columns (names, types, count) are compared with
the contract by describing the query without running it; on any difference the
model fails with dbt's mismatch table and nothing is replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from modelkit.adapters.base import ENFORCED, NOT_SUPPORTED, TableSchema
from modelkit.core.errors import CompilationError, DatabaseError
from modelkit.core.text import markdown_table

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter, ColumnInfo
    from modelkit.core.manifest import Node

HEADER = (
    "This model has an enforced contract that failed.\n"
    "Please ensure the name, data_type, and number of columns in your contract "
    "match the columns in your model's definition."
)
COLUMNS = ("column_name", "definition_type", "contract_type", "mismatch_reason")


class ContractError(CompilationError):
    """The model's query does not match its contract."""


def declared_types(node: Node, data_type: Callable[[str], str] | None = None) -> dict[str, str]:
    """The contract's types by column, translated by ``data_type`` when the node's dialect is not the
    target's (``double`` is ``DOUBLE PRECISION`` in some)."""
    translate = data_type or str
    return {name: translate(str(c.data_type)) for name, c in node.columns.items()}


def _contract_columns(node: Node, adapter: Adapter, types: Mapping[str, str]) -> list[ColumnInfo]:
    """The declared columns with their types as the engine names them (``int`` -> ``INTEGER``)."""
    try:
        return adapter.describe_query(
            adapter.sql.typed_nulls([(c.name, types[key]) for key, c in node.columns.items()])
        )
    except DatabaseError:
        for key, column in node.columns.items():  # find the faulty one for the message
            try:
                adapter.describe_query(adapter.sql.typed_nulls([("x", types[key])]))
            except DatabaseError as exc:
                spelled = f" ({types[key]} as the target names it)" if types[key] != str(column.data_type) else ""
                raise CompilationError(
                    f"Column '{column.name}' of the contract has data_type '{column.data_type}'{spelled}, "
                    f"which the database does not know: {exc.message}"
                ) from None
        raise


def mismatches(definition: list[tuple[str, str]], contract: list[tuple[str, str]]) -> list[dict[str, str]]:
    """dbt's mismatch rows: type differences, columns missing on either side."""
    rows: list[dict[str, str]] = []
    declared = {name.lower(): (name, dtype) for name, dtype in contract}
    defined = {name.lower() for name, _ in definition}
    for name, dtype in definition:
        found = declared.get(name.lower())
        if found is None:
            rows.append(dict(zip(COLUMNS, (name, dtype, "", "missing in contract"))))
        elif found[1] != dtype:
            rows.append(dict(zip(COLUMNS, (name, dtype, found[1], "data type mismatch"))))
    for name, dtype in contract:
        if name.lower() not in defined:
            rows.append(dict(zip(COLUMNS, (name, "", dtype, "missing in definition"))))
    return sorted(rows, key=str)


def enforce_contract(node: Node, sql: str, adapter: Adapter, types: Mapping[str, str] | None = None) -> str:
    """Check the query against the contract (``types``: its types as the engine names them, see
    :func:`declared_types`); returns the query with columns in contract order."""
    header = node.config.get("sql_header")
    if header:  # as dbt's adapters do: run on its own first, so that its session effects reach the describe
        adapter.execute(str(header))
    family = adapter.sql.contract_type
    definition = [(c.name, family(c.data_type)) for c in adapter.describe_query(adapter.sql.select_from(sql))]
    declared = types if types is not None else declared_types(node)
    contract = [(c.name, family(c.data_type)) for c in _contract_columns(node, adapter, declared)]
    rows = mismatches(definition, contract)
    if rows or len(definition) != len(contract):
        table = markdown_table(COLUMNS, [[row[c] for c in COLUMNS] for row in rows])
        raise ContractError(f"{HEADER}\n\n{table}")
    if node.materialized == "view":
        return sql
    by_lower = {name.lower(): name for name, _ in definition}
    return adapter.sql.select_from(sql, [by_lower[name.lower()] for name, _ in contract], alias="model_subq")


def table_schema(
    node: Node, adapter: Adapter, warn: Callable[[str], None], types: Mapping[str, str] | None = None
) -> TableSchema:
    """The contracted table's declaration: columns with their types and the constraints the engine enforces.

    A constraint the engine does not support (or would not enforce) is left out with a warning, unless it
    says ``warn_unsupported: false``; one the engine does not enforce is still declared.
    """
    sql = adapter.sql

    def kept(constraint: Mapping[str, Any]) -> bool:
        kind = str(constraint.get("type"))
        support = adapter.constraint_support.get(kind, NOT_SUPPORTED)
        if support != ENFORCED and constraint.get("warn_unsupported", True):
            how = "is not supported by" if support == NOT_SUPPORTED else "is not enforced by"
            warn(
                f"Model '{node.name}': the `{kind}` constraint {how} {adapter.type}"
                + (" and is left out of the table's DDL" if support == NOT_SUPPORTED else "")
            )
        return support != NOT_SUPPORTED

    declared = types if types is not None else declared_types(node)
    columns = []
    for key, column in node.columns.items():
        checks = [sql.column_constraint(c) for c in column.constraints if kept(c)]
        columns.append((column.name, declared[key], tuple(c for c in checks if c)))
    model_level = [sql.model_constraint(c) for c in getattr(node, "constraints", []) if kept(c)]
    return TableSchema(tuple(columns), tuple(c for c in model_level if c))
