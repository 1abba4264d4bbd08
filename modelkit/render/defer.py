"""Deferral (dbt's ``--defer``): ``ref()`` to a node this command does not build reads the state's relation.

As dbt resolves it: a referenced model, seed or snapshot that the comparison manifest also has resolves
to the relation recorded there when ``--favor-state`` is set and the node is not selected, or when its
relation does not exist in the target.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from modelkit.core.manifest import Node
from modelkit.core.relation import Relation
from modelkit.graph.state import PreviousState

REFABLE = ("model", "seed", "snapshot")


def state_relation(entry: Mapping[str, Any]) -> Relation | None:
    """The relation a node of a manifest.json records (None for ephemeral models and non-refable nodes)."""
    config = entry.get("config") or {}
    if entry.get("resource_type") not in REFABLE or config.get("materialized") == "ephemeral":
        return None
    identifier = entry.get("alias") or entry.get("name")
    if not identifier:
        return None
    kind = "view" if config.get("materialized") == "view" else "table"
    return Relation(entry.get("database"), entry.get("schema"), str(identifier), type=kind)


@dataclass(frozen=True)
class Deferral:
    """The relations of the state manifest, and when to use them instead of the target's."""

    relations: Mapping[str, Relation]
    favor_state: bool = False

    @classmethod
    def from_state(cls, state: PreviousState, favor_state: bool = False) -> Deferral:
        found = {uid: state_relation(entry) for uid, entry in state.nodes.items()}
        return cls({uid: rel for uid, rel in found.items() if rel is not None}, favor_state)

    def relation(self, target: Node, selected: Collection[str], exists: Callable[[Relation], bool]) -> Relation | None:
        """The state's relation for ``ref(target)``, or None to use the target's own."""
        if target.is_ephemeral:
            return None
        deferred = self.relations.get(target.unique_id)
        if deferred is None:
            return None
        if self.favor_state and target.unique_id not in selected:
            return deferred
        return None if exists(target.relation) else deferred
