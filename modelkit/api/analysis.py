"""Static analysis for a session: which nodes, their compiled SQL, the report.

``compile`` analyses what it compiles, as it compiles it; ``run`` and ``build`` compile the selected
models first and analyse them before the first one is built. Either way the models and snapshots
the selection reads are analysed too (silently), so that the selection sees their columns.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from modelkit.analysis.cache import AnalysisCache
from modelkit.analysis.findings import NotAnalysed
from modelkit.analysis.pipeline import EarlyWorker, Pipeline
from modelkit.analysis.relations import Relations, project_relations
from modelkit.analysis.seedshapes import SeedShapes
from modelkit.analysis.shapes import Shape
from modelkit.analysis.static import AnalysisReport, StaticAnalysis, analysis_order, known_shapes
from modelkit.api.session import Session
from modelkit.core import settings
from modelkit.core.errors import StatementRefused, StaticAnalysisError
from modelkit.core.manifest import Node
from modelkit.core.results import NodeResult
from modelkit.execute.fingerprints import BuildState, target_key

ANALYSED_COMMANDS = ("compile", "run", "build")
ANALYSED = ("model", "snapshot", "analysis")
# What a template may ask of the database while it is compiled for the analysis: reading metadata.
READS = frozenset(
    {"info", "quote", "get_relation", "list_relations", "list_schemas", "get_columns", "describe_query",
     "get_catalog", "describe_csv", "limit_sql", "max_loaded_at"}
)  # fmt: skip
INTROSPECTIVE = (
    "its template runs statements on the database (run_query, statement, adapter calls), which only the run may do"
)


class ReadOnlyAdapter:
    """The adapter as templates see it while nodes are compiled ahead of a run: metadata reads pass,
    anything that runs a statement (run_query, statement, adapter.drop_relation...) is refused, so
    that compiling for the analysis changes nothing."""

    def __init__(self, adapter: Any) -> None:
        self._adapter = adapter

    def get_columns(self, relation: Any) -> Any:
        """A relation's columns; none (it is not built yet) leaves the template unanalysed: what it
        compiles to once the relation exists is not known."""
        found = self._adapter.get_columns(relation)
        if not found:
            raise StatementRefused(f"the columns of {relation} are read, and it does not exist yet")
        return found

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._adapter, name)
        if not callable(value) or name in READS or name.startswith(("get_", "list_", "check_", "describe_")):
            return value

        def refused(*args: Any, **kwargs: Any) -> Any:
            raise StatementRefused(f"adapter.{name} is not run while the SQL is compiled for static analysis")

        return refused


@contextmanager
def read_only(session: Session) -> Iterator[None]:
    """Templates compiled in this block may read the database's metadata, and change nothing (the
    connection still opens only when a template first needs it)."""
    renderer = session.renderer
    connect = renderer.connect
    opened = session.open_adapter
    invocation = session.invocation
    log, warn = invocation.log, invocation.warn
    renderer.adapter = ReadOnlyAdapter(opened) if opened is not None else None  # type: ignore[assignment]
    renderer.connect = lambda: ReadOnlyAdapter(session.adapter)  # type: ignore[assignment, return-value]
    # what templates log (log(), exceptions.warn()) shows once, when the node is compiled to run
    invocation.log = invocation.warn = _quiet
    try:
        yield
    finally:
        renderer.connect = connect
        renderer.adapter = session.open_adapter
        invocation.log, invocation.warn = log, warn


def _quiet(message: str) -> None:
    return None


def relations_of(session: Session) -> Relations:
    """The project's relations; with ``--defer``, the state's relations that refs may read as well."""
    target = session.target
    project = session.project
    seeds = SeedShapes(project.target_dir)
    relations = project_relations(
        session.manifest, target.type, target.database or "", target.schema or "", project.root, seeds
    )
    defer = session.renderer.defer
    if defer is not None:  # a ref() may read the state's relation instead of the target's
        for uid, relation in defer.relations.items():
            if uid in session.manifest.nodes:
                relations.add_alias(relations.key(relation.database, relation.schema, relation.identifier), uid)
    return relations


def recorded_sql(session: Session) -> Callable[[Node], str | None] | None:
    """The hash of a model's compiled SQL as the last build recorded it, for the models whose SQL would be
    made from the same inputs now (see :meth:`BuildState.reusable_sql`): their analysis is then found in
    the cache without rendering them. None when nothing is recorded (or the SQL is not what a build
    makes: ``--empty``)."""
    if session.invocation.empty:
        return None
    state = BuildState(session.project.target_dir, target_key(session.target), session.manifest, "true")
    if not state.records:
        return None
    renderer = session.renderer
    answers = session.compiler.recorded_sql  # the run asks too

    def known(node: Node) -> str | None:
        return state.reusable_sql(node, renderer, answers) if node.resource_type == "model" else None

    return known


def start_analysis(
    session: Session,
    selected: Iterable[str],
    *,
    produced: Collection[str] = (),
    relations: Relations | None = None,
    report: bool = True,
    worker: bool | None = None,
    known: Callable[[Node], str | None] | None = None,
    early: EarlyWorker | None = None,
    before_run: bool = False,
) -> Pipeline | None:
    """An analysis of the selected nodes (and what they read), fed by whoever compiles ``produced``;
    None when none of them is analysed. ``known``: a model's SQL hash without compiling it (see
    :func:`recorded_sql`); ``early``: a worker process started before (the caller closes it in the end:
    nothing happens when the analysis took it). ``before_run``: nothing has run since the dialect check
    compiled the nodes, whose SQL is then reused where its render was pure (see
    :meth:`Compiler.compile_checked`)."""
    manifest = session.manifest
    chosen = [uid for uid in selected if uid in manifest.nodes and manifest.nodes[uid].resource_type in ANALYSED]
    if not chosen:
        return None
    relations = relations if relations is not None else relations_of(session)
    order = analysis_order(manifest, chosen, session.graph.levels)
    report_for: set[str] = set()
    if report:
        report_for = set(chosen) | {uid for uid in order if manifest.nodes[uid].is_ephemeral}
    compiler = session.compiler

    def sql_of(node: Node) -> str | None:
        try:
            if node.is_ephemeral:
                return compiler.body(node)
            return compiler.compile_checked(node) if before_run else compiler.compile(node)
        except StatementRefused:
            raise NotAnalysed(INTROSPECTIVE) from None

    override = settings.resolve("static_analysis", None, session.project.flags)
    cache = AnalysisCache(session.project.target_dir, relations)
    analysis = StaticAnalysis(
        manifest, relations, root=session.project.root, override=override, cache=cache, known=known
    )
    members = set(order)
    handed = {uid for uid in produced if uid in members}
    # what the caller does not compile is compiled in finish(), in the caller's thread (under read_only),
    # except ephemeral models: compiling a model compiles them anyway
    later = [uid for uid in order if uid not in handed and not manifest.nodes[uid].is_ephemeral] if handed else []
    return Pipeline(analysis, order, report_for, sql_of, produced=handed, later=later, worker=worker, early=early)


class Feed:
    """A runner's reporter that also hands each node's compiled SQL to an analysis."""

    def __init__(self, reporter: Any) -> None:
        self.reporter = reporter
        self.pipeline: Pipeline | None = None

    def start(self, index: int, total: int, node: Node) -> None:
        if self.reporter is not None:
            self.reporter.start(index, total, node)

    def result(self, index: int, total: int, node: Node, result: NodeResult) -> None:
        if self.reporter is not None:
            self.reporter.result(index, total, node, result)
        if self.pipeline is not None and result.compiled_code is not None and not result.is_error:
            self.pipeline.compiled(node.unique_id, result.compiled_code)

    def log(self, message: str) -> None:
        if self.reporter is not None:
            self.reporter.log(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reporter, name)


def check_before_run(
    session: Session, command: str, selected: Iterable[str], early: EarlyWorker | None = None
) -> AnalysisReport | None:
    """The report of a command that analyses before it runs (None for the others)."""
    if command not in ANALYSED_COMMANDS:
        return None
    with read_only(session):
        pipeline = start_analysis(session, selected, known=recorded_sql(session), early=early, before_run=True)
        return pipeline.finish() if pipeline is not None else None


def early_worker(session: Session, command: str, busy: int = 0) -> EarlyWorker | None:
    """For a command that analyses nodes, a worker process started now (before the project is parsed,
    when a core is spare and the analysis is not turned off for the whole command), importing sqlglot
    and the target's dialect while this process parses and compiles. A selection mostly picks a few
    nodes: the worker then checks them all and this process never imports sqlglot. ``busy``: the cores
    the command keeps busy besides its own thread (a connection opening early takes the spare one)."""
    if command not in ANALYSED_COMMANDS:
        return None
    if settings.resolve("static_analysis", None, session.project.flags) == "off":
        return None
    return EarlyWorker(session.target.type, busy)


# The name --warn-error-options knows static analysis warnings by (--warn-error promotes them all).
WARNING_EVENT = "StaticAnalysisWarning"


def with_warn_error(session: Session, report: AnalysisReport | None) -> AnalysisReport | None:
    """``report`` with its warnings made errors when --warn-error (or its options) says so."""
    if report is None or not session.warning_is_error(WARNING_EVENT):
        return report
    promoted = [replace(d, severity="error") if d.severity == "warn" else d for d in report.diagnostics]
    return replace(report, diagnostics=promoted)


def raise_errors(report: AnalysisReport | None) -> None:
    if report is not None and report.errors:
        raise StaticAnalysisError([d.error() for d in report.errors])


def static_shapes(session: Session, nodes: Iterable[str], relations: Relations | None = None) -> dict[str, Shape]:
    """The columns nodes (and what they read) are known to have before anything runs, by unique_id."""
    relations = relations if relations is not None else relations_of(session)
    compiler = session.compiler

    def sql_of(node: Node) -> str | None:
        if node.is_ephemeral:
            return compiler.body(node)
        return compiler.compiled.get(node.unique_id) or compiler.compile(node)

    with read_only(session):
        return known_shapes(
            session.manifest, relations, list(nodes), session.graph.levels, sql_of, root=session.project.root
        )
