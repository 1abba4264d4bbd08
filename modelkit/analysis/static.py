"""Static analysis of a project's compiled SQL, in dependency order, before anything runs.

Each analysed node's compiled query is checked (:mod:`modelkit.analysis.checks`) against the shapes of
the relations it reads: seeds, sources and contracts as declared, upstream models as this analysis
found them. ``static_analysis`` (a model config, set in dbt_project.yml, a properties file or
``config()``; or ``--static-analysis`` for every node) decides how loud each finding is:

==========================  ======  ======
finding                     on      strict
==========================  ======  ======
unknown column              error   error
not a declared source column  warn  error
ambiguous column            error   error
column of unknown relation  —       error
unknown relation            warn    error
relation read without ref   warn    warn
``*`` of unknown relation   info    error
incompatible comparison     warn    warn
set operation arity         warn    warn
not analysed                info    error
not compiled                —       error
==========================  ======  ======

``off`` skips the node; its children then read a relation of unknown columns. Nothing here raises
for the SQL it reads: a failure of the analysis itself leaves the node "not analysed".

A node goes through three steps: :meth:`StaticAnalysis.begin` (its mode, the cache), the check itself
(here or on a worker process, see :mod:`modelkit.analysis.pipeline`), and :meth:`StaticAnalysis.end`
(its columns recorded for its children, its findings reported), always in dependency order.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelkit.analysis import checks, findings
from modelkit.analysis.cache import AnalysisCache
from modelkit.analysis.relations import Key, Relations, label, relation_key
from modelkit.analysis.shapes import UNKNOWN, Shape, contract_shape
from modelkit.analysis.sourcemap import SourceMap
from modelkit.core.errors import CompilationError, ModelkitError, ProjectError
from modelkit.core.manifest import Manifest, Node

MODES = ("strict", "on", "off")
ALIASES: dict[Any, str] = {"baseline": "on", "unsafe": "on", True: "on", False: "off"}  # Fusion's names; YAML's off
ANALYSED_TYPES = ("model", "snapshot", "analysis")
COMPLETE_MATERIALIZATIONS = ("view", "table", "ephemeral")  # relations that are exactly what their query returns
NOT_ANALYSED = "not_analysed"
NOT_COMPILED = "not_compiled"  # the command reports the compilation error itself, when it reaches the node

SEVERITY: dict[str, tuple[str | None, str | None]] = {  # code -> (under on, under strict)
    findings.UNKNOWN_COLUMN: ("warn", "error"),  # under on, a warning: a wrong guess must never stop a build
    findings.UNDECLARED_COLUMN: ("warn", "error"),
    findings.AMBIGUOUS_COLUMN: ("warn", "error"),
    findings.UNRESOLVED_COLUMN: (None, "error"),
    findings.UNKNOWN_RELATION: ("warn", "error"),
    findings.UNREFERENCED_RELATION: ("warn", "warn"),
    findings.STAR_UNKNOWN_SHAPE: ("info", "error"),
    findings.TYPE_MISMATCH: ("warn", "warn"),
    findings.SET_ARITY: ("warn", "warn"),
    NOT_ANALYSED: ("info", "error"),
    NOT_COMPILED: (None, "error"),
}
BROKEN = (
    findings.UNKNOWN_COLUMN,
    findings.AMBIGUOUS_COLUMN,
    findings.SET_ARITY,
)  # the query's own columns are in doubt
SNAPSHOT_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")

# What a worker needs to know of a node to record its columns: resource type, materialization,
# contract, snapshot column names.
Recipe = tuple[str, str, Shape | None, dict[str, str]]


@dataclass
class Diagnostic:
    severity: str  # error | warn | info
    code: str
    message: str
    unique_id: str
    node: str  # "model orders"
    path: str | None = None
    line: int | None = None
    source: str | None = None  # the file's text, for an excerpt
    detail: str | None = None  # what --debug shows (a traceback)

    @property
    def where(self) -> str:
        """``model orders (models/orders.sql:7)``"""
        if self.path is None:
            return self.node
        return f"{self.node} ({self.path}:{self.line})" if self.line else f"{self.node} ({self.path})"

    def error(self) -> CompilationError:
        return CompilationError(self.message, path=self.path, line=self.line, source=self.source, node=self.node)


@dataclass
class AnalysisReport:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)  # what each node analysed outputs
    analysed: int = 0
    cached: int = 0
    workers: int = 0
    on_worker: int = 0  # nodes the worker process checked
    seconds: float = 0.0

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def of(self, severity: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == severity]


@dataclass
class Job:
    """One node's query to check, with what the check needs."""

    unique_id: str
    sql: str
    parents: frozenset[str]
    self_key: Key | None
    recipe: Recipe


