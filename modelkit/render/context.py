"""The Jinja context a node is rendered with, at parse time and at execution.

At parse time (``execute`` false) ``ref``/``source``/``config`` record what the
node uses; at execution they resolve against the manifest and the database.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelkit import __version__
from modelkit.adapters import identifier_quote, render_capabilities
from modelkit.adapters.base import Capability
from modelkit.artifacts.writer import macro_dict
from modelkit.core.errors import CompilationError, ProjectError
from modelkit.core.relation import Relation
from modelkit.graph.resolve import Resolver, ref_args
from modelkit.render import templating
from modelkit.render.adapter_proxy import AdapterProxy, Api
from modelkit.render.configobj import ConfigAccessor
from modelkit.render.defer import Deferral
from modelkit.render.functions import BASE_GLOBALS, Exceptions
from modelkit.render.invocation import Flags, Invocation
from modelkit.render.macros import MacroProxy, MacroRegistry, Namespace, RenderContext, TrackedContext
from modelkit.render.statements import Statements
from modelkit.render.testargs import KWARGS_NAME, rendered_test_kwargs
from modelkit.render.varscope import VarScope

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
    from modelkit.project.profiles import Target
    from modelkit.project.project import ProjectConfig

__all__ = ["MODELKIT_VERSION", "Capture", "ConfigAccessor", "Invocation", "Renderer"]

_MISSING = object()
MODELKIT_VERSION = __version__
# The keys of dbt's flat graph; at parse time each is empty.
GRAPH_KEYS = ("exposures", "functions", "groups", "metrics", "nodes", "sources", "semantic_models", "saved_queries")


@dataclass
class Capture:
    """What a parse-time render recorded."""

    refs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[list[str]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    env_vars: dict[str, str | None] = field(default_factory=dict)
    ref_lines: list[int | None] = field(default_factory=list)
    source_lines: list[int | None] = field(default_factory=list)


def _caller_line(path: str) -> int | None:
    """Line of the template currently calling into Python (for ref/source errors)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == path:
            template = frame.f_globals.get("__jinja_template__")
            if template is not None:
                return template.get_corresponding_lineno(frame.f_lineno)
            return None
        frame = frame.f_back  # type: ignore[assignment]
    return None


