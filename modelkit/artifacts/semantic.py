"""``target/semantic_manifest.json``: the semantic layer's view of the project, as dbt writes it.

dbt writes it beside every ``manifest.json``, in MetricFlow's shape (dbt-semantic-interfaces 0.9): the
semantic models, metrics and saved queries, without what only the manifest lists (unique ids, paths,
depends_on, ...), and the project configuration: the time spines (models with ``time_spine:``) and,
for the legacy ``metricflow_time_spine`` model, a time spine table configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelkit.core import fsio, jsonio
from modelkit.core.lazynodes import field_map
from modelkit.core.manifest import Manifest, ModelNode, Node

LEGACY_TIME_SPINE = "metricflow_time_spine"  # the model dbt still takes as a day time spine (column date_day)
DSI_VERSION = {"major_version": "0", "minor_version": "9", "patch_version": "0"}


def time_spines(manifest: Manifest) -> list[tuple[ModelNode, str]]:
    """The models configured as time spines, each with its standard column's granularity."""
    found = []
    for uid in field_map(manifest.nodes, "time_spine"):
        node = manifest.nodes[uid]
        spine = getattr(node, "time_spine", None)
        if isinstance(node, ModelNode) and spine:
            column = node.columns.get(spine["standard_granularity_column"])
            if column is not None and column.granularity:
                found.append((node, column.granularity))
    return found


def legacy_time_spine(manifest: Manifest) -> Node | None:
    """The model named ``metricflow_time_spine`` (the root project's first), which dbt takes as a day time
    spine when no time spine of day or finer is configured."""
    kinds = field_map(manifest.nodes, "kind")
    named = [
        manifest.nodes[uid]
        for uid, name in field_map(manifest.nodes, "name").items()
        if name[0] == LEGACY_TIME_SPINE and kinds.get(uid) == "model"
    ]
    named.sort(key=lambda n: n.package_name != manifest.project_name)
    return named[0] if named else None


def _relation(node: Node) -> dict[str, Any]:
    return {
        "alias": node.alias,
        "schema_name": node.schema,
        "database": node.database,
        "relation_name": node.relation_name,
    }


def _config(resource: dict[str, Any]) -> dict[str, Any]:
    return {"meta": dict((resource.get("config") or {}).get("meta") or {})}


def _semantic_model(sm: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": sm["name"],
        "defaults": sm["defaults"],
        "description": sm["description"],
        "node_relation": sm["node_relation"],
        "primary_entity": sm["primary_entity"],
        "entities": [
            {
                "name": e["name"],
                "description": e["description"],
                "type": e["type"],
                "role": e["role"],
                "expr": e["expr"],
                "metadata": None,
                "label": e["label"],
                "config": e["config"],
            }
            for e in sm["entities"]
        ],
        "measures": [
            {
                "name": m["name"],
                "agg": m["agg"],
                "description": m["description"],
                "create_metric": m["create_metric"],
                "expr": m["expr"],
                "agg_params": m["agg_params"],
                "metadata": None,
                "non_additive_dimension": m["non_additive_dimension"],
                "agg_time_dimension": m["agg_time_dimension"],
                "label": m["label"],
                "config": m["config"],
            }
            for m in sm["measures"]
        ],
        "dimensions": [
            {
                "name": d["name"],
                "description": d["description"],
                "type": d["type"],
                "is_partition": d["is_partition"],
                "type_params": d["type_params"],
                "expr": d["expr"],
                "metadata": d["metadata"],
                "label": d["label"],
                "config": d["config"],
            }
            for d in sm["dimensions"]
        ],
        "label": sm["label"],
        "metadata": None,
        "config": _config(sm),
    }


def _metric(metric: dict[str, Any]) -> dict[str, Any]:
    params = metric["type_params"]
    cumulative = params["cumulative_type_params"]
    return {
        "name": metric["name"],
        "description": metric["description"],
        "type": metric["type"],
        "type_params": {
            "measure": params["measure"],
            "numerator": params["numerator"],
            "denominator": params["denominator"],
            "expr": params["expr"],
            "window": params["window"],
            "grain_to_date": params["grain_to_date"],
            "metrics": params["metrics"],
            "conversion_type_params": params["conversion_type_params"],
            "cumulative_type_params": (
                {k: cumulative[k] for k in ("window", "grain_to_date", "period_agg")} if cumulative else None
            ),
            "input_measures": params["input_measures"],
        },
        "filter": metric["filter"],
        "metadata": None,
        "label": metric["label"],
        "config": _config(metric),
        "time_granularity": metric["time_granularity"],
    }


def _saved_query(query: dict[str, Any]) -> dict[str, Any]:
    params = query["query_params"]
    return {
        "name": query["name"],
        "query_params": {
            "metrics": params["metrics"],
            "group_by": params["group_by"],
            "order_by": params["order_by"],
            "limit": params["limit"],
            "where": params["where"],
        },
        "description": query["description"],
        "metadata": None,
        "label": query["label"],
        "exports": [
            {"name": e["name"], "config": {k: e["config"][k] for k in ("export_as", "schema_name", "alias")}}
            for e in query["exports"]
        ],
        "tags": query["tags"],
    }


def semantic_manifest_dict(manifest: Manifest) -> dict[str, Any]:
    """semantic_manifest.json as one dict."""
    spines = [
        {
            "node_relation": _relation(node),
            "primary_column": {"name": node.time_spine["standard_granularity_column"], "time_granularity": grain},
            "custom_granularities": [
                {"name": c["name"], "column_name": c["column_name"]} for c in node.time_spine["custom_granularities"]
            ],
        }
        for node, grain in time_spines(manifest)
        if node.time_spine is not None
    ]
    legacy_configs = []
    legacy = legacy_time_spine(manifest) if manifest.semantic_models else None
    if legacy is not None and getattr(legacy, "time_spine", None) is None:
        legacy_configs.append({"location": legacy.relation_name, "column_name": "date_day", "grain": "day"})
    return {
        "semantic_models": [_semantic_model(sm) for sm in manifest.semantic_models.values()],
        "metrics": [_metric(m) for m in manifest.metrics.values()],
        "project_configuration": {
            "time_spine_table_configurations": legacy_configs,
            "metadata": None,
            "dsi_package_version": dict(DSI_VERSION),
            "time_spines": spines,
        },
        "saved_queries": [_saved_query(q) for q in manifest.saved_queries.values()],
    }


def write_semantic_manifest(path: Path, manifest: Manifest) -> None:
    """Write semantic_manifest.json atomically (with secret values masked)."""
    fsio.atomic_write(path, jsonio.dumps(semantic_manifest_dict(manifest)), scrub=True)
