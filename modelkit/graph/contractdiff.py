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
    removed, changed = [], []
    has_constraints = bool(old.get("constraints"))
    for name, column in sorted((old.get("columns") or {}).items()):
        has_constraints = has_constraints or bool((column or {}).get("constraints"))
        if name not in columns:
            removed.append(str((column or {}).get("name") or name))
            continue
        before, after = (column or {}).get("data_type"), (columns[name] or {}).get("data_type")
        if before != after and _base_type(before) != _base_type(after):
            changed.append(f"{(column or {}).get('name') or name} ({before} -> {after})")
    if removed:
        found.append("Columns were removed: \n    - " + "\n    - ".join(removed))
    if changed:
        found.append("Columns with data_type changes: \n    - " + "\n    - ".join(changed))
    before_mat = (old.get("config") or {}).get("materialized")
    after_mat = (new.get("config") or {}).get("materialized")
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