@dataclass
class Step:
    """A node on its way through the analysis."""

    node: Node
    mode: str
    reported: bool
    sql: str | None = None
    job: Job | None = None  # to be checked
    found: findings.QueryCheck | None = None  # checked (or from the cache)
    fresh: bool = False  # checked in this run (not from the cache)
    failure: tuple[str, str | None] | None = None  # not analysed: why, and the --debug detail
    failure_code: str = NOT_ANALYSED


def node_mode(node: Node, override: str | None = None) -> str:
    """A node's ``static_analysis``: ``override`` (the flag) if given, else its config, else ``on``."""
    value: Any = override if override is not None else node.config.get("static_analysis")
    if value is None:
        return "on"
    if isinstance(value, bool):
        return ALIASES[value]
    text = str(value).strip().lower()
    text = ALIASES.get(text, text)
    if text not in MODES:
        raise ProjectError(
            f"static_analysis must be one of strict, on, off; got {value!r}",
            path=node.original_file_path,
            node=label(node),
        )
    return text


def analysis_order(manifest: Manifest, selected: list[str], levels: dict[str, int]) -> list[str]:
    """The selected nodes that are analysed, and the models and snapshots they read (whose columns they
    need), in dependency order."""
    wanted: set[str] = set()
    stack = [uid for uid in selected if uid in manifest.nodes and manifest.nodes[uid].resource_type in ANALYSED_TYPES]
    while stack:
        uid = stack.pop()
        if uid in wanted:
            continue
        wanted.add(uid)
        for parent in manifest.nodes[uid].depends_on_nodes:
            node = manifest.nodes.get(parent)
            if node is not None and node.resource_type in ("model", "snapshot"):
                stack.append(parent)
    return sorted(wanted, key=lambda uid: (levels.get(uid, 0), uid))


def recipe_of(node: Node) -> Recipe:
    meta = {str(k): str(v) for k, v in (node.config.get("snapshot_meta_column_names") or {}).items() if v}
    return (node.resource_type, node.materialized, contract_shape(node), meta)


def settled_shape(recipe: Recipe, found: findings.QueryCheck | None) -> Shape:
    """The columns of a node's relation: its contract's, else its query's (not all of them known when
    the relation keeps columns of earlier runs, as incremental models and snapshots do, or when the
    query itself has errors)."""
    kind, materialized, contract, meta = recipe
    if contract is not None:
        return contract
    if found is None or not found.shape.known:
        return UNKNOWN
    shape = found.shape
    if kind == "snapshot":
        names = list(dict.fromkeys(shape.names))
        extra = [meta.get(c, c) for c in SNAPSHOT_COLUMNS]
        return Shape([*names, *extra], [*shape.types[: len(names)], *([None] * len(extra))], False, shape.declared)
    broken = any(f.code in BROKEN for f in found.findings)
    if broken or materialized not in COMPLETE_MATERIALIZATIONS:
        return Shape(shape.names, shape.types, False, shape.declared)
    return shape


