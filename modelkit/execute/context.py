"""The services execution uses, handed over explicitly (never the API's session object)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelkit.core.lazynodes import field_map
from modelkit.graph import yamlselectors
from modelkit.graph.selector import Selector

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
    from modelkit.core.manifest import Manifest
    from modelkit.graph.graph import Graph
    from modelkit.graph.state import PreviousState
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
    selectors: Mapping[str, Any] = field(default_factory=dict)  # selectors.yml, by name
    indirect_selection: str | None = None  # eager | cautious | buildable | empty (None: eager)
    store_failures: bool = False  # --store-failures: every data test keeps its failing rows
    warning_is_error: Callable[[str], bool] = lambda event: False  # --warn-error / --warn-error-options
    state: PreviousState | None = None  # --state / --state-git: for `state:` and `result:` selection
    breaking: Callable[[], Collection[str]] | None = None  # what `state:breaking` selects, computed on demand

    @property
    def adapter(self) -> Adapter:
        return self.connect()

    def select(
        self,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        *,
        selector: str | None = None,
        indirect: str | None = None,
        include_empty: bool = False,
    ) -> set[str]:
        """unique_ids chosen by ``--select`` / ``--exclude`` (dbt's grammar), or by a selectors.yml selector
        (``selector``, else the one with ``default: true`` when nothing is selected), with tests added as
        ``indirect`` (or the project's setting) says. As in dbt, a node whose SQL file is blank is left
        out unless ``include_empty`` (``ls`` and ``docs generate`` list it)."""
        mode = indirect or self.indirect_selection
        chooser = Selector(self.manifest, self.graph, self.state, self.invocation.log, self.breaking)
        if selector is None and not include and not exclude:
            selector = yamlselectors.default_selector(self.selectors)
        if selector is not None:
            chosen = yamlselectors.evaluate(chooser, self.selectors, selector, mode)
        else:
            chosen = chooser.select(include, exclude, indirect=mode)
        if include_empty:
            return chosen
        blank = field_map(self.manifest.nodes, "blank")
        return {uid for uid in chosen if uid not in blank} if blank else chosen

    def unmatched(self, include: Sequence[str] | None) -> list[str]:
        """Selection terms that match nothing (reported as warnings)."""
        return Selector(self.manifest, self.graph, self.state, self.invocation.log, self.breaking).unmatched(include)
