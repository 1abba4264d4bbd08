"""Breaking changes to an enforced contract, as dbt names them when it compares with a previous state.

A breaking change to a contracted model without versions is a warning; to a versioned model, an error
("create a new model version"). Adding a column, or widening a type (``varchar(3)`` to ``varchar(10)``),
is not breaking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelkit.core.errors import StateError

CONSTRAINED = ("table", "incremental")  # materializations whose contract includes constraints


def constraint_key(constraint: Any) -> tuple[Any, ...]:
    """A constraint as compared, whichever tool wrote it (dbt writes every field, defaults included)."""
    c = constraint if isinstance(constraint, Mapping) else {"type": str(constraint)}
    return (c.get("type"), c.get("name"), c.get("expression"), tuple(c.get("columns") or ()), c.get("to"),
            tuple(c.get("to_columns") or ()))  # fmt: skip


def constraint_keys(constraints: Any) -> tuple[tuple[Any, ...], ...]:
    return tuple(sorted((constraint_key(c) for c in constraints or ()), key=repr))


def _removed(old: Any, new: Any) -> list[Mapping[str, Any]]:
    """The enforced constraints of ``old`` that ``new`` no longer has (``custom`` ones are not enforced)."""
    kept = set(constraint_keys(new))
    return [
        c for c in old or () if isinstance(c, Mapping) and c.get("type") != "custom" and constraint_key(c) not in kept
    ]


def _label(constraint: Mapping[str, Any]) -> str:
    """The constraint's name, else its type as dbt 1.11 prints it (``ConstraintType.not_null``)."""
    name = constraint.get("name")
    return str(name) if name is not None else f"ConstraintType.{constraint.get('type')}"


def _base_type(data_type: Any) -> str | None:
    """A type without size, precision or scale, lower-cased: what a breaking type change compares."""
    if not data_type:
        return None
    return str(data_type).partition("(")[0].strip().lower()


def breaking_changes(new: Mapping[str, Any] | None, old: Mapping[str, Any]) -> list[str]:
    """dbt's list of breaking changes from ``old`` to ``new`` (None: the model was deleted or renamed)."""
    if not (old.get("contract") or {}).get("enforced"):
        return []
    if new is None:
        return [f"Contracted model '{old.get('unique_id')}' was deleted or renamed."]
    found: list[str] = []
    if not (new.get("contract") or {}).get("enforced"):
        found.append(
            "Contract enforcement was removed: Previously, this model had an enforced contract. It is no longer "
            "configured to enforce its contract, and this is a breaking change."
        )
    columns = new.get("columns") or {}
    removed, changed, column_constraints = [], [], []
    has_constraints = bool(old.get("constraints"))
    before_mat = (old.get("config") or {}).get("materialized")
    after_mat = (new.get("config") or {}).get("materialized")
    for name, column in sorted((old.get("columns") or {}).items()):
        column = column or {}
        has_constraints = has_constraints or bool(column.get("constraints"))
        if name not in columns:
            removed.append(str(column.get("name") or name))
            continue
        before, after = column.get("data_type"), (columns[name] or {}).get("data_type")
        if before != after and _base_type(before) != _base_type(after):
            changed.append(f"{column.get('name') or name} ({before} -> {after})")
        if before_mat in CONSTRAINED:
            for gone in _removed(column.get("constraints"), (columns[name] or {}).get("constraints")):
                column_constraints.append(f"'{_label(gone)}' constraint on column {name}")
    if removed:
        found.append("Columns were removed: \n    - " + "\n    - ".join(removed))
    if changed:
        found.append("Columns with data_type changes: \n    - " + "\n    - ".join(changed))
    if column_constraints:
        found.append("Enforced column level constraints were removed: \n    - " + "\n    - ".join(column_constraints))
    if before_mat in CONSTRAINED:
        model_constraints = [
            f"'{_label(gone)}' constraint on columns {list(gone.get('columns') or [])}"
            for gone in _removed(old.get("constraints"), new.get("constraints"))
        ]
        if model_constraints:
            found.append("Enforced model level constraints were removed: \n    - " + "\n    - ".join(model_constraints))
    if before_mat in CONSTRAINED and after_mat not in CONSTRAINED and has_constraints:
        found.append(f"Materialization changed with enforced constraints: \n    - {before_mat} -> {after_mat}")
    return found


def unversioned_warning(node: Mapping[str, Any], changes: list[str]) -> str:
    reasons = "\n  - ".join(changes)
    return (
        f"[WARNING]: Breaking change to contracted, unversioned model {node.get('name')} "
        f"({node.get('original_file_path')})\nWhile comparing to previous project state, dbt detected a breaking "
        f"change to an unversioned model.\n  - {reasons}\n"
    )


def versioned_error(node: Mapping[str, Any], changes: list[str]) -> StateError:
    reasons = "\n  - ".join(changes)
    return StateError(
        "While comparing to previous project state, dbt detected a breaking change to an enforced contract."
        f"\n  - {reasons}\nConsider making an additive (non-breaking) change instead, if possible.\n"
        "Otherwise, create a new model version: https://docs.getdbt.com/docs/collaborate/govern/model-versions",
        node=f"model {node.get('name')}",
        path=node.get("original_file_path"),
    )
