"""Parse-time checks of enforced model contracts: every column declared, with its data_type."""

from __future__ import annotations

from modelkit.core.errors import ProjectError
from modelkit.core.manifest import Manifest, Node


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