def check(job: Job, relations: Relations) -> findings.QueryCheck:
    """Check one job's query; "not analysed" when it cannot be read (other failures raise)."""
    try:
        return checks.check_query(job.sql, relations, self_key=job.self_key, parents=job.parents)
    except findings.NotAnalysed as exc:
        return findings.QueryCheck([findings.Finding(NOT_ANALYSED, f"not analysed: {exc}")])


class StaticAnalysis:
    """The analysis of one command: each node begun and ended in dependency order."""

    def __init__(
        self,
        manifest: Manifest,
        relations: Relations,
        *,
        root: Path,
        override: str | None = None,
        cache: AnalysisCache | None = None,
        known: Callable[[Node], str | None] | None = None,
    ) -> None:
        self.manifest = manifest
        self.relations = relations
        self.root = root
        self.override = override
        self.cache = cache
        self.known = known  # a node's SQL hash (see AnalysisCache.get_hashed) when known without compiling it
        self.report = AnalysisReport()
        self.started = time.perf_counter()

    def modes(self, order: list[str]) -> dict[str, str]:
        """Every node's mode (a bad value is an error before anything is analysed)."""
        return {uid: node_mode(self.manifest.nodes[uid], self.override) for uid in order}

    def run(self, order: list[str], report_for: set[str], sql_of: Callable[[Node], str | None]) -> AnalysisReport:
        """Analyse in this process, node after node."""
        modes = self.modes(order)
        for uid in order:
            node = self.manifest.nodes[uid]
            step = self.begin(node, modes[uid], uid in report_for, sql_of)
            if step.job is not None:
                self.check_here(step)
            self.end(step)
        return self.close()

    # -- the steps ----------------------------------------------------------------------------
    def begin(self, node: Node, mode: str, reported: bool, sql_of: Callable[[Node], str | None]) -> Step:
        """The node's mode, its SQL and the cache: a job when it must be checked."""
        step = Step(node, mode, reported)
        if mode == "off" or node.language != "sql":
            self.settle(step)
            return step
        if self.cache is not None and self.known is not None and self.found_uncompiled(step):
            return step
        try:
            step.sql = sql_of(node)
        except findings.NotAnalysed as exc:
            step.failure = (f"not analysed: {exc}", None)
        except ModelkitError as exc:
            step.failure = (
                f"not analysed: it did not compile: {findings.first_line(Exception(exc.message))}",
                str(exc),
            )
            step.failure_code = NOT_COMPILED
        except Exception as exc:  # noqa: BLE001 - analysis never stops a command: the node is left unanalysed
            step.failure = failure(exc)
        if step.sql is None:
            self.settle(step)
            return step
        parents = frozenset(node.depends_on_nodes)
        analysed = node.is_ephemeral or node.resource_type == "analysis"
        self_key = None if analysed else relation_key(self.relations, node)
        if self.cache is not None:
            step.found = self.cache.get(node.unique_id, step.sql, parents, self_key)
        if step.found is not None:
            self.report.cached += 1
            self.settle(step)
            return step
        step.job = Job(node.unique_id, step.sql, parents, self_key, recipe_of(node))
        return step

    def found_uncompiled(self, step: Step) -> bool:
        """Whether the cache has the node's result under the SQL hash known without compiling it (and
        the result reports nothing: a finding's line is found in the SQL); the step is then settled."""
        assert self.cache is not None and self.known is not None
        node = step.node
        digest = self.known(node)
        if digest is None:
            return False
        analysed = node.is_ephemeral or node.resource_type == "analysis"
        self_key = None if analysed else relation_key(self.relations, node)
        found = self.cache.get_hashed(node.unique_id, digest, frozenset(node.depends_on_nodes), self_key)
        if found is None:
            return False
        index = 1 if step.mode == "strict" else 0
        if step.reported and any(SEVERITY.get(f.code, ("warn", "warn"))[index] for f in found.findings):
            return False
        step.found = found
        self.report.cached += 1
        self.settle(step)
        return True

    def check_here(self, step: Step) -> None:
        assert step.job is not None
        try:
            self.checked(step, check(step.job, self.relations))
        except Exception as exc:  # noqa: BLE001 - a failure of the analysis is not the model's
            step.failure = failure(exc)

    def checked(self, step: Step, found: findings.QueryCheck) -> None:
        step.found, step.fresh = found, True
        self.report.analysed += 1

    def end(self, step: Step) -> None:
        """Record the node's columns, keep its result, report its findings."""
        self.settle(step)
        found = step.found
        if step.fresh and found is not None and self.cache is not None and step.job is not None:
            job = step.job
            self.cache.put(job.unique_id, job.sql, job.parents, job.self_key, found)
        if not step.reported:
            return
        if step.failure is not None:
            message, detail = step.failure
            self.emit(step, None, [findings.Finding(step.failure_code, message)], detail)
        elif found is not None:
            self.emit(step, step.sql, found.findings)

    def close(self) -> AnalysisReport:
        if self.cache is not None:
            self.cache.save()
            if self.relations.seeds is not None:
                self.relations.seeds.save()
        self.report.seconds = time.perf_counter() - self.started
        return self.report

    def settle(self, step: Step) -> None:
        """Record the columns the node's relation will have, for the nodes that read it."""
        node = step.node
        shape = settled_shape(recipe_of(node), step.found if step.failure is None else None)
        self.report.shapes[node.unique_id] = shape
        if node.resource_type != "analysis":
            self.relations.set_shape(node.unique_id, shape)

    def emit(self, step: Step, sql: str | None, found: list[findings.Finding], detail: str | None = None) -> None:
        node = step.node
        source: str | None = None
        mapping: SourceMap | None = None
        seen: set[tuple[str, str, int | None]] = set()
        for finding in found:
            severity = SEVERITY.get(finding.code, ("warn", "warn"))[1 if step.mode == "strict" else 0]
            if severity is None or (finding.code, finding.message, finding.start) in seen:
                continue
            seen.add((finding.code, finding.message, finding.start))
            line = None
            if sql is not None and finding.start is not None:
                if mapping is None:
                    source = self.source_text(node)
                    mapping = SourceMap(source, sql)
                line = mapping.line(finding.start, finding.text)
            self.report.diagnostics.append(
                Diagnostic(
                    severity,
                    finding.code,
                    finding.message,
                    node.unique_id,
                    label(node),
                    node.original_file_path,
                    line,
                    source,
                    detail,
                )
            )

    def source_text(self, node: Node) -> str:
        """The node's file (its SQL lives there at some line), else its code."""
        path = Path(getattr(node, "root_path", "") or self.root) / node.original_file_path
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return node.raw_code
        return text if node.raw_code.strip() in text else node.raw_code


def failure(exc: BaseException) -> tuple[str, str]:
    """ "Not analysed" after the analysis itself failed, with the traceback for --debug."""
    message = f"not analysed: the analysis failed ({type(exc).__name__}: {findings.first_line(exc)})"
    return message, "".join(traceback.format_exception(exc))


def known_shapes(
    manifest: Manifest,
    relations: Relations,
    nodes: list[str],
    levels: dict[str, int],
    sql_of: Callable[[Node], str | None],
    *,
    root: Path,
) -> dict[str, Shape]:
    """The columns of the given nodes' relations before anything runs (and of what they read), by
    unique_id: seeds and sources as declared, models as their SQL says. Nothing is reported."""
    order = analysis_order(manifest, nodes, levels)
    analysis = StaticAnalysis(manifest, relations, root=root)
    modes = {uid: "on" for uid in order}  # columns are wanted even where the analysis is off
    for uid in order:
        step = analysis.begin(manifest.nodes[uid], modes[uid], False, sql_of)
        if step.job is not None:
            analysis.check_here(step)
        analysis.end(step)
    shapes = dict(analysis.report.shapes)
    for uid, key in relations.keys.items():
        shapes.setdefault(uid, relations.shapes.get(key, UNKNOWN))
    return shapes
