"""``target/manifest.json`` and ``target/run_results.json`` in dbt's shapes."""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from modelkit import DBT_COMPAT_VERSION
from modelkit.artifacts import splice
from modelkit.artifacts.splice import Layout, Reuse
from modelkit.core import fsio, jsonio
from modelkit.core.fsio import FileRange
from modelkit.core.lazynodes import field_map
from modelkit.core.manifest import Column, Macro, Manifest, Node, SourceDefinition
from modelkit.core.relation import quote_policy
from modelkit.core.results import RunResult, now
from modelkit.core.secrets import values as secret_values

MANIFEST_SCHEMA = "https://schemas.getdbt.com/dbt/manifest/v12.json"
RUN_RESULTS_SCHEMA = "https://schemas.getdbt.com/dbt/run-results/v6.json"
DBT_VERSION = DBT_COMPAT_VERSION
_CREATED_AT = time.time()  # dbt's `created_at` of every node: when it was parsed (here: this process started)
_NO_CONTRACT = {"enforced": False, "alias_types": True, "checksum": None}
# dbt's schema has no `refs`/`sources`/`language`/`compiled_path` on seeds, nor the SQL fields on unit tests
_SQL_NODE_KEYS = ("language", "refs", "sources", "compiled_path", "contract", "functions", "metrics")
_UNIT_TEST_KEYS = (
    "model", "given", "expect", "name", "resource_type", "package_name", "path", "original_file_path",
    "unique_id", "fqn", "description", "overrides", "depends_on", "config", "checksum", "schema",
    "created_at", "versions", "version",
)  # fmt: skip


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
            "granularity": c.granularity,
        }
        for name, c in columns.items()
    }


def _hook(value: Any, index: int) -> dict[str, Any]:
    if isinstance(value, dict):
        return {"sql": str(value.get("sql", "")), "transaction": bool(value.get("transaction", True)), "index": index}
    return {"sql": str(value), "transaction": True, "index": index}


def _config(config: dict[str, Any]) -> dict[str, Any]:
    """The node's config with hooks as dbt lists them: ``{sql, transaction, index}`` objects."""
    if not config.get("pre-hook") and not config.get("post-hook"):
        return config
    out = dict(config)
    for key in ("pre-hook", "post-hook"):
        hooks = out.get(key) or []
        out[key] = [_hook(h, i) for i, h in enumerate(hooks if isinstance(hooks, list) else [hooks])]
    return out


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
        "checksum": {"name": getattr(node, "checksum_name", "sha256"), "checksum": node.checksum},
        "config": _config(node.config),
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
        "contract": {**_NO_CONTRACT, **(node.config.get("contract") or {})},
        "functions": [],
        "metrics": [],
        "build_path": None,
        "created_at": _CREATED_AT,
        "doc_blocks": [],
        "group": node.config.get("group"),
    }
    if node.resource_type == "model":
        data.update(
            access=node.config.get("access", "protected"),
            constraints=getattr(node, "constraints", []),
            version=node.version,
            latest_version=node.latest_version,
            deprecation_date=getattr(node, "deprecation_date", None),
            primary_key=[],
            time_spine=getattr(node, "time_spine", None),
        )
    if node.resource_type == "seed":
        for key in _SQL_NODE_KEYS:
            data.pop(key)
        data["depends_on"] = {"macros": node.depends_on_macros}
        data["root_path"] = getattr(node, "root_path", "")
    if node.resource_type == "unit_test":
        data.update(
            model=getattr(node, "model_name", None),
            given=getattr(node, "given", []),
            expect=getattr(node, "expect", {}),
            overrides=getattr(node, "overrides", None),
            versions=None,
            version=None,
            checksum=node.checksum,
        )
        return {key: data[key] for key in _UNIT_TEST_KEYS}
    for extra in ("test_metadata", "column_name", "attached_node", "file_key_name"):
        if hasattr(node, extra):
            data[extra] = getattr(node, extra)
    if compiled_code is not None and node.resource_type != "seed":
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
        "created_at": _CREATED_AT,
        "doc_blocks": [],
        "external": None,
        "loaded_at_query": None,
        "patch_path": None,
        "quoting": {k: source.quoting.get(k) for k in ("database", "schema", "identifier", "column")},
        "source_meta": {},
        "unrendered_config": {},
        "unrendered_database": None,
        "unrendered_schema": None,
    }


