"""A session: one project, one target, one invocation; everything built lazily once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit.core import settings
from modelkit.graph import yamlselectors
from modelkit.project.profiles import Target, load_target
from modelkit.project.project import ProjectConfig, load_project, parse_vars, partial_parse_enabled
from modelkit.render.context import Invocation, Renderer
from modelkit.render.macros import MacroRegistry, load_builtin

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
    from modelkit.core.manifest import Manifest
    from modelkit.graph.graph import Graph
    from modelkit.parse.cache import ParseCache
    from modelkit.render.compiler import Compiler


class Session:
    """Everything one command needs, loaded on first use."""

    def __init__(
        self,
        project_dir: str | Path = ".",
        *,
        profiles_dir: str | Path | None = None,
        target: str | None = None,
        profile: str | None = None,
        vars: str | Mapping[str, Any] | None = None,
        threads: int | None = None,
        full_refresh: bool = False,
        which: str = "run",
        log: Callable[[str], None] | None = None,
        partial_parse: bool | None = None,
        invocation_id: str | None = None,
        empty: bool | None = None,
    ) -> None:
        self.cli_vars = parse_vars(vars)
        self.project: ProjectConfig = load_project(project_dir, self.cli_vars)
        self.partial_parse = partial_parse_enabled(partial_parse, self.project.flags)
        self.target: Target = load_target(
            self.project,
            profiles_dir=profiles_dir,
            target=target,
            profile=profile,
            threads=threads,
            cli_vars=self.cli_vars,
        )
        self.invocation = Invocation(full_refresh=full_refresh, which=which, log=log or (lambda m: None))
        if invocation_id:
            self.invocation.invocation_id = invocation_id
        flags = self.project.flags
        self.store_failures = bool(settings.resolve("store_failures", None, flags))  # --store-failures
        self.warn_error = bool(settings.resolve("warn_error", None, flags))
        self.warn_error_options = settings.warn_error_options(settings.resolve("warn_error_options", None, flags))
        if which in ("run", "build", "compile", "snapshot", "test"):
            self.invocation.empty = bool(settings.resolve("empty", empty or None, self.project.flags))
        registry = MacroRegistry(self.project.name)
        load_builtin(registry)
        self.renderer = Renderer(self.project, self.target, registry, self.cli_vars, self.invocation)
        self._adapter: Adapter | None = None
        self._adapter_lock = threading.RLock()
        self.renderer.connect = lambda: self.adapter  # introspective Jinja opens the connection on first use
        self.parse_cache: ParseCache | None = None

    @cached_property
    def manifest(self) -> Manifest:
        from modelkit.parse.parser import Parser

        parser = Parser(self.renderer, use_cache=self.partial_parse)
        manifest = parser.parse()
        self.parse_cache = parser.cache
        return manifest

    @cached_property
    def graph(self) -> Graph:
        from modelkit.graph.graph import Graph

        return Graph(self.manifest)

    @property
    def adapter(self) -> Adapter:
        with self._adapter_lock:
            if self._adapter is None:
                from modelkit.adapters import get_adapter

                adapter = get_adapter(self.target)
                adapter.open()
                self._adapter = adapter
                self.renderer.adapter = adapter
            return self._adapter

    @cached_property
    def compiler(self) -> Compiler:
        from modelkit.render.compiler import Compiler

        return Compiler(self.renderer, self.manifest)

    def select(
        self,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        *,
        selector: str | None = None,
        indirect: str | None = None,
    ) -> set[str]:
        """Nodes chosen by ``--select``/``--exclude``, or by a selectors.yml selector (``selector``, else the
        one with ``default: true`` when nothing is selected), with tests added as ``indirect`` says."""
        from modelkit.graph.selector import Selector

        mode = indirect or settings.resolve("indirect_selection", None, self.project.flags)
        chooser = Selector(self.manifest, self.graph)
        if selector is None and not include and not exclude:
            selector = yamlselectors.default_selector(self.selectors)
        if selector is not None:
            return yamlselectors.evaluate(chooser, self.selectors, selector, mode)
        return chooser.select(include, exclude, indirect=mode)

    def warning_is_error(self, event: str) -> bool:
        """Whether the warning dbt names ``event`` (e.g. ``LogTestResult``) is an error here (--warn-error[-options])."""
        options = self.warn_error_options
        if event in options["warn"] or event in options["silence"]:
            return False
        return self.warn_error or "all" in options["error"] or event in options["error"]

    @cached_property
    def selectors(self) -> dict[str, dict[str, Any]]:
        """The project's selectors.yml, by name."""
        return yamlselectors.load_selectors(self.project.root)

    def unmatched(self, include: Sequence[str] | None) -> list[str]:
        from modelkit.graph.selector import Selector

        return Selector(self.manifest, self.graph).unmatched(include)

    def close(self) -> None:
        if "manifest" in self.__dict__:
            import gc

            gc.unfreeze()  # see Parser.parse
        if "compiler" in self.__dict__:
            self.compiler.flush()
        if self._adapter is not None:
            self._adapter.close()
            self._adapter = None
            self.renderer.adapter = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
