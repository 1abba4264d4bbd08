"""Materializations: one function each, written only over adapter primitives.

``base`` holds views and tables and what every materialization shares (the :class:`Build`, the
unit of work: one transaction with the in-transaction hooks); ``seed``, ``incremental`` and
``snapshot`` hold the stateful ones. :data:`MATERIALIZATIONS` is the one registry of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from modelkit.core.errors import CompilationError
from modelkit.execute.materializations.base import Build, table, view
from modelkit.execute.materializations.incremental import materialize_incremental
from modelkit.execute.materializations.seed import load_seed
from modelkit.execute.materializations.snapshot import materialize_snapshot

if TYPE_CHECKING:
    from modelkit.adapters.base import QueryResult

MATERIALIZATIONS: dict[str, Callable[[Build], QueryResult]] = {
    "view": view,
    "table": table,
    "seed": load_seed,
    "incremental": materialize_incremental,
    "snapshot": materialize_snapshot,
}


def materialize(build: Build) -> QueryResult:
    """Build ``build.node`` with the materialization its config names."""
    kind = build.node.materialized
    func = MATERIALIZATIONS.get(kind)
    if func is None:
        known = ", ".join(sorted([*MATERIALIZATIONS, "ephemeral"]))
        raise CompilationError(f"No materialization '{kind}' was found (known: {known})")
    return func(build)