class Renderer:
    """Builds render contexts for one project, target and invocation."""

    def __init__(
        self,
        project: ProjectConfig,
        target: Target,
        registry: MacroRegistry,
        cli_vars: Mapping[str, Any] | None = None,
        invocation: Invocation | None = None,
    ) -> None:
        self.project = project
        self.target = target
        self.registry = registry
        self.cli_vars = dict(cli_vars or {})
        self.var_scope = VarScope(project)  # the parser adds the installed packages' vars
        self.invocation = invocation or Invocation()
        self.resolver: Resolver | None = None
        self._adapter: Adapter | None = None
        self.connect: Callable[[], Adapter] | None = None  # opens the connection when first needed
        self.quote_char = identifier_quote(target.type)  # how ref(), source() and this quote their parts
        self.static_sources: dict[str, bool] = {}  # template text -> whether static_capture accepts it
        self.env_reads: dict[str, str | None] = {}  # every env_var() read, with the value it found
        self.var_reads: set[str] = set()  # the name of every var() read
        self.defer: Deferral | None = None  # --defer: unselected refs read the state's relations
        self._base = self._base_context()

    @property
    def adapter(self) -> Adapter | None:
        if self._adapter is None and self.connect is not None:
            self._adapter = self.connect()
        return self._adapter

    @adapter.setter
    def adapter(self, value: Adapter | None) -> None:
        self._adapter = value

    # -- shared pieces --------------------------------------------------------
    def _base_context(self) -> dict[str, Any]:
        inv = self.invocation
        base = dict(templating.RUN_ENV.globals)
        base.update(BASE_GLOBALS)
        target = self.target.to_context()
        base.update(
            target=target,
            env=target,
            database=self.target.database,
            schema=self.target.schema,
            project_name=self.project.name,
            invocation_id=inv.invocation_id,
            run_started_at=inv.started_at,
            modelkit_version=MODELKIT_VERSION,
            exceptions=Exceptions(lambda m: inv.warn(m)),
            api=Api(self.project.quoting, self.quote_char),
            flags=Flags(inv, self.project.flags),
            invocation_args_dict=inv.args,  # the same dict, filled in once the command has its flags
            dbt_metadata_envs={
                k[len("DBT_ENV_CUSTOM_ENV_") :]: v for k, v in os.environ.items() if k.startswith("DBT_ENV_CUSTOM_ENV_")
            },
        )
        base["return"] = _return
        base["print"] = _print
        return base

    def selected_resources(self) -> list[str]:
        """The unique ids the command selected (one list, made once per selection)."""
        selected = self.invocation.selected_resources
        cached = self.__dict__.get("_selected")
        if cached is None or cached[0] is not selected:
            cached = (selected, list(selected))
            self.__dict__["_selected"] = cached
        return cached[1]

    def deferred(self, target: Any) -> Relation | None:
        """With ``--defer``, the state's relation for ``ref(target)`` when dbt would use it (else None)."""
        if self.defer is None:
            return None

        def exists(rel: Relation) -> bool:
            adapter = self.adapter
            return adapter is not None and adapter.get_relation(rel.database, rel.schema, rel.identifier) is not None

        selected = self.invocation.selected_resources
        cached = self.__dict__.get("_selected_set")
        if cached is None or cached[0] is not selected:
            cached = (selected, frozenset(selected))
            self.__dict__["_selected_set"] = cached
        return self.defer.relation(target, cached[1], exists)

    def graph(self, execute: bool) -> dict[str, Any]:
        """dbt's flat graph: every node, source, ... when executing; empty while parsing."""
        resolver = self.resolver
        if not execute or resolver is None:
            return {key: {} for key in GRAPH_KEYS}
        cached = self.__dict__.get("_graph")
        if cached is None or cached[0] is not resolver:
            graph = {key: {} for key in GRAPH_KEYS}
            graph.update(resolver.graph_context())
            graph["macros"] = {m.unique_id: macro_dict(m) for m in resolver.manifest.macros.values()}
            cached = (resolver, graph)
            self.__dict__["_graph"] = cached
        return cached[1]

    def has_var(self, name: str, package: str | None = None) -> bool:
        self.var_reads.add(name)
        return name in self.cli_vars or name in self.var_scope.values(package)

    def var_value(
        self, name: str, default: Any, node_name: str | None, execute: bool, package: str | None = None
    ) -> Any:
        self.var_reads.add(name)
        if name in self.cli_vars:
            return self.cli_vars[name]
        project_vars = self.var_scope.values(package)
        if name in project_vars:
            return project_vars[name]
        if default is not _MISSING:
            return default
        if not execute:
            return None
        supplied = {**project_vars, **self.cli_vars}
        raise CompilationError(
            f"Required var '{name}' not found in config:\nVars supplied to {node_name} = {supplied!r}"
        )

    # -- contexts ------------------------------------------------------------
    def context(
        self,
        node: Any | None,
        *,
        execute: bool,
        capture: Capture | None = None,
        path: str = "",
        this: Relation | None = None,
        ctes: list[str] | None = None,
        event_time: tuple[Any, Any] | None = None,
        track: bool = False,
        package: str | None = None,
    ) -> RenderContext:
        """The Jinja context of ``node`` (none: the root project's); ``package`` renders as that package's
        node does (its macros unqualified, its vars), as run-operation calls a package's macro. With
        ``track``, a :class:`TrackedContext`, which notes what the render reads (names, vars, environment
        variables, the database)."""
        base = self._base
        node_name = getattr(node, "name", None)
        node_config = dict(getattr(node, "config", {}) or {})
        package = package or getattr(node, "package_name", None)
        ctx = (TrackedContext if track else RenderContext)(base, self.registry, execute, package)
        seen_env = capture.env_vars if capture is not None else ctx.env_read

        def var(name: str, default: Any = _MISSING) -> Any:
            ctx.vars_read.add(name)
            return self.var_value(name, default, node_name, execute, package)

        def has_var(name: str) -> bool:
            ctx.vars_read.add(name)
            return self.has_var(name, package)

        var.has_var = has_var  # type: ignore[attr-defined]

        def env_var(name: str, default: Any = None) -> str:
            if name.startswith("DBT_ENV_SECRET") or name.startswith("MODELKIT_SECRET"):
                raise ProjectError(
                    f"Secret env vars are allowed only in profiles.yml or packages.yml. Found '{name}' referenced elsewhere."
                )
            value = os.environ.get(name)
            seen_env[name] = value
            self.env_reads[name] = value
            if value is not None:
                return value
            if default is not None:
                return default
            raise ProjectError(f"Env var required but not provided: '{name}'")

        def log(msg: Any, info: bool = False) -> str:
            if info:
                self.invocation.log(str(msg))
            return ""

        resolver = self.resolver

        if execute:
            assert resolver is not None, "execution needs a resolver"

            limit = 0 if self.invocation.empty else None
            quote_char = self.quote_char
            alias = Capability.SUBQUERY_ALIAS in render_capabilities(self.target.type)

            def ref(*args: Any, **kwargs: Any) -> Relation:
                target = resolver.ref_node(node, args, kwargs)
                if self.defer is not None:  # whether it defers may depend on what the database holds
                    ctx.touched_database = True
                rel = (self.deferred(target) or target.relation).quoted_with(quote_char)
                if rel.is_cte and ctes is not None and rel.identifier not in ctes:
                    ctes.append(rel.identifier)
                return _windowed(rel, target.config, event_time).limited(limit, alias)

            def source(source_name: str, table_name: str) -> Relation:
                rel = resolver.source(node, source_name, table_name).quoted_with(quote_char)
                found = resolver.find_source(source_name, table_name)
                return _windowed(rel, found.config if found is not None else {}, event_time).limited(limit, alias)

        else:

            def ref(*args: Any, **kwargs: Any) -> Relation:
                name, package, version = ref_args(args, kwargs)
                if capture is not None:
                    capture.refs.append({"name": name, "package": package, "version": version})
                    capture.ref_lines.append(_caller_line(path))
                return Relation(self.target.database, self.target.schema, name)

            def source(source_name: str, table_name: str) -> Relation:
                if capture is not None:
                    capture.sources.append([source_name, table_name])
                    capture.source_lines.append(_caller_line(path))
                if resolver is not None:
                    found = resolver.find_source(source_name, table_name, package)
                    if found is not None:
                        return found.relation
                return Relation(self.target.database, source_name, table_name)

        adapter_proxy = AdapterProxy(self, ctx, execute)
        statements = Statements(execute, adapter_proxy.execute)

        def is_incremental() -> bool:
            if not execute or node is None or self.adapter is None:
                return False
            if node_config.get("materialized") != "incremental" or should_full_refresh():
                return False
            rel = node.relation
            ctx.touched_database = True
            existing = self.adapter.get_relation(rel.database, rel.schema, rel.identifier)
            return existing is not None and existing.type == "table"

        def should_full_refresh() -> bool:
            value = node_config.get("full_refresh")
            return bool(self.invocation.full_refresh if value is None else value)

        def doc(*args: str) -> str:
            if resolver is None:
                return ""
            return resolver.doc(args[-1], args[0] if len(args) > 1 else None, package)

        config = ConfigAccessor(node_config, capture)
        this_rel = this if this is not None else _this(node)
        if this_rel is not None:
            this_rel = this_rel.quoted_with(self.quote_char)
        ctx.update(
            execute=execute,
            ref=ref,
            source=source,
            config=config,
            var=var,
            env_var=env_var,
            log=log,
            run_query=statements.run_query,
            statement=statements.statement,
            load_result=statements.load_result,
            store_result=statements.store_result,
            store_raw_result=statements.store_raw_result,
            render=lambda string: self.render(str(string), path or "<render>", ctx),
            thread_id=threading.current_thread().name,
            selected_resources=self.selected_resources(),
            is_incremental=is_incremental,
            should_full_refresh=should_full_refresh,
            doc=doc,
            this=this_rel,
            adapter=adapter_proxy,
            builtins={"ref": ref, "source": source, "config": config},
            context=ctx,
        )
        ctx.deferred["graph"] = lambda: self.graph(execute)  # every node's entry: made only if asked for
        ctx.deferred["model"] = lambda: _node_dict(node) if node is not None else None
        ctx["dbt"] = Namespace("dbt", ctx)
        if getattr(node, "test_metadata", None):  # a generic data test: its arguments, rendered lazily
            ctx[KWARGS_NAME] = rendered_test_kwargs(node, ctx)
        for name in self.registry.root_names() & (set(ctx) | set(ctx.deferred)):
            if name in ("ref", "source", "config", "this", "model"):
                dict.__setitem__(ctx, name, MacroProxy(self.registry.find(name), ctx))  # type: ignore[arg-type]
        return ctx

    def render(self, source: str, path: str, context: RenderContext, node_label: str | None = None) -> str:
        template = templating.get_template(source, path, parse=not context.execute)
        return templating.render(template, context, path, node_label)

    def call_macro(self, name: str, context: RenderContext, *args: Any, **kwargs: Any) -> Any:
        func = context[name]
        try:
            return func(*args, **kwargs)
        except templating.MacroReturn as ret:
            return ret.value


