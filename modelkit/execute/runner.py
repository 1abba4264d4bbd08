"""Executing selected nodes: compile, materialize, report, in dependency order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from modelkit.core.errors import DatabaseError, ModelkitError
from modelkit.core.results import NodeResult, RunResult, display_path, now
from modelkit.execute.hooks import PROJECT_HOOK_COMMANDS, run_node_hooks, run_project_hooks
from modelkit.execute.materializations.base import Build, materialize
from modelkit.execute.scheduler import run_dag

if TYPE_CHECKING:
    from modelkit.api.session import Session
    from modelkit.core.manifest import Node
    from modelkit.testing.batch import TestBatches

EXECUTABLE = {
    "run": ("model",),
    "seed": ("seed",),
    "compile": ("model", "analysis", "test"),
    "snapshot": ("snapshot",),
    "test": ("test", "unit_test"),
    "build": ("seed", "model", "snapshot", "test", "unit_test"),
}

# Resource types with their own work ("module:function", imported on first use); every other
# node is compiled and materialized by Runner._compile_and_materialize.
NODE_EXECUTORS = {
    "test": "modelkit.testing.datatests:execute_data_test",
    "unit_test": "modelkit.testing.unittests:execute_unit_test",
}


def node_executor(command: str, resource_type: str) -> Callable[[Runner, Node, NodeResult], None] | None:
    """The function executing nodes of ``resource_type`` (None: compile and materialize)."""
    target = NODE_EXECUTORS.get(resource_type)
    if target is None or command == "compile":
        return None
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


class Reporter(Protocol):
    def start(self, index: int, total: int, node: Node) -> None: ...

    def result(self, index: int, total: int, node: Node, result: NodeResult) -> None: ...

    def log(self, message: str) -> None: ...


class NullReporter:
    def start(self, index: int, total: int, node: Node) -> None:
        pass

    def result(self, index: int, total: int, node: Node, result: NodeResult) -> None:
        pass

    def log(self, message: str) -> None:
        pass


@dataclass(frozen=True)
class RunOptions:
    command: str = "run"
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    threads: int | None = None
    full_refresh: bool = False
    fail_fast: bool = False
    resource_types: tuple[str, ...] = ()
    test_batch_size: int | None = None  # data tests per statement in `test` (None: the default; 1: one by one)
    selector: str | None = None  # a selectors.yml selector (wins over select/exclude)
    indirect_selection: str | None = None  # eager | cautious | buildable | empty (None: the setting)
    exclude_resource_types: tuple[str, ...] = ()


def _timing(name: str, start: Any, end: Any) -> dict[str, Any]:
    return {
        "name": name,
        "started_at": start.isoformat().replace("+00:00", "Z"),
        "completed_at": end.isoformat().replace("+00:00", "Z"),
    }


class Runner:
    def __init__(self, session: Session, options: RunOptions, reporter: Reporter | None = None) -> None:
        self.session = session
        self.options = options
        self.reporter = reporter or NullReporter()
        self._index = 0
        self._lock = threading.Lock()
        self.test_batches: TestBatches | None = None  # `test`: data tests run a batch at a time

    # -- selection ---------------------------------------------------------
    def selected_nodes(self) -> list[str]:
        kinds = set(EXECUTABLE[self.options.command])
        if self.options.resource_types and not {"all", "default"} & set(self.options.resource_types):
            kinds &= set(self.options.resource_types)
        kinds -= set(self.options.exclude_resource_types)
        chosen = self.session.select(
            self.options.select,
            self.options.exclude,
            selector=self.options.selector,
            indirect=self.options.indirect_selection,
        )
        manifest = self.session.manifest
        return sorted(
            uid for uid in chosen
            if uid in manifest.nodes and manifest.nodes[uid].resource_type in kinds and not manifest.nodes[uid].is_ephemeral
        )  # fmt: skip

    def _parents(self, selected: Sequence[str]) -> dict[str, set[str]]:
        """Parents among the selection, looking through ephemeral models."""
        manifest = self.session.manifest
        chosen = set(selected)
        result: dict[str, set[str]] = {}
        for uid in selected:
            found: set[str] = set()
            stack = list(manifest.nodes[uid].depends_on_nodes)
            seen: set[str] = set()
            while stack:
                parent = stack.pop()
                if parent in seen:
                    continue
                seen.add(parent)
                if parent in chosen:
                    found.add(parent)
                elif parent in manifest.nodes and manifest.nodes[parent].is_ephemeral:
                    stack.extend(manifest.nodes[parent].depends_on_nodes)
            result[uid] = found
        return result

    # -- execution -----------------------------------------------------------
    def _next_index(self) -> int:
        with self._lock:
            self._index += 1
            return self._index

    def execute(self) -> RunResult:
        session = self.session
        run = RunResult(command=self.options.command, started_at=now())
        selected = self.selected_nodes()
        self.total = len(selected)
        started = time.perf_counter()
        if not selected:
            run.elapsed_time = time.perf_counter() - started
            return run
        if self.options.command != "compile":
            adapter = session.adapter
            nodes = [session.manifest.nodes[uid] for uid in selected]
            for database, schema in sorted({(n.database, n.schema) for n in nodes if n.relation_name is not None}):  # type: ignore[type-var]
                adapter.create_schema(database, schema)
        parents = self._parents(selected)
        levels = session.graph.levels
        if self.options.command == "build":  # tests gate their node's children; unit tests run before it
            from modelkit.graph.build import build_dag

            parents, levels = build_dag(session.manifest, session.graph, parents)
        threads = self.options.threads or session.target.threads
        hooks = self.options.command in PROJECT_HOOK_COMMANDS

        def order(uid: str) -> tuple[int, str]:  # the scheduler's order, which the test batches follow
            return (levels.get(uid, 0), uid)

        if self.options.command == "test":
            from modelkit.testing.batch import TestBatches

            self.test_batches = TestBatches.for_run(
                session, selected, parents, order, threads=threads, size=self.options.test_batch_size
            )
        try:
            start = run_project_hooks(session, self.reporter, "on-run-start", selected=selected) if hooks else []
            if any(r.is_error for r in start):  # a failed on-run-start hook skips every node
                run.results = start + [self._skip(uid, "on-run-start") for uid in selected]
            else:
                run.results = start + run_dag(
                    parents,
                    self._execute_node,
                    threads=threads,
                    order=order,
                    on_skip=self._skip,
                    fail_fast=self.options.fail_fast,
                )
            if hooks:
                done = [r for r in run.results if not r.unique_id.startswith("operation.")]
                run.results += run_project_hooks(session, self.reporter, "on-run-end", done, selected)
        except KeyboardInterrupt:
            run.interrupted = True
        if "compiler" in session.__dict__:
            session.compiler.flush()  # compiled files are on disk when the run ends
        run.elapsed_time = time.perf_counter() - started
        return run

    def _skip(self, uid: str, cause: str) -> NodeResult:
        node = self.session.manifest.nodes[uid]
        index = self._next_index()
        result = NodeResult(uid, "skipped", message=None, relation_name=node.relation_name)
        self.reporter.result(index, self.total, node, result)
        return result

    def _execute_node(self, uid: str) -> NodeResult:
        session = self.session
        node = session.manifest.nodes[uid]
        index = self._next_index()
        self.reporter.start(index, self.total, node)
        thread = threading.current_thread().name
        if thread == "MainThread":
            thread = "Thread-1"  # one thread: nodes run inline, named as dbt names its only worker
        result = NodeResult(uid, "success", thread_id=thread, relation_name=node.relation_name)
        start = time.perf_counter()
        t0 = now()
        try:
            executor = node_executor(self.options.command, node.resource_type)
            if executor is not None:
                executor(self, node, result)
            else:
                self._compile_and_materialize(node, result, t0)
        except ModelkitError as exc:
            result.status = "error"
            result.error = exc
            result.message = self._error_message(node, exc, result.compiled_path)
        except Exception as exc:  # noqa: BLE001 - an unexpected failure is still this node's error
            result.status = "error"
            result.error = exc
            result.message = f"Internal error in {node.resource_type} {node.name}: {type(exc).__name__}: {exc}"
        if result.status == "warn" and session.warning_is_error("LogTestResult"):  # --warn-error: dbt fails it
            result.status = "fail"
            result.message = (result.message or "").replace("configured to warn if", "configured to fail if")
        # an executor sharing one statement's time among several nodes sets its own share
        result.execution_time = result.execution_time or (time.perf_counter() - start)
        self.reporter.result(index, self.total, node, result)
        return result

    def _compile_and_materialize(self, node: Node, result: NodeResult, t0: Any) -> None:
        session = self.session
        sql = ""
        if node.resource_type != "seed":
            sql = session.compiler.compile(node)
            result.compiled_code = sql
            path = session.compiler.write(node, sql, session.project.target_dir)
            result.compiled_path = display_path(path, session.project.root)
        t1 = now()
        result.timing.append(_timing("compile", t0, t1))
        if self.options.command == "compile" or node.resource_type == "analysis":
            result.message = None
        else:
            if (node.config.get("contract") or {}).get("enforced") and node.resource_type == "model":
                from modelkit.execute.contracts import enforce_contract

                sql = enforce_contract(node, sql, session.adapter)
            self._run_hooks(node, "pre-hook")  # hooks with transaction: false; the others run inside
            response = materialize(
                Build(
                    node,
                    sql,
                    session.adapter,
                    self._full_refresh(node),
                    hooks=lambda key: self._run_hooks(node, key, inside=True),
                    log=self.reporter.log,
                )
            )
            self._run_hooks(node, "post-hook")
            result.message = response.message
            result.adapter_response = {"_message": response.message}
            if response.rows_affected is not None and node.resource_type == "seed":
                result.adapter_response.update(code="INSERT", rows_affected=response.rows_affected)
        result.timing.append(_timing("execute", t1, now()))

    def _full_refresh(self, node: Node) -> bool:
        value = node.config.get("full_refresh")
        return bool(self.options.full_refresh if value is None else value)

    def _run_hooks(self, node: Node, key: str, inside: bool = False) -> None:
        run_node_hooks(self.session, node, key, inside=inside)

    @staticmethod
    def _error_message(node: Node, exc: ModelkitError, compiled_path: str | None) -> str:
        if isinstance(exc, DatabaseError):
            detail = "\n  ".join(exc.message.splitlines())
            message = f"Runtime Error in {node.resource_type} {node.name} ({node.original_file_path})\n  {detail}"
            if compiled_path:
                message += f"\n  compiled code at {compiled_path}"
            return message
        if exc.node is None:
            exc.node = f"{node.resource_type} {node.name}"
        if exc.path is None:
            exc.path = node.original_file_path
        text = str(exc)
        if compiled_path:
            text += f"\n  compiled code at {compiled_path}"
        return text
