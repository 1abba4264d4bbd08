"""Materializations and strategies written in Jinja by a project or an installed package.

``{% materialization name, adapter='<profile type>' %}`` (or ``default``) defines
``materialization_<name>_<adapter>``; a project may add new materializations or override a built-in
one (the project's own wins, then packages', then modelkit's). The macro runs with dbt's
materialization context: ``sql`` / ``compiled_code``, ``this``, ``config``, ``pre_hooks`` /
``post_hooks`` with ``run_hooks``, ``statement('main')``, and returns ``{'relations': [...]}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from modelkit.adapters.base import QueryResult
from modelkit.core.errors import CompilationError, ModelkitError
from modelkit.execute.hooks import Hook, hooks_of
from modelkit.render import templating
from modelkit.render.macros import MacroProxy

if TYPE_CHECKING:
    from modelkit.core.manifest import Macro, Node
    from modelkit.render.context import Renderer
    from modelkit.render.macros import MacroRegistry, RenderContext

BUILTIN_PACKAGE = "dbt"


def find_materialization(registry: MacroRegistry, name: str, adapter_type: str) -> Macro | None:
    """The project's or a package's ``materialization_<name>_<adapter>`` (then ``_default``); None: built-in."""
    packages = [p for p in registry.search_order() if p != BUILTIN_PACKAGE]
    for suffix in (adapter_type, "default"):
        for package in packages:
            macro = registry.find(f"materialization_{name}_{suffix}", package)
            if macro is not None:
                return macro
    return None


class NodeMacros:
    """The project's and packages' macros, called in one node's execution context (``Build.macros``)."""

    def __init__(self, renderer: Renderer, node: Node) -> None:
        self.renderer = renderer
        self.node = node
        self._context: RenderContext | None = None

    @property
    def context(self) -> RenderContext:
        if self._context is None:
            self._context = self.renderer.context(self.node, execute=True, path=self.node.original_file_path)
        return self._context

    def exists(self, name: str) -> bool:
        registry = self.renderer.registry
        return any(registry.find(name, p) is not None for p in registry.search_order() if p != BUILTIN_PACKAGE)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        label = f"{self.node.resource_type} {self.node.name}"
        try:
            return self.renderer.call_macro(name, self.context, *args, **kwargs)
        except ModelkitError as exc:
            exc.node = exc.node or label
            raise
        except Exception as exc:  # noqa: BLE001 - reported with the macro's file and line
            raise templating.wrap_error(exc, self.node.original_file_path, label) from exc


def run_materialization(
    renderer: Renderer,
    node: Node,
    sql: str,
    macro: Macro,
    run_hooks: Callable[[str, bool], None],
) -> QueryResult:
    """Run a Jinja materialization for ``node``; its ``statement('main')`` response is the result."""
    ctx = renderer.context(node, execute=True, path=node.original_file_path)
    hooks = {"pre-hook": hooks_of(node, "pre-hook"), "post-hook": hooks_of(node, "post-hook")}

    def run(entries: Sequence[Hook], inside_transaction: bool = True) -> str:
        for key, listed in hooks.items():
            if list(entries) == listed:
                run_hooks(key, inside_transaction)
        return ""

    model = ctx["model"] if "model" in ctx else None  # made on first use: `get` would not make it
    if isinstance(model, dict):  # the node as dbt's materializations read it, compiled
        ctx["model"] = {**model, "compiled_code": sql}
    ctx.update(
        sql=sql,
        compiled_code=sql,
        pre_hooks=hooks["pre-hook"],
        post_hooks=hooks["post-hook"],
        run_hooks=run,
    )
    label = f"{node.resource_type} {node.name}"
    try:
        returned = MacroProxy(macro, ctx)()
    except ModelkitError as exc:
        exc.node = exc.node or label
        exc.path = exc.path or macro.original_file_path
        raise
    except Exception as exc:  # noqa: BLE001 - reported with the materialization's file and line
        raise templating.wrap_error(exc, macro.original_file_path, label) from exc
    if not (isinstance(returned, dict) and isinstance(returned.get("relations"), list)):
        raise CompilationError(
            f"Materialization '{node.materialized}' ({macro.original_file_path}) must return "
            "{'relations': [...]} with return(), as dbt materializations do",
            node=label,
        )
    main = ctx["load_result"]("main")
    response = (main or {}).get("response") or {}
    message = response.get("_message") if isinstance(response, dict) else getattr(response, "_message", None)
    return QueryResult(message=str(message or "OK"))