def _windowed(rel: Relation, config: Mapping[str, Any], event_time: tuple[Any, Any] | None) -> Relation:
    """A microbatch model's input: only the batch's window, where the input declares its ``event_time``."""
    column = config.get("event_time")
    if event_time is None or not column or rel.is_cte:
        return rel
    return rel.filtered(str(column), *event_time)


def _this(node: Any) -> Relation | None:
    """``this``: the node's relation; for an ephemeral model, where it would be (as dbt's ``this``)."""
    if node is None or not hasattr(node, "relation"):
        return None
    if getattr(node, "is_ephemeral", False):
        return Relation(node.database, node.schema, node.alias or node.name, quote_policy=node.quote_policy)
    return node.relation


def _return(value: Any = None) -> None:
    raise templating.MacroReturn(value)


def _print(*args: Any) -> str:
    print(*args)
    return ""


def _node_dict(node: Any) -> dict[str, Any]:
    data = {
        "unique_id": node.unique_id,
        "name": node.name,
        "resource_type": node.resource_type,
        "package_name": node.package_name,
        "path": node.path,
        "original_file_path": node.original_file_path,
        "fqn": node.fqn,
        "config": node.config,
        "alias": node.alias,
        "schema": node.schema,
        "database": node.database,
        "tags": node.tags,
        "meta": node.meta,
        "description": node.description,
        "raw_code": node.raw_code,
        "refs": node.refs,
        "sources": node.sources,
        "depends_on": {"nodes": node.depends_on_nodes, "macros": node.depends_on_macros},
        "columns": {
            k: {
                "name": c.name,
                "description": c.description,
                "data_type": c.data_type,
                "constraints": c.constraints,
                "quote": c.quote,
            }
            for k, c in node.columns.items()
        },
        "constraints": getattr(node, "constraints", []),
        "language": node.language,
        "relation_name": node.relation_name,
    }
    for extra in ("test_metadata", "column_name", "attached_node", "version"):
        if hasattr(node, extra):
            data[extra] = getattr(node, extra)
    return data