def doc_dict(doc: dict[str, Any]) -> dict[str, Any]:
    """A docs block as dbt lists it (``path`` is relative to the docs folder)."""
    rel = str(doc.get("original_file_path", ""))
    return {
        "name": doc["name"],
        "resource_type": "doc",
        "package_name": doc["package_name"],
        "path": rel.split("/", 1)[1] if "/" in rel else rel,
        "original_file_path": rel,
        "unique_id": doc["unique_id"],
        "block_contents": doc["block_contents"],
    }


def macro_dict(macro: Macro) -> dict[str, Any]:
    data: dict[str, Any] = {  # dbt's fields (not modelkit's own: line, references, file_key)
        "unique_id": macro.unique_id,
        "name": macro.name,
        "package_name": macro.package_name,
        "original_file_path": macro.original_file_path,
        "macro_sql": macro.macro_sql,
        "description": macro.description,
        "resource_type": macro.resource_type,
    }
    data["path"] = macro.original_file_path
    data["depends_on"] = {"macros": []}
    data["arguments"] = [{"name": a, "type": None, "description": ""} for a in macro.arguments]
    data.update(
        meta={},
        docs={"show": True, "node_color": None},
        config={"meta": {}, "docs": {"show": True, "node_color": None}},
        patch_path=None,
        created_at=_CREATED_AT,
        supported_languages=None,
    )
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
        "user_id": None,
        "send_anonymous_usage_stats": False,
        "adapter_type": adapter_type,
        "quoting": {"database": True, "schema": True, "identifier": True, "column": None},
    }


def _manifest_sections(
    manifest: Manifest, invocation_id: str, compiled: dict[str, str], adapter_type: str
) -> Iterator[tuple[str, Any]]:
    """(key, value) pairs of manifest.json; mappings of nodes come as lazy iterators of (id, dict)."""
    nodes = manifest.nodes
    meta = metadata(manifest.project_name, invocation_id, MANIFEST_SCHEMA, adapter_type)
    policy = quote_policy(manifest.quoting)
    meta["quoting"] = {"database": policy[0], "schema": policy[1], "identifier": policy[2], "column": None}
    meta["invocation_started_at"] = meta["run_started_at"] = meta["generated_at"]
    yield "metadata", meta
    yield "nodes", _node_items(nodes, lambda: node_order(manifest), compiled)
    yield "sources", ((uid, source_dict(s)) for uid, s in manifest.sources.items())
    yield "macros", ((uid, macro_dict(m)) for uid, m in manifest.macros.items())
    yield "docs", ((uid, doc_dict(d)) for uid, d in manifest.docs.items())
    yield "exposures", manifest.exposures
    yield "metrics", manifest.metrics
    yield "groups", manifest.groups
    yield "selectors", {}
    disabled = ((uid, [node_dict(n) for n in ns]) for uid, ns in manifest.disabled.items())
    yield "disabled", itertools.chain(disabled, manifest.disabled_resources.items())
    yield "parent_map", _sorted_lists(manifest.parent_map)
    yield "child_map", _sorted_lists(manifest.child_map)
    yield "group_map", manifest.group_map()
    yield "saved_queries", manifest.saved_queries
    yield "semantic_models", manifest.semantic_models
    yield "unit_tests", _node_items(nodes, lambda: unit_test_order(manifest), compiled)
    yield "functions", {}


def node_order(manifest: Manifest) -> list[str]:
    """The unique ids of the entries of manifest.json's ``nodes``, in order (every node but unit tests)."""
    kinds = field_map(manifest.nodes, "kind")
    if "unit_test" not in kinds.values():
        return list(manifest.nodes)
    return [uid for uid in manifest.nodes if kinds.get(uid) != "unit_test"]


def unit_test_order(manifest: Manifest) -> list[str]:
    kinds = field_map(manifest.nodes, "kind")
    if "unit_test" not in kinds.values():
        return []
    return [uid for uid in manifest.nodes if kinds.get(uid) == "unit_test"]


def _node_items(
    nodes: Mapping[str, Node], order_of: Callable[[], list[str]], compiled: dict[str, str]
) -> Iterator[tuple[str, Any]]:
    """The (id, dict) pairs of the nodes ``order_of()`` names (worked out when first iterated)."""
    for uid in order_of():
        yield uid, node_dict(nodes[uid], compiled.get(uid))


