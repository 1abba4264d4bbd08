"""Materializations: one function each, over the adapter's primitives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CompilationError

if TYPE_CHECKING:
    from .adapters.base import Adapter, QueryResult
    from .manifest import Node


@dataclass(frozen=True)
class Build:
    """What a materialization needs: the node, its compiled SQL and the engine."""

    node: Node
    sql: str
    adapter: Adapter
    full_refresh: bool = False


def view(build: Build) -> QueryResult:
    return build.adapter.replace_view(build.node.relation, build.sql)


def table(build: Build) -> QueryResult:
    return build.adapter.replace_table(build.node.relation, build.sql)


def seed(build: Build) -> QueryResult:
    node = build.node
    config = node.config
    path = Path(getattr(node, "root_path", "")) / node.original_file_path
    result = build.adapter.load_csv(
        node.relation.with_type("table"),
        path,
        column_types=dict(config.get("column_types") or {}),
        delimiter=str(config.get("delimiter") or ","),
        quote_columns=bool(config.get("quote_columns", True)),
    )
    if build.full_refresh:
        result.message = f"CREATE {result.rows_affected}"
    return result


MATERIALIZATIONS: dict[str, Callable[[Build], QueryResult]] = {
    "view": view,
    "table": table,
    "seed": seed,
}


def materialize(build: Build) -> QueryResult:
    kind = build.node.materialized
    func = MATERIALIZATIONS.get(kind)
    if func is None:
        known = ", ".join(sorted([*MATERIALIZATIONS, "ephemeral"]))
        raise CompilationError(f"No materialization '{kind}' was found (known: {known})")
    return func(build)
