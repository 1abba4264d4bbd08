"""``modelkit docs generate``: compile, read the catalog, trace column lineage, write the site."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__, artifacts
from ..errors import DatabaseError, ModelkitError
from ..manifest import Manifest
from ..runner import Runner, RunOptions
from ..session import Session
from . import content, site
from .catalog import CatalogEntry, catalog_dict, read_catalog, relation_keys
from .descriptions import DescriptionRenderer, resolve_manifest_descriptions, yaml_path
from .lineage import UNRESOLVED, Job, LineageContext, NodeLineage, analyse, analyse_many
from .lineage_cache import LineageCache
from .testinfo import collect_tests, load_run_results

ANALYSED_TYPES = ("model", "snapshot", "analysis")
_MADE_UP = re.compile(r"_col_\d+")


@dataclass(frozen=True)
class GenerateOptions:
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    compile: bool = True
    empty_catalog: bool = False
    threads: int | None = None
    workers: int | None = None  # processes for column lineage (default: one per core)


@dataclass
class GenerateResult:
    target_dir: Path
    nodes: int = 0
    catalog_entries: int = 0
    columns: int = 0
    unresolved_columns: int = 0
    compiled_from: str = "compile"  # "compile", "target/compiled" (--no-compile) or "none"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def index_path(self) -> Path:
        return self.target_dir / "index.html"

    @property
    def catalog_path(self) -> Path:
        return self.target_dir / "catalog.json"

    @property
    def manifest_path(self) -> Path:
        return self.target_dir / "manifest.json"


def generate_docs(
    session: Session, options: GenerateOptions = GenerateOptions(), log: Callable[[str], None] | None = None
) -> GenerateResult:
    """Write manifest.json, catalog.json and index.html under the project's target folder."""
    say = log or (lambda message: None)
    target_dir = session.project.target_dir
    result = GenerateResult(target_dir)
    clock = _Clock(result.timings)
    results = load_run_results(target_dir)  # before anything else writes there
    manifest = session.manifest
    clock.lap("parse")
    descriptions = render_descriptions(session, manifest)  # first: a missing doc() fails before any work
    clock.lap("descriptions")
    selected = session.select(options.select or ("*",), options.exclude)  # "*": sources too
    compiled = _compile(session, options, selected, result)
    clock.lap("compile")
    catalog: dict[str, CatalogEntry] = {}
    if not options.empty_catalog:
        say("Building catalog")
        catalog = read_catalog(session.adapter, manifest, selected)
    result.catalog_entries = len(catalog)
    clock.lap("catalog")
    lineage, derived = trace_lineage(session, selected, compiled, catalog, options.workers, target_dir)
    result.columns = sum(len(found.columns) for found in lineage.values())
    result.unresolved_columns = sum(
        1 for found in lineage.values() for c in found.columns if found.get(c).status == UNRESOLVED
    )
    clock.lap("lineage")

    invocation_id = session.invocation.invocation_id
    data = artifacts.manifest_dict(manifest, invocation_id, compiled if options.compile else {}, session.target.type)
    resolve_manifest_descriptions(data, descriptions)
    artifacts.write_json(result.manifest_path, data)
    artifacts.write_json(result.catalog_path, catalog_dict(catalog, invocation_id))
    say(f"Catalog written to {result.catalog_path.resolve()}")
    meta = {
        "project": manifest.project_name,
        "generated_at": data["metadata"]["generated_at"],
        "invocation_id": invocation_id,
        "modelkit_version": __version__,
        "adapter": session.target.type,
        "target": session.target.name,
        "compiled": result.compiled_from,
        "catalog": not options.empty_catalog,
        "select": list(options.select),
        "exclude": list(options.exclude),
    }
    inputs = content.SiteInputs(
        manifest=manifest,
        meta=meta,
        descriptions=descriptions,
        catalog=catalog,
        compiled=compiled,
        lineage=lineage,
        derived_columns=derived,
        tests=collect_tests(manifest, results),
        results=results,
    )
    index, details, column_lineage = content.build(inputs)
    result.nodes = len(index["nodes"])
    site.write(result.index_path, site.render(index, details, column_lineage, content.CHUNK_SIZE))
    clock.lap("site")
    return result


class _Clock:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.last, 3)
        self.last = now


def _compile(session: Session, options: GenerateOptions, selected: set[str], result: GenerateResult) -> dict[str, str]:
    manifest = session.manifest
    if not options.compile:
        found = _previously_compiled(session, manifest, selected)
        result.compiled_from = "target/compiled" if found else "none"
        return found
    run = Runner(session, RunOptions("compile", options.select, options.exclude, options.threads)).execute()
    for node_result in run.results:
        if node_result.is_error and isinstance(node_result.error, ModelkitError):
            raise node_result.error
    compiled = dict(session.compiler.compiled)
    for uid in sorted(selected):
        node = manifest.nodes.get(uid)
        if node is not None and node.resource_type == "model" and node.is_ephemeral:
            compiled[uid] = session.compiler.compile(node)
    return compiled