def _sorted_lists(get: Callable[[], dict[str, list[str]]]) -> Iterator[tuple[str, list[str]]]:
    for key, values in get().items():
        yield key, sorted(values)


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
    reuse: Reuse | None = None,
) -> Layout | None:
    """Stream manifest.json node by node: fast (orjson per node) and light on memory; written atomically.

    With ``reuse`` (the previous manifest.json, and what changed since), unchanged entries are copied from
    it (see :mod:`modelkit.artifacts.splice`). Returns where everything was written, for the next write
    to reuse (None when secret values were masked, which moves the entries).
    """
    layout = Layout()
    chunks = _manifest_chunks(manifest, invocation_id, compiled or {}, adapter_type, reuse, layout)
    fsio.atomic_write(path, chunks, scrub=True, spare=True)
    return None if secret_values() else layout


def _manifest_chunks(
    manifest: Manifest,
    invocation_id: str,
    compiled: dict[str, str],
    adapter_type: str,
    reuse: Reuse | None,
    layout: Layout,
) -> Iterator[bytes | FileRange]:
    dumps = jsonio.dumps
    if secret_values():
        reuse = None  # the previous file's entries were masked: their places say nothing of this one's
    position = 1
    yield b"{"
    for i, (key, value) in enumerate(_manifest_sections(manifest, invocation_id, compiled, adapter_type)):
        head = (b"," if i else b"") + dumps(key) + b":"
        position += len(head)
        yield head
        start = position
        if key in ("parent_map", "child_map") and reuse is not None and reuse.keep_edges:
            copied = reuse.section(key)
            if copied is not None:
                yield copied
                position += copied.end - copied.start
                layout.sections[key] = (start, position)
                continue
        if key in ("parent_map", "child_map"):
            value = dict(value)  # one call to the encoder
        if isinstance(value, dict):
            body = dumps(value)
            position += len(body)
            layout.sections[key] = (start, position)
            yield body
            continue
        yield b"{"
        position += 1
        if key == "nodes":
            order = node_order(manifest)
            entry = _entry_writer(manifest, compiled)
            if reuse is not None:
                position = yield from splice.node_entries(reuse, order, entry, position, layout, compiled)
            else:
                position = yield from _entries(order, entry, position, layout, compiled)
        else:
            chunk: list[bytes] = []
            for j, (item_key, item) in enumerate(value):
                entry_bytes = (b"," if j else b"") + dumps(item_key) + b":" + dumps(item)
                position += len(entry_bytes)
                chunk.append(entry_bytes)
                if len(chunk) >= 512:
                    yield b"".join(chunk)
                    chunk.clear()
            yield b"".join(chunk)
        yield b"}"
        position += 1
        layout.sections[key] = (start, position)
    yield b"}"


def _entry_writer(manifest: Manifest, compiled: dict[str, str]) -> Callable[[str], bytes]:
    nodes, dumps = manifest.nodes, jsonio.dumps

    def entry(uid: str) -> bytes:
        return dumps(uid) + b":" + dumps(node_dict(nodes[uid], compiled.get(uid)))

    return entry


def _entries(
    order: list[str], entry: Callable[[str], bytes], position: int, layout: Layout, once: dict[str, str]
) -> Iterator[bytes]:
    """Every node's entry, serialized, recorded in ``layout``; the position after them."""
    chunk: list[bytes] = []
    for j, uid in enumerate(order):
        if j:
            chunk.append(b",")
            position += 1
        data = entry(uid)
        layout.add(uid, -1 if uid in once else position, position + len(data))
        position += len(data)
        chunk.append(data)
        if len(chunk) >= 512:
            yield b"".join(chunk)
            chunk.clear()
    yield b"".join(chunk)
    return position


def results_artifact(run: Any, project_name: str, invocation_id: str, schema: str) -> dict[str, Any]:
    """The shape run_results.json and sources.json share: metadata, results, elapsed_time."""
    meta = metadata(project_name, invocation_id, schema)
    meta["invocation_started_at"] = _iso(run.started_at)
    for key in ("project_name", "project_id", "adapter_type", "quoting", "user_id", "send_anonymous_usage_stats"):
        meta.pop(key, None)
    return {
        "metadata": meta,
        "results": [r.to_dict() for r in run.results],
        "elapsed_time": round(run.elapsed_time, 6),
    }


def run_results_dict(run: RunResult, project_name: str, invocation_id: str, args: dict[str, Any]) -> dict[str, Any]:
    return {**results_artifact(run, project_name, invocation_id, RUN_RESULTS_SCHEMA), "args": args}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """An artifact, written atomically, with secret values masked."""
    fsio.atomic_write(path, jsonio.dumps(data), scrub=True)
