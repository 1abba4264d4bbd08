"""Materializations: one function each, over the adapter's primitives."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelkit.core.errors import CompilationError

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter, QueryResult
    from modelkit.core.manifest import Node


@dataclass(frozen=True)
class Build:
    """What a materialization needs: the node, its compiled SQL and the engine."""

    node: Node
    sql: str
    adapter: Adapter
    full_refresh: bool = False
    hooks: Callable[[str], None] | None = None  # runs the node's in-transaction "pre-hook" / "post-hook"
    log: Callable[[str], None] | None = None  # console messages (warnings about the node's config)

    def run_hooks(self, key: str) -> None:
        if self.hooks is not None:
            self.hooks(key)


@contextmanager
def unit_of_work(build: Build) -> Iterator[None]:
    """BEGIN, in-transaction pre-hooks, the body, in-transaction post-hooks, COMMIT (all or nothing)."""
    with build.adapter.transaction():
        build.run_hooks("pre-hook")
        yield
        build.run_hooks("post-hook")


def _hooks_inside(build: Build) -> bool:
    """Whether the node has hooks that run inside its transaction."""
    from modelkit.execute.hooks import hooks_of

    node = build.node
    return build.hooks is not None and any(
        hook.transaction and hook.sql.strip() for key in ("pre-hook", "post-hook") for hook in hooks_of(node, key)
    )


def view(build: Build) -> QueryResult:
    if not _hooks_inside(build):  # one statement (or the adapter's own transaction): atomic by itself
        return build.adapter.replace_view(build.node.relation, build.sql)
    with unit_of_work(build):
        return build.adapter.replace_view(build.node.relation, build.sql)


def table(build: Build) -> QueryResult:
    if not _hooks_inside(build):
        return build.adapter.replace_table(build.node.relation, build.sql)
    with unit_of_work(build):
        return build.adapter.replace_table(build.node.relation, build.sql)


def seed(build: Build) -> QueryResult:
    from modelkit.execute.materializations.seed import load_seed

    return load_seed(build)


def incremental(build: Build) -> QueryResult:
    from modelkit.execute.materializations.incremental import materialize_incremental

    return materialize_incremental(build)


def snapshot(build: Build) -> QueryResult:
    """One snapshot node (what ``modelkit snapshot`` and ``build`` run for it)."""
    from modelkit.execute.materializations.snapshot import materialize_snapshot

    return materialize_snapshot(build)


MATERIALIZATIONS: dict[str, Callable[[Build], QueryResult]] = {
    "view": view,
    "table": table,
    "seed": seed,
    "incremental": incremental,
    "snapshot": snapshot,
}


def materialize(build: Build) -> QueryResult:
    kind = build.node.materialized
    func = MATERIALIZATIONS.get(kind)
    if func is None:
        known = ", ".join(sorted([*MATERIALIZATIONS, "ephemeral"]))
        raise CompilationError(f"No materialization '{kind}' was found (known: {known})")
    return func(build)
