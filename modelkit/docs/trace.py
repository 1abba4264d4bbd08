"""Compiling the selected nodes and tracing their column lineage, overlapped.

While the catalog is read (on a thread: the database lets go of the GIL), nodes compile in dependency
order. Then the nodes the database does not have (ephemeral or not built yet) come first, in order:
their output columns, read from their SQL, are what their children read. That chain runs on one worker
process (analysis/lineage_chain.py) while the rest compiles. Then every other node is handed to lineage
worker processes (analysis/lineage_pool.py), which work while the next one compiles.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from modelkit.analysis import lineage_chain
from modelkit.analysis.lineage import PARALLEL_THRESHOLD, Job, LineageContext, NodeLineage, analyse, default_workers
from modelkit.analysis.lineage_cache import LineageCache
from modelkit.analysis.lineage_chain import ChainRunner, Record
from modelkit.analysis.lineage_pool import LineagePool, analyse_many
from modelkit.analysis.queryshapes import ShapeCache, shape_of
from modelkit.api.session import Session
from modelkit.core.errors import DatabaseError
from modelkit.core.manifest import Node
from modelkit.core.results import NodeResult, now
from modelkit.docs.catalog import CatalogEntry, relation_keys
from modelkit.execute.runplan import EXECUTABLE

ANALYSED_TYPES = ("model", "snapshot", "analysis")


@dataclass
class Traced:
    compiled: dict[str, str] = field(default_factory=dict)
    lineage: dict[str, NodeLineage] = field(default_factory=dict)
    derived_columns: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # not in the catalog
    compiled_from: str = "compile"  # "compile", "target/compiled" (--no-compile) or "none"
    compile_seconds: float = 0.0
    results: list[NodeResult] = field(default_factory=list)  # one per node compiled, as `compile` reports them


def lineage_context(session: Session, catalog: dict[str, CatalogEntry]) -> LineageContext:
    """Every relation of the project, with its columns where the catalog has them."""
    manifest = session.manifest
    target = session.target
    ctx = LineageContext(target.type, target.database or "", target.schema or "")
    for key, uids in relation_keys(manifest, [*manifest.nodes, *manifest.sources]).items():
        for uid in uids:
            entry = catalog.get(uid)
            ctx.add_relation(key, uid, entry.column_types() if entry else None)
    return ctx


def compile_and_trace(
    session: Session,
    selected: set[str],
    catalog: dict[str, CatalogEntry] | Future[dict[str, CatalogEntry]],
    *,
    compile: bool = True,
    workers: int | None = None,
    cache_dir: Path | None = None,
    meanwhile: Callable[[Traced], None] | None = None,
) -> Traced:
    """Compile (or, without ``compile``, read what the last compile left in target/compiled/) and trace.

    ``catalog`` may still be on its way (a future): nodes are compiled meanwhile, and traced once it is in.
    ``meanwhile`` is called once, as soon as every node is compiled (``compiled`` complete, ``lineage``
    not yet): while worker processes trace, this one does what needs no lineage.
    """
    manifest = session.manifest
    levels = session.graph.levels
    kinds = EXECUTABLE["compile"]
    order = sorted(
        (uid for uid in selected if uid in manifest.nodes and manifest.nodes[uid].resource_type in kinds),
        key=lambda uid: (levels.get(uid, 0), uid),
    )
    traced = Traced(compiled_from="compile" if compile else "none")
    pending = [meanwhile] if meanwhile is not None else []

    def all_compiled() -> None:
        if pending:
            pending.pop()(traced)

    project_root = session.project.root
    root = os.path.join(str(project_root), "")  # compiled paths are shown relative to it
    target_dir = session.project.target_dir
    early: dict[str, str | None] = {}  # compiled while the catalog was read

    def sql_of(node: Node) -> str | None:
        if node.unique_id in early:
            return early.pop(node.unique_id)
        start = time.perf_counter()
        if compile:
            t0 = now()
            sql = session.compiler.body(node) if node.is_ephemeral else session.compiler.compile(node)
            if not node.is_ephemeral:
                path = str(session.compiler.write(node, sql, target_dir))
                if path.startswith(root):  # relative to the project, without pathlib (thousands of nodes)
                    shown = path[len(root) :].replace(os.sep, "/")
                else:
                    shown = Path(path).relative_to(project_root).as_posix()
                _record(traced, node, sql, shown, t0, start)
        else:
            path = target_dir / "compiled" / node.package_name / node.original_file_path
            sql = path.read_text(encoding="utf-8") if not node.is_ephemeral and path.is_file() else None
            if sql is not None:
                traced.compiled_from = "target/compiled"
        traced.compile_seconds += time.perf_counter() - start
        if sql is not None:
            traced.compiled[node.unique_id] = sql
        return sql

    workers = default_workers() if workers is None else workers
    analysed = [uid for uid in order if manifest.nodes[uid].resource_type in ANALYSED_TYPES]
    spare = None  # a chain worker started while the catalog is read, in case the database lacks many nodes
    if isinstance(catalog, Future):
        if workers >= 2 and len(analysed) >= max(PARALLEL_THRESHOLD, 1):
            spare = lineage_chain.spawn()
        try:
            for uid in order:
                if catalog.done():
                    break
                early[uid] = sql_of(manifest.nodes[uid])
            catalog = catalog.result()
        except BaseException:
            if spare is not None:
                lineage_chain.dismiss(spare, kill=True)
            raise
    ctx = lineage_context(session, catalog)
    shapes = ShapeCache()  # queries that differ only in the relations they read are analysed once
    cache = LineageCache(cache_dir, ctx) if cache_dir is not None else None
    jobs: list[Job] = []

    unbuilt = [uid for uid in order if uid not in catalog]
    chained = sum(1 for uid in analysed if uid not in catalog)
    # the nodes the database lacks, one after the other, on a worker process while this one compiles
    chain = ChainRunner(
        ctx,
        cache,
        shapes,
        worker=workers >= 2 and chained >= max(PARALLEL_THRESHOLD, 1),
        cache_dir=cache_dir,
        process=spare,
    )
    try:
        untraced: list[Node] = []  # (tests, ...) compiled once the chain has every link: it waits for none
        for uid in unbuilt:
            node = manifest.nodes[uid]
            if node.resource_type not in ANALYSED_TYPES:
                untraced.append(node)
                continue
            sql = sql_of(node)
            if sql is None:
                continue
            jobs.append((uid, sql, node.depends_on_nodes))
            chain.add((uid, sql, node.depends_on_nodes, _record_of(session, ctx, node, sql)))
        chain.send()
        for node in untraced:
            sql_of(node)
        rest = [uid for uid in order if uid in catalog]
        if chain.links:  # what the rest reads is known once the chain is done: compile it meanwhile
            for uid in rest:
                early[uid] = sql_of(manifest.nodes[uid])
            if chain.process is not None:
                all_compiled()
    except BaseException:
        chain.cancel()
        raise
    done = chain.finish()
    for uid, (found, columns) in done.found.items():
        traced.lineage[uid] = found
        traced.derived_columns[uid] = columns

    # while this process compiles, one worker per other core; afterwards this process helps too (started
    # with the first query to analyse: every other one may come from the cache)
    pooled = workers >= 2 and len(rest) >= PARALLEL_THRESHOLD
    pool: LineagePool | None = None
    missing: list[Job] = []
    waiting: dict[object, list[Job]] = {}  # query shape -> later queries of it, waiting for the first one
    try:
        for uid in rest:
            node = manifest.nodes[uid]
            sql = sql_of(node)
            if sql is None or node.resource_type not in ANALYSED_TYPES:
                continue
            job = (uid, sql, node.depends_on_nodes)
            jobs.append(job)
            hit = cache.get(job) if cache is not None else None
            if hit is not None:
                traced.lineage[uid] = hit
                continue
            shape = shape_of(ctx, sql)
            if shape is not None:
                if shape[0] in waiting:
                    waiting[shape[0]].append(job)
                    continue
                waiting[shape[0]] = []
            missing.append(job)
            if pooled:
                if pool is None:
                    pool = LineagePool(ctx, workers - 1)
                pool.submit(job)
        if pool is not None:
            all_compiled()
    except BaseException:
        if pool is not None:
            pool.cancel()
        raise
    if pool is not None:
        fresh = pool.results()
    else:
        fresh = {uid: analyse(ctx, sql, parents) for uid, sql, parents in missing}
    for uid, sql, _parents in missing:
        shapes.put(ctx, sql, fresh[uid])
    alone: list[Job] = []  # of a shape whose first query left columns unresolved: analysed themselves
    for job in (job for later in waiting.values() for job in later):
        moved = shapes.reuse(ctx, job[1], job[2])
        if moved is None:
            alone.append(job)
        else:
            fresh[job[0]] = moved
    fresh.update(analyse_many(ctx, alone, workers))
    missing += [job for later in waiting.values() for job in later]
    traced.lineage.update(fresh)
    if cache is not None:
        for job in missing:
            cache.put(job, fresh[job[0]])
        cache.save(jobs)
    # in the order they are traced, whenever they were compiled (run_results.json lists them so)
    all_compiled()
    rank = {uid: i for i, uid in enumerate([*unbuilt, *rest])}
    traced.results.sort(key=lambda r: rank[r.unique_id])
    traced.compiled = {uid: traced.compiled[uid] for uid in sorted(traced.compiled, key=rank.__getitem__)}
    return traced


def _record_of(session: Session, ctx: LineageContext, node: Node, sql: str) -> Record:
    """How a node the database lacks is recorded for its children (see lineage_chain)."""
    if node.is_ephemeral:
        return ("ephemeral", node.relation.identifier, _described(session, sql) or None)
    if node.resource_type != "analysis":
        return ("relation", ctx.key(node.database, node.schema, node.alias or node.name))
    return ("none",)


def _record(traced: Traced, node: Node, sql: str, path: str, t0: object, start: float) -> None:
    """The node's entry of run_results.json, as ``compile`` writes it."""
    stamps = [t.isoformat().replace("+00:00", "Z") for t in (t0, now())]  # type: ignore[attr-defined]
    timing = [{"name": name, "started_at": stamps[0], "completed_at": stamps[1]} for name in ("compile", "execute")]
    traced.results.append(
        NodeResult(
            node.unique_id,
            "success",
            execution_time=time.perf_counter() - start,
            timing=timing,
            compiled_code=sql,
            compiled_path=path,
            relation_name=node.relation_name,
        )
    )


def _described(session: Session, sql: str) -> list[tuple[str, str | None]]:
    """Column names and types of a query, as the database binds it ([] when it cannot)."""
    try:
        return [(c.name, c.data_type) for c in session.adapter.describe_query(sql)]
    except DatabaseError:
        return []
