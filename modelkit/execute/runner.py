"""Executing selected nodes: compile, materialize, report, in dependency order."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from modelkit.core.background import Background
from modelkit.core.errors import ModelkitError
from modelkit.core.lazynodes import field_map
from modelkit.core.manifest import NO_OP_TYPES, ResourceNode
from modelkit.core.results import NodeResult, RunResult, display_path, now
from modelkit.execute.contracts import declared_types, enforce_contract, table_schema
from modelkit.execute.fingerprints import BuildState, sql_hash, target_key
from modelkit.execute.hooks import PROJECT_HOOK_COMMANDS, run_node_hooks, run_project_hooks
from modelkit.execute.materializations import materialize
from modelkit.execute.materializations.base import Build
from modelkit.execute.materializations.jinja import NodeMacros, find_materialization, run_materialization
from modelkit.execute.runplan import (
    EXECUTABLE,
    NullReporter,
    Reporter,
    RunOptions,
    RunPlan,
    error_message,
    timing,
)
from modelkit.execute.scheduler import run_dag
from modelkit.graph.build import build_dag

if TYPE_CHECKING:
    from modelkit.adapters.base import QueryResult, TableSchema
    from modelkit.core.manifest import Node
    from modelkit.execute.context import ExecutionContext


class NodeExecutor(Protocol):
    """The work for one resource type (data tests, unit tests) other than compiling and materializing."""

    def prepare(self, context: ExecutionContext, plan: RunPlan) -> None:
        """Called once before the first node runs (e.g. to plan batches)."""

    def execute(self, runner: Runner, node: Node, result: NodeResult) -> None:
        """Run ``node`` and fill ``result`` (status, message, timing...)."""


class Runner:
    """Runs the selected nodes of one command in dependency order.

    ``executors`` maps a resource type to its :class:`NodeExecutor`; every other node is compiled and
    materialized here. The registry is built in one place, :func:`modelkit.api.executors.executors_for`.
    """

    def __init__(
        self,
        context: ExecutionContext,
        options: RunOptions,
        reporter: Reporter | None = None,
        executors: Mapping[str, NodeExecutor] | None = None,
    ) -> None:
        self.context = context
        self.options = options
        self.reporter = reporter or NullReporter()
        self.executors: Mapping[str, NodeExecutor] = {} if options.command == "compile" else dict(executors or {})
        self._index = 0
        self._lock = threading.Lock()
        self._nodes: dict[str, Node] = {}
        self._grants_warned = False
        self.build_state: BuildState | None = None
        self._selected: list[str] | None = None
        self._ahead: Background | None = None  # see look_ahead

    # -- selection ---------------------------------------------------------
    def selected_nodes(self) -> list[str]:
        """The nodes the command runs (worked out once)."""
        if self._selected is None:
            self._selected = self._select()
        return list(self._selected)

    def _select(self) -> list[str]:
        kinds = set(EXECUTABLE[self.options.command])
        if self.options.resource_types and not {"all", "default"} & set(self.options.resource_types):
            kinds &= set(self.options.resource_types)
        kinds -= set(self.options.exclude_resource_types)
        if self.options.unique_ids is not None:
            chosen = set(self.options.unique_ids)
        else:
            chosen = self.context.select(
                self.options.select,
                self.options.exclude,
                selector=self.options.selector,
                indirect=self.options.indirect_selection,
            )
        manifest = self.context.manifest
        kind_of, ephemeral = field_map(manifest.nodes, "kind"), field_map(manifest.nodes, "ephemeral")
        picked = [uid for uid in chosen if kind_of.get(uid) in kinds and uid not in ephemeral]
        if kinds & NO_OP_TYPES:  # exposures and saved queries are not among the manifest's nodes
            resources = (self.node(uid) for uid in chosen if uid not in kind_of)
            picked += [n.unique_id for n in resources if n is not None and n.resource_type in kinds]
        return sorted(picked)

    def look_ahead(self) -> None:
        """Read what the run will need before it starts (the fingerprints recorded, and the relations' states
        --skip-unchanged compares, which the database tells) on a thread of its own while the caller checks
        the selected nodes; nothing is written. :meth:`execute` waits for it, and :meth:`settle` when the
        run does not start."""
        if self.options.command != "compile" and self._ahead is None:
            nodes = [self.node(uid) for uid in self.selected_nodes()]
            self._ahead = Background(lambda: self._read_ahead(nodes), "look-ahead")

    def _read_ahead(self, nodes: list[Node]) -> None:
        self.build_state = self._build_state(nodes)

    def settle(self) -> None:
        """Wait for :meth:`look_ahead`'s reading when the run does not start; its error (the run's to
        report) is left unraised."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.error()

    def node(self, uid: str) -> Node | None:
        """The node ``uid`` names: one of the manifest's, or an exposure or saved query viewed as one (made
        once per run)."""
        node = self._nodes.get(uid)
        if node is None:
            node = self.context.manifest.run_node(uid)
            if node is not None:
                self._nodes[uid] = node
        return node

    def _parents(self, selected: Sequence[str]) -> dict[str, set[str]]:
        """Parents among the selection, looking through ephemeral models, and through the metrics and semantic
        models between a saved query or an exposure and the models they read."""
        manifest = self.context.manifest
        chosen = set(selected)
        result: dict[str, set[str]] = {}
        for uid in selected:
            found: set[str] = set()
            stack = list(self.node(uid).depends_on_nodes)
            seen: set[str] = set()
            while stack:
                parent = stack.pop()
                if parent in seen:
                    continue
                seen.add(parent)
                if parent in chosen:
                    found.add(parent)
                elif parent in manifest.nodes:
                    if manifest.nodes[parent].is_ephemeral:
                        stack.extend(manifest.nodes[parent].depends_on_nodes)
                elif (resource := manifest.resource(parent)) is not None:
                    stack.extend(resource["depends_on"]["nodes"])
            result[uid] = found
        return result

    # -- execution -----------------------------------------------------------
    def _next_index(self) -> int:
        with self._lock:
            self._index += 1
            return self._index

    def execute(self) -> RunResult:
        context = self.context
        run = RunResult(command=self.options.command, started_at=now())
        selected = self.selected_nodes()
        context.invocation.selected_resources = tuple(selected)  # `selected_resources` in templates
        self.total = len(selected)
        started = time.perf_counter()
        if not selected:
            run.elapsed_time = time.perf_counter() - started
            return run
        if self.options.command != "compile":
            adapter = context.adapter
            nodes = [self.node(uid) for uid in selected]
            ahead, self._ahead = self._ahead, None
            if ahead is not None:
                ahead.wait()
            for database, schema in sorted({(n.database, n.schema) for n in nodes if n.relation_name is not None}):  # type: ignore[type-var]
                adapter.create_schema(database, schema)
            if ahead is None:
                self.build_state = self._build_state(nodes)
        parents = self._parents(selected)
        if self.options.command == "clone":  # as dbt: each node on its own, none waits for (or skips) another
            parents = {uid: set() for uid in selected}
        levels = context.graph.levels
        if self.options.command == "build":  # tests gate their node's children; unit tests run before it
            parents, levels = build_dag(context.manifest, context.graph, parents, self._nodes)
        threads = self.options.threads or context.target.threads
        hooks = self.options.command in PROJECT_HOOK_COMMANDS

        def order(uid: str) -> tuple[int, str]:  # the scheduler's order, which the test batches follow
            return (levels.get(uid, 0), uid)

        plan = RunPlan(tuple(selected), parents, order, threads, {uid: self.node(uid) for uid in selected})
        for executor in dict.fromkeys(self.executors.values()):
            executor.prepare(context, plan)
        start: list[NodeResult] = []
        try:
            start = run_project_hooks(context, self.reporter, "on-run-start", selected=selected) if hooks else []
            # a failed on-run-start hook skips every node under dbt's behavior flag (off by default)
            if any(r.is_error for r in start) and context.project.flags.get("skip_nodes_if_on_run_start_fails"):
                run.results = start + [self._skip(uid, "on-run-start") for uid in selected]
            else:
                run.results = start + run_dag(
                    parents,
                    self._execute_node,
                    threads=threads,
                    order=order,
                    on_skip=self._skip,
                    fail_fast=self.options.fail_fast,
                    on_interrupt=self._interrupt,
                    here=self._left_as_is if self.build_state is not None and self.build_state.mode else None,
                )
            if hooks:
                done = [r for r in run.results if not r.unique_id.startswith("operation.")]
                run.results += run_project_hooks(context, self.reporter, "on-run-end", done, selected)
        except KeyboardInterrupt as exc:
            run.interrupted = True
            if not run.results:  # the nodes that finished before Ctrl-C are reported (and in run_results.json)
                run.results = start + list(getattr(exc, "results", []))
        context.compiler.flush()  # compiled files are on disk when the run ends
        if self.build_state is not None:
            self.build_state.save(context.opened())
        run.elapsed_time = time.perf_counter() - started
        return run

    def _build_state(self, nodes: list[Node]) -> BuildState | None:
        """The fingerprints of what ``run``/``build``/``seed`` build (recorded always, used to skip on request)."""
        options = self.options
        if options.command not in ("run", "build", "seed") or self.context.invocation.empty:
            return None
        context = self.context
        mode = None if options.full_refresh else options.skip_unchanged
        state = BuildState(context.project.target_dir, target_key(context.target), context.manifest, mode)
        state.load_relation_states(context.adapter, nodes)
        context.compiler.track_inputs = True  # what each model's SQL is made from, for the next run
        return state

    def _left_as_is(self, uid: str) -> NodeResult | None:
        """A model or snapshot that --skip-unchanged leaves as it is, known from what was recorded (nothing to
        render): its NO-OP result, made by the worker that takes it; None for any other node."""
        state = self.build_state
        node = self.node(uid)
        if state is None or node.resource_type not in ("model", "snapshot") or node.resource_type in self.executors:
            return None
        if not self._made_as_before(node, state):
            return None
        return self._execute_node(uid, unchanged=True)

    def _interrupt(self) -> None:
        """Cancel the statements the worker threads are running (their units of work roll back)."""
        adapter = self.context.opened()
        if adapter is not None:
            adapter.interrupt()

    def _skip(self, uid: str, cause: str) -> NodeResult:
        node = self.node(uid)
        index = self._next_index()
        result = NodeResult(
            uid, "skipped", message=None, thread_id=threading.current_thread().name, relation_name=node.relation_name
        )
        result.compilable = not isinstance(node, ResourceNode)
        self.reporter.result(index, self.total, node, result)
        return result

    def _execute_node(self, uid: str, unchanged: bool = False) -> NodeResult:
        """Run one node; ``unchanged``: :meth:`_left_as_is` found it unchanged (its NO-OP result is made
        without working that out again)."""
        node = self.node(uid)
        index = self._next_index()
        self.reporter.start(index, self.total, node)
        thread = threading.current_thread().name  # the scheduler's worker, named as dbt's
        result = NodeResult(uid, "success", thread_id=thread, relation_name=node.relation_name)
        start = time.perf_counter()
        t0 = now()
        try:
            executor = self.executors.get(node.resource_type)
            if executor is not None:
                executor.execute(self, node, result)
            else:
                self._compile_and_materialize(node, result, t0, unchanged)
        except ModelkitError as exc:
            result.status = "error"
            result.error = exc
            result.message = error_message(node, exc, result.compiled_path)
        except Exception as exc:  # noqa: BLE001 - an unexpected failure is still this node's error
            result.status = "error"
            result.error = exc
            result.message = f"Internal error in {node.resource_type} {node.name}: {type(exc).__name__}: {exc}"
        if result.status == "warn" and self.context.warning_is_error("LogTestResult"):  # --warn-error: dbt fails it
            result.status = "fail"
            result.message = (result.message or "").replace("configured to warn if", "configured to fail if")
        # an executor sharing one statement's time among several nodes sets its own share
        result.execution_time = result.execution_time or (time.perf_counter() - start)
        self.reporter.result(index, self.total, node, result)
        return result

    def compile(self, node: Node, result: NodeResult) -> str:
        """The node's SQL, written under target/compiled/ and recorded in ``result``."""
        context = self.context
        window = self.options.sample if node.resource_type in ("model", "snapshot") else None
        sql = context.compiler.compile(node, event_time=window)
        result.compiled_code = sql
        path = context.compiler.write(node, sql, context.project.target_dir)
        result.compiled_path = display_path(path, context.project.root)
        return sql

    def _compile_and_materialize(self, node: Node, result: NodeResult, t0: Any, unchanged: bool = False) -> None:
        context = self.context
        state = self.build_state if node.resource_type in ("model", "seed", "snapshot") else None
        if state is not None and node.resource_type != "seed":
            if unchanged or self._made_as_before(node, state):  # not rendered again
                state.skipped(node)
                result.status, result.message, result.adapter_response, result.failures = "no-op", "NO-OP", {}, 0
                result.timing.clear()
                return
        sql = self.compile(node, result) if node.resource_type != "seed" else ""
        t1 = now()
        result.timing.append(timing("compile", t0, t1))
        made_from = None
        if state is not None and node.resource_type != "seed":
            made_from = state.made_from(
                node, sql_hash(sql), context.renderer, context.compiler.inputs.get(node.unique_id)
            )
        fingerprint = state.fingerprint(node, sql_hash(sql), context.adapter) if state is not None else ""
        if self.options.command == "compile" or node.resource_type == "analysis":
            result.message = None
        elif state is not None and state.unchanged(node, fingerprint):
            state.skipped(node, made_from)  # dbt's no-op result
            result.status, result.message, result.adapter_response, result.failures = "no-op", "NO-OP", {}, 0
            result.timing.clear()
            return
        else:
            schema = None
            if (node.config.get("contract") or {}).get("enforced") and node.resource_type == "model":
                types = declared_types(node, lambda text: context.compiler.data_type(node, text))
                sql = enforce_contract(node, sql, context.adapter, types)
                if node.materialized in ("table", "incremental"):  # the tables it builds declare the contract
                    schema = table_schema(node, context.adapter, self._warn, types)
            response = self._materialize(node, sql, schema)
            self._grants_unsupported(node)
            result.message = response.message
            result.adapter_response = {"_message": response.message}
            if response.rows_affected is not None and node.resource_type == "seed":
                result.adapter_response.update(code="INSERT", rows_affected=response.rows_affected)
            if state is not None:
                state.record(node, fingerprint, made_from)
        result.timing.append(timing("execute", t1, now()))

    def _made_as_before(self, node: Node, state: BuildState) -> bool:
        """Whether ``node`` would be made from the same inputs as its relation was, which is unchanged."""
        context = self.context
        known = state.reusable_sql(node, context.renderer, context.compiler.recorded_sql)
        return known is not None and state.unchanged(node, state.fingerprint(node, known, context.adapter))

    def _grants_unsupported(self, node: Node) -> None:
        """An engine without grants says so once per command when a node it builds asks for some (dbt's warn_once)."""
        message = self.context.adapter.grants_unsupported
        if message and node.config.get("grants") and not node.is_ephemeral:
            with self._lock:
                if self._grants_warned:
                    return
                self._grants_warned = True
            self.reporter.log(message)

    def _warn(self, message: str) -> None:
        self.reporter.log(f"[WARNING]: {message}")

    def _materialize(self, node: Node, sql: str, schema: TableSchema | None = None) -> QueryResult:
        """A project's or package's Jinja materialization if one is named so, else the built-in one."""
        context = self.context
        macro = None
        if node.resource_type in ("model", "snapshot"):
            macro = find_materialization(context.renderer.registry, node.materialized, context.target.type)
        if macro is not None:  # the materialization runs the node's hooks itself (run_hooks)
            return run_materialization(
                context.renderer, node, sql, macro, lambda key, inside: self._run_hooks(node, key, inside=inside)
            )
        self._run_hooks(node, "pre-hook")  # hooks with transaction: false; the others run inside
        response = materialize(
            Build(
                node,
                sql,
                context.adapter,
                self._full_refresh(node),
                hooks=lambda key: self._run_hooks(node, key, inside=True),
                log=self.reporter.log,
                macros=NodeMacros(context.renderer, node),
                compile_window=lambda window: context.compiler.compile(node, event_time=window),
                # as dbt: under --sample a microbatch model builds the sample's windows
                event_time_start=self.options.sample[0] if self.options.sample else self.options.event_time_start,
                event_time_end=self.options.sample[1] if self.options.sample else self.options.event_time_end,
                schema=schema,
                data_type=lambda text: context.compiler.data_type(node, text),
                seed_types=lambda: context.compiler.seed_types(node),
            )
        )
        self._run_hooks(node, "post-hook")
        return response

    def _full_refresh(self, node: Node) -> bool:
        value = node.config.get("full_refresh")
        return bool(self.options.full_refresh if value is None else value)

    def _run_hooks(self, node: Node, key: str, inside: bool = False) -> None:
        run_node_hooks(self.context, node, key, inside=inside)
