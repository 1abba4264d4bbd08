"""``modelkit docs generate``: read the catalog, compile and trace column lineage, write the site."""

from __future__ import annotations

import gc
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelkit import __version__
from modelkit.analysis.lineage import UNRESOLVED
from modelkit.api.invocation import record_args
from modelkit.api.session import Session
from modelkit.artifacts import writer as artifacts
from modelkit.artifacts.semantic import write_semantic_manifest
from modelkit.core import fsio
from modelkit.core.manifest import Manifest
from modelkit.core.results import RunResult
from modelkit.docs import content, site
from modelkit.docs.catalog import CatalogEntry, catalog_dict, fetch_catalog, relation_keys
from modelkit.docs.descriptions import DescriptionRenderer, resolve_manifest_descriptions, yaml_path
from modelkit.docs.testinfo import collect_tests, load_run_results
from modelkit.docs.trace import Traced, compile_and_trace


@dataclass(frozen=True)
class GenerateOptions:
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    compile: bool = True
    empty_catalog: bool = False
    threads: int | None = None  # accepted for the command line's sake: compiling is sequential
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
    """Write catalog.json and index.html under the project's target folder; when it compiles, also
    manifest.json and the compile's run_results.json, as dbt does (``--no-compile`` writes neither)."""
    # Nearly everything made here lives until the end (nodes, compiled SQL, lineage, the site's records)
    # and holds hardly any cycle: each pass of the cyclic collector over it only costs time (at 5,000
    # models, a third of the command's time in a handful of full passes).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(session, options, log)
    finally:
        if collecting:
            gc.enable()


def _generate(session: Session, options: GenerateOptions, log: Callable[[str], None] | None) -> GenerateResult:
    say = log or (lambda message: None)
    flags = {"select": options.select, "exclude": options.exclude, "compile": options.compile}
    args = record_args(session, "generate", {**flags, "empty_catalog": options.empty_catalog})
    target_dir = session.project.target_dir
    result = GenerateResult(target_dir)
    started = time.perf_counter()
    run = RunResult(command="generate")
    clock = _Clock(result.timings)
    results = load_run_results(target_dir)  # before anything else writes there
    manifest = session.manifest
    clock.lap("parse")
    descriptions = render_descriptions(session, manifest)  # first: a missing doc() fails before any work
    clock.lap("descriptions")
    selected = session.select(options.select or ("*",), options.exclude, include_empty=True)  # "*": sources too
    catalog: dict[str, CatalogEntry] = {}
    reading: Future[dict[str, CatalogEntry]] | None = None
    if not options.empty_catalog:
        say("Building catalog")
        # the database is opened and answers on a thread of its own (it lets go of the GIL) while the nodes
        # compile; whatever needs the connection meanwhile waits for it to be open
        keys = relation_keys(manifest, selected)
        reading = _in_background(lambda: fetch_catalog(session.adapter, keys))
    clock.lap("catalog")
    invocation_id = session.invocation.invocation_id
    written: dict[str, Any] = {}

    def write_artifacts(traced: Traced) -> None:
        """manifest.json, semantic_manifest.json and catalog.json (they need no lineage: written while it
        is traced, on worker processes)."""
        data = artifacts.manifest_dict(
            manifest, invocation_id, traced.compiled if options.compile else {}, session.target.type
        )
        resolve_manifest_descriptions(data, descriptions)
        write_semantic_manifest(target_dir / "semantic_manifest.json", manifest)
        if options.compile:
            artifacts.write_json(result.manifest_path, data)
        catalog = reading.result() if reading is not None else {}
        artifacts.write_json(result.catalog_path, catalog_dict(catalog, invocation_id))
        say(f"Catalog written to {result.catalog_path.resolve()}")
        written.update(generated_at=data["metadata"]["generated_at"], tests=collect_tests(manifest, results))
        copy_assets(session.project.root, target_dir, session.project.asset_paths)

    try:
        traced = compile_and_trace(
            session,
            selected,
            reading if reading is not None else catalog,
            compile=options.compile,
            workers=options.workers,
            cache_dir=target_dir,
            meanwhile=write_artifacts,
        )
    finally:
        if reading is not None:
            reading.exception()  # never leave it reading while the connection closes
    catalog = reading.result() if reading is not None else catalog
    result.catalog_entries = len(catalog)
    compiled, lineage = traced.compiled, traced.lineage
    result.compiled_from = traced.compiled_from
    result.columns = sum(len(found.columns) for found in lineage.values())
    result.unresolved_columns = sum(
        1 for found in lineage.values() for c in found.columns if found.get(c).status == UNRESOLVED
    )
    clock.lap("lineage")
    result.timings["compile"] = round(traced.compile_seconds, 3)
    result.timings["lineage"] = round(result.timings["lineage"] - traced.compile_seconds, 3)

    if options.compile:
        run.results, run.elapsed_time = traced.results, time.perf_counter() - started
        artifacts.write_json(
            target_dir / "run_results.json", artifacts.run_results_dict(run, manifest.project_name, invocation_id, args)
        )
    meta = {
        "project": manifest.project_name,
        "generated_at": written["generated_at"],
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
        derived_columns=traced.derived_columns,
        tests=written["tests"],
        results=results,
    )
    index, details, column_lineage = content.build(inputs)
    result.nodes = len(index["nodes"])
    site.write(result.index_path, site.render(index, details, column_lineage, content.CHUNK_SIZE))
    clock.lap("site")
    return result


def copy_assets(root: Path, target_dir: Path, asset_paths: Sequence[str]) -> None:
    """dbt's asset-paths: each folder replaces its copy under the target folder; a missing one is skipped."""
    for asset_path in asset_paths:
        copied = fsio.inside(target_dir, asset_path, f"asset path {asset_path}")
        try:
            if copied.exists():
                shutil.rmtree(copied)
            source = root / asset_path
            if source.exists():
                shutil.copytree(source, copied)
        except OSError as exc:
            raise fsio.os_error(exc, copied, "copy the assets to") from None


def _in_background(function: Callable[..., Any], *args: Any) -> Future[Any]:
    """``function(*args)`` on a thread of its own; its result (or exception) in the future."""
    future: Future[Any] = Future()

    def work() -> None:
        try:
            future.set_result(function(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the result
            future.set_exception(exc)

    threading.Thread(target=work, name="modelkit-catalog", daemon=True).start()
    return future


class _Clock:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.last, 3)
        self.last = now


def render_descriptions(session: Session, manifest: Manifest) -> dict[str, dict[str, Any]]:
    """Descriptions of nodes, sources and their columns with ``doc()`` resolved, by unique_id."""
    renderer = DescriptionRenderer(session.renderer)
    out: dict[str, dict[str, Any]] = {}
    for node in [*manifest.nodes.values(), *manifest.sources.values()]:
        path = yaml_path(node)
        owner = f"{node.resource_type} {node.name}"
        text = node.description
        entry: dict[str, Any] = {
            "description": renderer.render(text, path, owner) if _jinja(text) else text,
            "columns": {
                name: renderer.render(col.description, path, f"{owner}, column {name}")
                if _jinja(col.description)
                else col.description
                for name, col in node.columns.items()
            },
        }
        if node.resource_type == "source":
            entry["source_description"] = renderer.render(node.source_description, path, f"source {node.source_name}")
        out[node.unique_id] = entry
    return out


def _jinja(text: str) -> bool:
    """Whether a description needs rendering (most are plain text: tens of thousands of columns)."""
    return bool(text) and ("{{" in text or "{%" in text)


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
