"""Views and tables, and what every materialization shares: the :class:`Build` and the unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from modelkit.adapters.base import RelationOptions
from modelkit.execute.hooks import hooks_of

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter, QueryResult, TableSchema
    from modelkit.core.manifest import Node


class MacroCalls(Protocol):
    """The project's and packages' macros, called in the node's execution context."""

    def exists(self, name: str) -> bool:
        """Whether the root project or an installed package defines macro ``name``."""

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call macro ``name`` (its ``return()`` value, else what it renders)."""


@dataclass(frozen=True)
class Build:
    """What a materialization needs: the node, its compiled SQL and the engine."""

    node: Node
    sql: str
    adapter: Adapter
    full_refresh: bool = False
    hooks: Callable[[str], None] | None = None  # runs the node's in-transaction "pre-hook" / "post-hook"
    log: Callable[[str], None] | None = None  # console messages (warnings about the node's config)
    macros: MacroCalls | None = None  # project and package macros (custom incremental strategies)
    # a microbatch model's SQL for one (start, end) window, and the run's --event-time-start / --event-time-end
    compile_window: Callable[[tuple[datetime, datetime]], str] | None = None
    event_time_start: datetime | None = None
    event_time_end: datetime | None = None
    schema: TableSchema | None = None  # an enforced contract's declaration (columns, constraints)

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
    node = build.node
    return build.hooks is not None and any(
        hook.transaction and hook.sql.strip() for key in ("pre-hook", "post-hook") for hook in hooks_of(node, key)
    )


def options_of(node: Node) -> RelationOptions:
    """The node's config, with its descriptions where ``persist_docs`` asks for them."""
    persist = node.config.get("persist_docs") or {}
    columns = getattr(node, "columns", {}) or {}
    return RelationOptions(
        config=node.config,
        description=(node.description or None) if persist.get("relation") else None,
        column_descriptions=(
            {c.name: c.description for c in columns.values() if c.description} if persist.get("columns") else {}
        ),
    )


def view(build: Build) -> QueryResult:
    options = options_of(build.node)
    if not _hooks_inside(build):  # one statement (or the adapter's own transaction): atomic by itself
        return build.adapter.replace_view(build.node.relation, build.sql, options)
    with unit_of_work(build):
        return build.adapter.replace_view(build.node.relation, build.sql, options)


def table(build: Build) -> QueryResult:
    options = options_of(build.node)
    if build.schema is not None:  # declared first, so that the engine checks the contract's constraints
        with unit_of_work(build):
            return build.adapter.replace_table_with_schema(build.node.relation, build.schema, build.sql, options)
    if not _hooks_inside(build):
        return build.adapter.replace_table(build.node.relation, build.sql, options)
    with unit_of_work(build):
        return build.adapter.replace_table(build.node.relation, build.sql, options)