def _previously_compiled(session: Session, manifest: Manifest, selected: set[str]) -> dict[str, str]:
    """With --no-compile: the SQL an earlier run or compile left under target/compiled/."""
    found: dict[str, str] = {}
    base = session.project.target_dir / "compiled"
    for uid in selected:
        node = manifest.nodes.get(uid)
        if node is None or node.resource_type not in ANALYSED_TYPES:
            continue
        path = base / node.package_name / node.original_file_path
        if path.is_file():
            found[uid] = path.read_text(encoding="utf-8")
    return found


def render_descriptions(session: Session, manifest: Manifest) -> dict[str, dict[str, Any]]:
    """Descriptions of nodes, sources and their columns with ``doc()`` resolved, by unique_id."""
    renderer = DescriptionRenderer(session.renderer)
    out: dict[str, dict[str, Any]] = {}
    for node in [*manifest.nodes.values(), *manifest.sources.values()]:
        path = yaml_path(node)
        owner = f"{node.resource_type} {node.name}"
        entry: dict[str, Any] = {
            "description": renderer.render(node.description, path, owner),
            "columns": {
                name: renderer.render(col.description, path, f"{owner}, column {name}")
                for name, col in node.columns.items()
            },
        }
        if node.resource_type == "source":
            entry["source_description"] = renderer.render(node.source_description, path, f"source {node.source_name}")
        out[node.unique_id] = entry
    return out


def trace_lineage(
    session: Session,
    selected: set[str],
    compiled: dict[str, str],
    catalog: dict[str, CatalogEntry],
    workers: int | None = None,
    cache_dir: Path | None = None,
) -> tuple[dict[str, NodeLineage], dict[str, list[tuple[str, str | None]]]]:
    """Column lineage of every compiled node, and the columns of nodes the catalog does not have.

    With ``cache_dir``, results of an earlier run are reused where nothing they depend on changed.
    """
    manifest = session.manifest
    target = session.target
    ctx = LineageContext(target.type, target.database or "", target.schema or "")
    for key, uids in relation_keys(manifest, [*manifest.nodes, *manifest.sources]).items():
        for uid in uids:
            entry = catalog.get(uid)
            ctx.add_relation(key, uid, entry.column_types() if entry else None)
    levels = session.graph.levels
    todo = sorted(
        (uid for uid in compiled if uid in selected and manifest.nodes[uid].resource_type in ANALYSED_TYPES),
        key=lambda uid: (levels.get(uid, 0), uid),
    )
    found: dict[str, NodeLineage] = {}
    derived: dict[str, list[tuple[str, str | None]]] = {}
    cache = LineageCache(cache_dir, ctx) if cache_dir is not None else None
    jobs: list[Job] = [(uid, compiled[uid], manifest.nodes[uid].depends_on_nodes) for uid in todo]
    # Nodes the database does not have (ephemeral or not built) go first, in dependency order:
    # their output columns, taken from the query, are what their children read.
    for job in jobs:
        uid = job[0]
        if uid in catalog:
            continue
        node = manifest.nodes[uid]
        found[uid] = _cached(cache, job) or analyse(ctx, job[1], job[2])
        if cache is not None:
            cache.put(job, found[uid])
        # names sqlglot made up for unnamed expressions (_col_0) are not what the database would call them
        columns: list[tuple[str, str | None]] = [
            (name, None) for name in found[uid].columns if not _MADE_UP.fullmatch(name) or name in job[1]
        ]
        if node.is_ephemeral:
            columns = _described(session, compiled[uid]) or columns
        derived[uid] = columns
        names = {name: dtype or "" for name, dtype in columns}
        if node.is_ephemeral:
            ctx.add_ephemeral(node.relation.identifier, uid, names)
        elif node.resource_type != "analysis":
            ctx.add_relation(ctx.key(node.database, node.schema, node.alias or node.name), uid, names)
    built = [job for job in jobs if job[0] in catalog]
    missing = []
    for job in built:
        hit = _cached(cache, job)
        if hit is None:
            missing.append(job)
        else:
            found[job[0]] = hit
    fresh = analyse_many(ctx, missing, workers)
    found.update(fresh)
    if cache is not None:
        for job in missing:
            cache.put(job, fresh[job[0]])
        cache.save(jobs)
    return found, derived


def _cached(cache: LineageCache | None, job: Job) -> NodeLineage | None:
    return cache.get(job) if cache is not None else None


def _described(session: Session, sql: str) -> list[tuple[str, str | None]]:
    """Column names and types of a query, as the database binds it ([] when it cannot)."""
    try:
        return [(c.name, c.data_type) for c in session.adapter.describe_query(sql)]
    except DatabaseError:
        return []


def generate(
    project_dir: str | Path = ".",
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    compile: bool = True,
    empty_catalog: bool = False,
    log: Callable[[str], None] | None = None,
    **project_kwargs: Any,
) -> GenerateResult:
    """``modelkit docs generate`` from Python."""
    options = GenerateOptions(tuple(select), tuple(exclude), compile, empty_catalog, project_kwargs.get("threads"))
    with Session(project_dir, which="generate", **project_kwargs) as session:
        return generate_docs(session, options, log)
