"""Model contracts: ``contract: {enforced: true}`` with a ``data_type`` for every column.

At parse time every column of a contracted model must declare its type. Before
the model is built, its query's columns (names, types, count) are compared with
the contract by describing the query without running it; on any difference the
model fails with dbt's mismatch table and nothing is replaced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelkit.core.errors import CompilationError, DatabaseError, ProjectError
from modelkit.core.relation import quote
from modelkit.core.text import markdown_table

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter, ColumnInfo
    from modelkit.core.manifest import Manifest, Node

HEADER = (
    "This model has an enforced contract that failed.\n"
    "Please ensure the name, data_type, and number of columns in your contract "
    "match the columns in your model's definition."
)
COLUMNS = ("column_name", "definition_type", "contract_type", "mismatch_reason")


class ContractError(CompilationError):
    """The model's query does not match its contract."""


def is_enforced(node: Node) -> bool:
    contract = node.config.get("contract") or {}
    return node.resource_type == "model" and bool(contract.get("enforced"))


def _yaml_path(node: Node) -> str:
    if node.patch_path and "://" in node.patch_path:
        return node.patch_path.split("://", 1)[1]
    return node.original_file_path


def check_contracts(manifest: Manifest) -> None:
    """Parse-time checks: contracted models declare every column with its data_type."""
    for node in manifest.nodes.values():
        if not is_enforced(node):
            continue
        if node.is_ephemeral:
            raise ProjectError(
                f"Model '{node.name}' has an enforced contract, but ephemeral models cannot have contracts",
                path=node.original_file_path,
            )
        if not node.columns:
            raise ProjectError(
                f"Model '{node.name}' has an enforced contract, and its 'columns' specification is missing",
                path=_yaml_path(node),
            )
        missing = [c.name for c in node.columns.values() if not c.data_type]
        if missing:
            raise ProjectError(
                f"Model '{node.name}': contracted models require data_type to be defined for each column. "
                "Please ensure that the column name and data_type are defined within the YAML configuration "
                f"for the {missing} column(s).",
                path=_yaml_path(node),
            )


def _contract_columns(node: Node, adapter: Adapter) -> list[ColumnInfo]:
    """The declared columns with their types as the engine names them (``int`` -> ``INTEGER``)."""
    columns = list(node.columns.values())
    probe = ", ".join(f"cast(null as {c.data_type}) as {quote(c.name)}" for c in columns)
    try:
        return adapter.describe_query(f"select {probe}")
    except DatabaseError:
        for column in columns:  # find the faulty one for the message
            try:
                adapter.describe_query(f"select cast(null as {column.data_type}) as x")
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

    definition = [(c.name, c.data_type.upper()) for c in adapter.describe_query(f"select * from (\n{sql}\n) as t")]
    contract = [(c.name, c.data_type.upper()) for c in _contract_columns(node, adapter)]
    rows = mismatches(definition, contract)
    if rows or len(definition) != len(contract):
        table = markdown_table(COLUMNS, [[row[c] for c in COLUMNS] for row in rows])
        raise ContractError(f"{HEADER}\n\n{table}")
    if node.materialized == "view":
        return sql
    by_lower = {name.lower(): name for name, _ in definition}
    columns = ", ".join(quote(by_lower[name.lower()]) for name, _ in contract)
    return f"select {columns}\nfrom (\n{sql}\n) as model_subq"
