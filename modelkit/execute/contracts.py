"""Model contracts: ``contract: {enforced: true}`` with a ``data_type`` for every column.

At parse time every column of a contracted model must declare its type (see
:mod:`modelkit.parse.contracts`). Before the model is built, its query's columns (names, types, count) are compared with
the contract by describing the query without running it; on any difference the
model fails with dbt's mismatch table and nothing is replaced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def _contract_columns(node: Node, adapter: Adapter) -> list[ColumnInfo]:
    """The declared columns with their types as the engine names them (``int`` -> ``INTEGER``)."""
    columns = list(node.columns.values())
    try:
        return adapter.describe_query(adapter.sql.typed_nulls([(c.name, str(c.data_type)) for c in columns]))
    except DatabaseError:
        for column in columns:  # find the faulty one for the message
            try:
                adapter.describe_query(adapter.sql.typed_nulls([("x", str(column.data_type))]))
            except DatabaseError as exc:
                raise CompilationError(
                    f"Column '{column.name}' of the contract has data_type '{column.data_type}', "
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


def enforce_contract(node: Node, sql: str, adapter: Adapter) -> str:
    """Check the query against the contract; returns the query with columns in contract order."""

    definition = [(c.name, c.data_type.upper()) for c in adapter.describe_query(adapter.sql.select_from(sql))]
    contract = [(c.name, c.data_type.upper()) for c in _contract_columns(node, adapter)]
    rows = mismatches(definition, contract)
    if rows or len(definition) != len(contract):
        table = markdown_table(COLUMNS, [[row[c] for c in COLUMNS] for row in rows])
        raise ContractError(f"{HEADER}\n\n{table}")
    if node.materialized == "view":
        return sql
    by_lower = {name.lower(): name for name, _ in definition}
    return adapter.sql.select_from(sql, [by_lower[name.lower()] for name, _ in contract], alias="model_subq")
