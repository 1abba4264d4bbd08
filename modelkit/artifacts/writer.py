"""``target/manifest.json`` and ``target/run_results.json`` in dbt's shapes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from modelkit.core import jsonio
from modelkit.core.manifest import Column, Macro, Manifest, Node, SourceDefinition
from modelkit.core.results import RunResult, now

MANIFEST_SCHEMA = "https://schemas.getdbt.com/dbt/manifest/v12.json"
RUN_RESULTS_SCHEMA = "https://schemas.getdbt.com/dbt/run-results/v6.json"
DBT_VERSION = "1.11.0"


def _iso(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _columns(columns: dict[str, Column]) -> dict[str, Any]:
    return {
        name: {
            "name": c.name,
            "description": c.description,
            "meta": c.meta,
            "data_type": c.data_type,
            "constraints": c.constraints,
            "quote": c.quote,
            "tags": c.tags,
        }
        for name, c in columns.items()
    }


def node_dict(node: Node, compiled_code: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "database": node.database,
        "schema": node.schema,
        "name": node.name,
        "resource_type": node.resource_type,
        "package_name": node.package_name,
        "path": node.path,
        "original_file_path": node.original_file_path,
        "unique_id": node.unique_id,
        "fqn": node.fqn,
        "alias": node.alias,
        "checksum": {"name": "sha256", "checksum": node.checksum},
        "config": node.config,
        "tags": node.tags,
        "description": node.description,
        "columns": _columns(node.columns),
        "meta": node.meta,
        "docs": node.config.get("docs", {"show": True, "node_color": None}),
        "patch_path": node.patch_path,
        "unrendered_config": node.unrendered_config,
        "relation_name": node.relation_name,
        "raw_code": node.raw_code,
        "language": node.language,
        "refs": node.refs,
        "sources": node.sources,
        "depends_on": {"macros": node.depends_on_macros, "nodes": node.depends_on_nodes},
        "compiled_path": None,
    }
    if node.resource_type == "model":
        data.update(
            access=node.config.get("access", "protected"),
            constraints=getattr(node, "constraints", []),
            version=node.version,
            contract=node.config.get("contract", {"enforced": False, "alias_types": True}),
        )
    if node.resource_type == "seed":
        data["root_path"] = getattr(node, "root_path", "")
    if node.resource_type == "unit_test":
        data.update(
            model=getattr(node, "model_name", None),
            given=getattr(node, "given", []),
            expect=getattr(node, "expect", {}),
            overrides=getattr(node, "overrides", None),
            versions=None,
            version=None,
        )
    for extra in ("test_metadata", "column_name", "attached_node", "file_key_name"):
        if hasattr(node, extra):
            data[extra] = getattr(node, extra)
    if compiled_code is not None:
        data["compiled"] = True
        data["compiled_code"] = compiled_code
        rel = getattr(node, "compiled_file_path", None) or node.original_file_path
        data["compiled_path"] = f"target/compiled/{node.package_name}/{rel}"
        data["extra_ctes_injected"] = True
        data["extra_ctes"] = []
    return data


def source_dict(source: SourceDefinition) -> dict[str, Any]:
    return {
        "database": source.database,
        "schema": source.schema,
        "name": source.name,
        "resource_type": "source",
        "package_name": source.package_name,
        "path": source.original_file_path,
        "original_file_path": source.original_file_path,
        "unique_id": source.unique_id,
        "fqn": source.fqn,
        "source_name": source.source_name,
        "source_description": source.source_description,
        "loader": source.loader,
        "identifier": source.identifier,
        "loaded_at_field": source.loaded_at_field,
        "freshness": source.freshness,
        "description": source.description,
        "columns": _columns(source.columns),
        "meta": source.meta,
        "tags": source.tags,
        "config": source.config,
        "relation_name": source.relation_name,
    }


def macro_dict(macro: Macro) -> dict[str, Any]:
    data = asdict(macro)
    data.pop("file_key", None)  # modelkit's own bookkeeping
    data["path"] = macro.original_file_path
    data["depends_on"] = {"macros": []}
    data["arguments"] = [{"name": a, "type": None, "description": ""} for a in macro.arguments]
    return data


def metadata(project_name: str, invocation_id: str, schema: str, adapter_type: str = "duckdb") -> dict[str, Any]:
    return {
        "dbt_schema_version": schema,
        "dbt_version": DBT_VERSION,
        "generated_at": _iso(now()),
        "invocation_id": invocation_id,
        "env": {
            k[len("DBT_ENV_CUSTOM_ENV_") :]: v for k, v in os.environ.items() if k.startswith("DBT_ENV_CUSTOM_ENV_")
        },
        "project_name": project_name,
        "project_id": hashlib.md5(project_name.encode()).hexdigest(),
        "adapter_type": adapter_type,
        "quoting": {"database": True, "schema": True, "identifier": True, "column": None},
    }


def _manifest_sections(
    manifest: Manifest, invocation_id: str, compiled: dict[str, str], adapter_type: str
) -> Iterator[tuple[str, Any]]:
    """(key, value) pairs of manifest.json; mappings of nodes come as lazy iterators of (id, dict)."""
    unit_tests = {uid for uid, n in manifest.nodes.items() if n.resource_type == "unit_test"}
    nodes = manifest.nodes
    yield "metadata", metadata(manifest.project_name, invocation_id, MANIFEST_SCHEMA, adapter_type)
    yield "nodes", ((uid, node_dict(n, compiled.get(uid))) for uid, n in nodes.items() if uid not in unit_tests)
    yield "sources", ((uid, source_dict(s)) for uid, s in manifest.sources.items())
    yield "macros", ((uid, macro_dict(m)) for uid, m in manifest.macros.items())
    yield "docs", manifest.docs
    for key in ("exposures", "metrics", "groups", "selectors"):
        yield key, {}
    yield "disabled", ((uid, [node_dict(n) for n in ns]) for uid, ns in manifest.disabled.items())
    yield "parent_map", ((k, sorted(v)) for k, v in manifest.parent_map().items())
    yield "child_map", ((k, sorted(v)) for k, v in manifest.child_map().items())
    for key in ("group_map", "saved_queries", "semantic_models"):
        yield key, {}
    yield "unit_tests", ((uid, node_dict(nodes[uid], compiled.get(uid))) for uid in unit_tests)
    yield "functions", {}


def manifest_dict(
    manifest: Manifest, invocation_id: str, compiled: dict[str, str] | None = None, adapter_type: str = "duckdb"
) -> dict[str, Any]:
    """manifest.json as one dict (see :func:`write_manifest` to write it without building it whole)."""
    return {
        key: value if isinstance(value, dict) else dict(value)
        for key, value in _manifest_sections(manifest, invocation_id, compiled or {}, adapter_type)
    }


def write_manifest(
    path: Path,
    manifest: Manifest,
    invocation_id: str,
    compiled: dict[str, str] | None = None,
    adapter_type: str = "duckdb",
) -> None:
    """Stream manifest.json node by node: fast (orjson per node) and light on memory."""
    dumps = jsonio.dumps
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(b"{")
        for i, (key, value) in enumerate(_manifest_sections(manifest, invocation_id, compiled or {}, adapter_type)):
            fh.write((b"," if i else b"") + dumps(key) + b":")
            if isinstance(value, dict):
                fh.write(dumps(value))
                continue
            chunk = [b"{"]
            for j, (item_key, item) in enumerate(value):
                chunk.append((b"," if j else b"") + dumps(item_key) + b":" + dumps(item))
                if len(chunk) >= 512:
                    fh.write(b"".join(chunk))
                    chunk.clear()
            chunk.append(b"}")
            fh.write(b"".join(chunk))
        fh.write(b"}")
    tmp.replace(path)


def results_artifact(run: Any, project_name: str, invocation_id: str, schema: str) -> dict[str, Any]:
    """The shape run_results.json and sources.json share: metadata, results, elapsed_time."""
    meta = metadata(project_name, invocation_id, schema)
    meta["invocation_started_at"] = _iso(run.started_at)
    for key in ("project_name", "project_id", "adapter_type", "quoting"):
        meta.pop(key, None)
    return {
        "metadata": meta,
        "results": [r.to_dict() for r in run.results],
        "elapsed_time": round(run.elapsed_time, 6),
    }


def run_results_dict(run: RunResult, project_name: str, invocation_id: str, args: dict[str, Any]) -> dict[str, Any]:
    return {**results_artifact(run, project_name, invocation_id, RUN_RESULTS_SCHEMA), "args": args}


def write_json(path: Path, data: dict[str, Any]) -> None:
    jsonio.write(path, data)
