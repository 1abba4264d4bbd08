"""The services execution uses, handed over explicitly (never the API's session object)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelkit.graph.selector import Selector

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
    from modelkit.core.manifest import Manifest
    from modelkit.graph.graph import Graph
    from modelkit.project.profiles import Target
    from modelkit.project.project import ProjectConfig
    from modelkit.render.compiler import Compiler
    from modelkit.render.context import Invocation, Renderer


@dataclass(frozen=True)
class ExecutionContext:
    """One invocation's manifest, graph, compiler and connection, as execution and testing see them."""

    manifest: Manifest
    graph: Graph
    renderer: Renderer
    compiler: Compiler
    project: ProjectConfig
    target: Target
    invocation: Invocation
    connect: Callable[[], Adapter]  # the connection, opened on first use and then shared
    opened: Callable[[], Adapter | None] = lambda: None  # the connection if open (never opens one)

    @property
    def adapter(self) -> Adapter:
        return self.connect()

    def select(self, include: Sequence[str] | None = None, exclude: Sequence[str] | None = None) -> set[str]:
        """unique_ids chosen by ``--select`` / ``--exclude`` (dbt's grammar)."""
        return Selector(self.manifest, self.graph).select(include, exclude)

    def unmatched(self, include: Sequence[str] | None) -> list[str]:
        """Selection terms that match nothing (reported as warnings)."""
        return Selector(self.manifest, self.graph).unmatched(include)
