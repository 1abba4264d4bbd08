"""Hooks: a model's ``pre-hook`` / ``post-hook`` and the project's ``on-run-start`` / ``on-run-end``.

Node hooks are strings or ``{sql, transaction}`` mappings (``before_begin()`` /
``after_commit()`` build the latter), rendered with the node's Jinja context
when they run. As in dbt the order is: hooks with ``transaction: false``, BEGIN,
the other pre-hooks, the materialization, the other post-hooks, COMMIT, then the
``transaction: false`` post-hooks. Project hooks become ``operation`` nodes in
the manifest and run before the first and after the last node, each in its own
numbered block; ``on-run-end`` sees ``results`` and ``schemas``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from modelkit.artifacts.writer import node_dict
from modelkit.core.errors import ModelkitError
from modelkit.core.manifest import OperationNode
from modelkit.core.results import NodeResult, now

if TYPE_CHECKING:
    from modelkit.core.manifest import Node
    from modelkit.execute.context import ExecutionContext

PROJECT_HOOK_COMMANDS = frozenset({"run", "seed", "snapshot", "build", "test"})


@dataclass(frozen=True)
class Hook:
    sql: str
    transaction: bool
    index: int


def hooks_of(node: Node, key: str) -> list[Hook]:
    """The node's hooks for ``key`` (``pre-hook`` or ``post-hook``), in order."""
    entries = node.config.get(key) or []
    if isinstance(entries, (str, dict)):
        entries = [entries]
    found = []
    for index, entry in enumerate(entries):
        if isinstance(entry, dict):
            found.append(Hook(str(entry.get("sql") or ""), bool(entry.get("transaction", True)), index))
        elif entry is not None:
            found.append(Hook(str(entry), True, index))
    return found


def run_node_hooks(context: ExecutionContext, node: Node, key: str, *, inside: bool) -> None:
    """Render and run the node's ``key`` hooks whose ``transaction`` flag equals ``inside``."""
    renderer = context.renderer
    for hook in hooks_of(node, key):
        if hook.transaction != inside or not hook.sql.strip():
            continue
        ctx = renderer.context(node, execute=True, path=node.original_file_path)
        label = f"{node.resource_type} {node.name}"
        try:
            sql = renderer.render(hook.sql, f"{node.original_file_path}#{key}-{hook.index}", ctx, node_label=label)
        except ModelkitError as exc:
            exc.node = exc.node or label
            raise
        if sql.strip():
            context.adapter.execute(sql)


def _result_view(context: ExecutionContext, result: NodeResult) -> Any:
    """What ``on-run-end`` templates see for each result (``r.node.name``, ``r.status``, ...)."""
    manifest = context.manifest
    node = manifest.nodes.get(result.unique_id)
    resource = manifest.resource(result.unique_id) if node is None else None  # an exposure or saved query
    return SimpleNamespace(
        node=node_dict(node) if node is not None else dict(resource or {"unique_id": result.unique_id}),
        unique_id=result.unique_id,
        status=result.status,
        message=result.message,
        execution_time=result.execution_time,
        adapter_response=result.adapter_response,
        failures=result.failures,
        thread_id=result.thread_id,
        timing=result.timing,
    )


def run_project_hooks(
    context: ExecutionContext,
    reporter: Any,
    hook_type: str,
    results: Sequence[NodeResult] = (),
    selected: Sequence[str] = (),
) -> list[NodeResult]:
    """Run one kind of project hook, reporting each as ``N of K START/OK hook: pkg.kind.i``."""
    manifest = context.manifest
    # a node's unique id starts with its resource type: only the hooks are read (not every stored node)
    hooks = [manifest.nodes[uid] for uid in manifest.nodes if uid.startswith("operation.")]
    nodes = [n for n in hooks if isinstance(n, OperationNode) and n.hook_type == hook_type]
    root = context.project.name
    nodes.sort(key=lambda n: (n.package_name == root, n.package_name, n.index))  # packages' first, as dbt runs them
    if not nodes:
        return []
    renderer = context.renderer
    built = [context.manifest.nodes[uid] for uid in selected if uid in context.manifest.nodes]
    schemas = sorted({str(n.schema) for n in built if n.schema})
    database_schemas = sorted({(str(n.database), str(n.schema)) for n in built if n.schema})
    views = [_result_view(context, r) for r in results]
    if hook_type == "on-run-end":
        reporter.log("")
    out = []
    failed = False
    for i, node in enumerate(nodes, start=1):
        if failed:  # as dbt does: after a failed hook, the others of its kind are skipped, not run
            skipped = NodeResult(node.unique_id, "skipped", thread_id="main", message=f"{node.hook_name} skipped")
            skipped.failures = 1
            reporter.result(i, len(nodes), node, skipped)
            out.append(skipped)
            continue
        t0 = now()
        # A hook that fails to render stops the command (dbt renders it outside the error handling
        # that records a failed hook's result); only its statement's failure is a result.
        ctx = renderer.context(node, execute=True, path=node.original_file_path)
        ctx.update(results=views, schemas=schemas, database_schemas=database_schemas)
        sql = renderer.render(node.raw_code, f"{node.original_file_path}#{hook_type}-{i - 1}", ctx)
        compiled = now()
        reporter.start(i, len(nodes), node)
        result = NodeResult(node.unique_id, "success", thread_id="main")
        started = time.perf_counter()
        try:
            if sql.strip():
                context.adapter.execute(sql)
            result.message = f"{node.hook_name} passed"
            result.failures, result.compiled_code = 0, sql  # dbt's result of a hook: no adapter response
        except ModelkitError as exc:
            result.status, result.error, result.failures = "error", exc, 1
            result.message = f"{node.hook_name} failed, error:\n {exc.message}"
            failed = True
        result.execution_time = time.perf_counter() - started
        result.timing = [_timing("compile", t0, compiled), _timing("execute", compiled, now())]
        reporter.result(i, len(nodes), node, result)
        out.append(result)
    if hook_type == "on-run-start":
        reporter.log("")
    return out


def _timing(name: str, start: Any, end: Any) -> dict[str, Any]:
    return {
        "name": name,
        "started_at": start.isoformat().replace("+00:00", "Z"),
        "completed_at": end.isoformat().replace("+00:00", "Z"),
    }
