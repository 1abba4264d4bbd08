"""``semantic_models:`` of property files, and the time spines the semantic layer needs, in dbt's shapes.

A semantic model describes one model (``model: ref('orders')``) to the semantic layer: its entities
(join keys), dimensions (what to group by) and measures (what to aggregate); metrics are built on the
measures (see :mod:`modelkit.parse.metrics`). A measure with ``create_metric: true`` also defines a
simple metric of its name. The semantic layer computes over a time spine: a model whose YAML entry has
``time_spine: {standard_granularity_column: ...}`` (that column with a ``granularity``), or, as dbt
still accepts with a deprecation warning, a model named ``metricflow_time_spine`` with a ``date_day``
column.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from modelkit.artifacts.semantic import legacy_time_spine, time_spines
from modelkit.core.errors import DependencyError, ProjectError
from modelkit.core.manifest import Manifest
from modelkit.graph.graph import access_error
from modelkit.graph.resolve import Resolver, target_not_found
from modelkit.parse.resources import check_enum, parse_call, resource_config, yaml_fqn
from modelkit.parse.yamlwarnings import warning, wrapped

GRANULARITIES = (
    "nanosecond", "microsecond", "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year",
)  # fmt: skip
ENTITY_TYPES = ("foreign", "natural", "primary", "unique")
DIMENSION_TYPES = ("categorical", "time")
GRAIN_ORDER = {grain: i for i, grain in enumerate(GRANULARITIES)}
AGGREGATIONS = ("sum", "min", "max", "count_distinct", "sum_boolean", "average", "percentile", "median", "count")
SEMANTIC_MODEL_DEFAULTS: dict[str, Any] = {"enabled": True, "group": None, "meta": {}}
_LEGACY_TIME_SPINE_WARNING = (
    "Time spines without YAML configuration are in the process of deprecation. Please add YAML "
    "configuration for your 'metricflow_time_spine' model. See documentation on MetricFlow time spines: "
    "https://docs.getdbt.com/docs/build/metricflow-time-spine and behavior change documentation: "
    "https://docs.getdbt.com/reference/global-configs/behavior-changes."
)


def model_time_spine(entry: Mapping[str, Any], name: str, path: str) -> dict[str, Any] | None:
    """The ``time_spine:`` of a model's YAML entry, checked against its columns as dbt checks it."""
    spine = entry.get("time_spine")
    if spine is None:
        return None
    if not isinstance(spine, Mapping) or not spine.get("standard_granularity_column"):
        raise ProjectError(f"Model '{name}': `time_spine` needs a `standard_granularity_column`", path=path)
    columns = {str(c.get("name")): c for c in entry.get("columns") or [] if isinstance(c, Mapping)}
    standard = str(spine["standard_granularity_column"])
    if standard not in columns:
        raise ProjectError(
            "Time spine standard granularity column must be defined on the model. Got invalid column name "
            f"'{standard}' for model '{name}'. Valid names: {list(columns)}.",
            path=path,
        )
    if not columns[standard].get("granularity"):
        raise ProjectError(
            "Time spine standard granularity column must have a granularity defined. Please add one for "
            f"column '{standard}' in model '{name}'.",
            path=path,
        )
    custom = [c for c in spine.get("custom_granularities") or [] if isinstance(c, Mapping)]
    missing = [str(c.get("column_name") or c.get("name")) for c in custom]
    missing = [column for column in missing if column not in columns]
    if missing:
        raise ProjectError(
            "Time spine custom granularity columns do not exist in the model. "
            f"Columns not found: {missing}; Available columns: {list(columns)}",
            path=path,
        )
    return {
        "standard_granularity_column": standard,
        "custom_granularities": [{"name": str(c["name"]), "column_name": c.get("column_name")} for c in custom],
    }


def _element_config(element: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    own = (element.get("config") or {}).get("meta") or {}
    return {"meta": {**meta, **own}}


def _elements(entry: Mapping[str, Any], key: str, what: str, path: str) -> list[Mapping[str, Any]]:
    found = entry.get(key) or []
    if not isinstance(found, list) or not all(isinstance(e, Mapping) and e.get("name") for e in found):
        raise ProjectError(f"{what}: `{key}:` must be a list of entries, each with a `name`", path=path)
    return found


def _entities(entry: Mapping[str, Any], meta: Mapping[str, Any], what: str, path: str) -> list[dict[str, Any]]:
    return [
        {
            "name": str(e["name"]),
            "type": check_enum(e.get("type"), ENTITY_TYPES, f"{what}: entity type", path),
            "description": e.get("description"),
            "label": e.get("label"),
            "role": e.get("role"),
            "expr": _text(e.get("expr")),
            "config": _element_config(e, meta),
        }
        for e in _elements(entry, "entities", what, path)
    ]


def _dimensions(entry: Mapping[str, Any], meta: Mapping[str, Any], what: str, path: str) -> list[dict[str, Any]]:
    found = []
    for d in _elements(entry, "dimensions", what, path):
        params = d.get("type_params")
        type_params = None
        if isinstance(params, Mapping):
            grain = check_enum(params.get("time_granularity"), GRANULARITIES, f"{what}: time_granularity", path)
            validity = params.get("validity_params")
            type_params = {
                "time_granularity": grain,
                "validity_params": (
                    {"is_start": bool(validity.get("is_start")), "is_end": bool(validity.get("is_end"))}
                    if isinstance(validity, Mapping)
                    else None
                ),
            }
        found.append(
            {
                "name": str(d["name"]),
                "type": check_enum(d.get("type"), DIMENSION_TYPES, f"{what}: dimension type", path),
                "description": d.get("description"),
                "label": d.get("label"),
                "is_partition": bool(d.get("is_partition", False)),
                "type_params": type_params,
                "expr": _text(d.get("expr")),
                "metadata": None,
                "config": _element_config(d, meta),
            }
        )
    return found


def _measures(entry: Mapping[str, Any], meta: Mapping[str, Any], what: str, path: str) -> list[dict[str, Any]]:
    found = []
    for m in _elements(entry, "measures", what, path):
        params = m.get("agg_params")
        non_additive = m.get("non_additive_dimension")
        found.append(
            {
                "name": str(m["name"]),
                "agg": check_enum(m.get("agg"), AGGREGATIONS, f"{what}: measure agg", path),
                "description": m.get("description"),
                "label": m.get("label"),
                "create_metric": False,  # as dbt lists it; the metric it asks for is made alongside
                "expr": _text(m.get("expr")),
                "agg_params": (
                    {
                        "percentile": params.get("percentile"),
                        "use_discrete_percentile": bool(params.get("use_discrete_percentile", False)),
                        "use_approximate_percentile": bool(params.get("use_approximate_percentile", False)),
                    }
                    if isinstance(params, Mapping)
                    else None
                ),
                "non_additive_dimension": (
                    {
                        "name": str(non_additive.get("name")),
                        "window_choice": check_enum(
                            non_additive.get("window_choice", "min"), AGGREGATIONS, f"{what}: window_choice", path
                        ),
                        "window_groupings": [str(g) for g in non_additive.get("window_groupings") or []],
                    }
                    if isinstance(non_additive, Mapping)
                    else None
                ),
                "agg_time_dimension": m.get("agg_time_dimension"),
                "config": _element_config(m, meta),
            }
        )
    return found


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_semantic_model(
    entry: Mapping[str, Any],
    path: str,
    package: str,
    trees: list[Mapping[str, Any]],
    root_tree: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One ``semantic_models:`` entry in the manifest's shape (its ``model`` not yet resolved)."""
    name = str(entry["name"])
    what = f"Semantic model '{name}'"
    model = entry.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ProjectError(f"{what} needs a `model`, e.g. model: ref('orders')", path=path)
    fqn = yaml_fqn(package, path, name)
    own = dict(entry.get("config") or {})
    config = resource_config(SEMANTIC_MODEL_DEFAULTS, fqn, trees, own, root_tree)
    meta = config.get("meta") or {}
    defaults = entry.get("defaults")
    return {
        "name": name,
        "resource_type": "semantic_model",
        "package_name": package,
        "path": path.split("/", 1)[-1],
        "original_file_path": path,
        "unique_id": f"semantic_model.{package}.{name}",
        "fqn": fqn,
        "model": model,
        "node_relation": None,
        "description": entry.get("description"),
        "label": entry.get("label"),
        "defaults": {"agg_time_dimension": defaults.get("agg_time_dimension")}
        if isinstance(defaults, Mapping)
        else None,
        "entities": _entities(entry, meta, what, path),
        "measures": _measures(entry, meta, what, path),
        "dimensions": _dimensions(entry, meta, what, path),
        "metadata": None,
        "depends_on": {"macros": [], "nodes": []},
        "refs": [_model_ref(model, what, path)],
        "created_at": time.time(),
        "config": config,
        "unrendered_config": own,  # dbt's: the entry's own config (its project's are not listed)
        "primary_entity": entry.get("primary_entity"),
        "group": config.get("group"),
    }


def _model_ref(model: str, what: str, path: str) -> dict[str, Any]:
    """``model: ref('orders')`` (or ``ref('pkg', 'orders')``, ``ref('orders', v=2)``) as a ref entry."""
    call = parse_call(model)
    if call is None or call[0] != "ref" or not 1 <= len(call[1]) <= 2:
        raise ProjectError(f"{what}: `model` must be ref('...'), got {model!r}", path=path)
    _, args, kwargs = call
    package = args[0] if len(args) == 2 else kwargs.get("package")
    return {"name": args[-1], "package": package, "version": kwargs.get("version", kwargs.get("v"))}


def link_semantic_model(semantic_model: dict[str, Any], resolver: Resolver, restricted: Collection[str] = ()) -> None:
    """Resolve ``model: ref(...)``: the semantic model's depends_on and node_relation."""
    path = semantic_model["original_file_path"]
    ref = semantic_model["refs"][0]
    name, package, version = ref["name"], ref["package"], ref["version"]
    try:
        target = resolver.find_node(name, package, version, semantic_model["package_name"])
    except DependencyError as exc:  # several packages have the name
        exc.path = path
        raise
    if target is None:
        raise target_not_found(semantic_model, "node", name, package, disabled=resolver.is_disabled(name))
    error = access_error(
        semantic_model["unique_id"],
        "semantic_model",
        semantic_model["package_name"],
        semantic_model["group"],
        target,
        restricted,
    )
    if error is not None:
        error.path = path
        raise error
    semantic_model["depends_on"]["nodes"] = [target.unique_id]
    semantic_model["node_relation"] = {
        "alias": target.alias,
        "schema_name": target.schema,
        "database": target.database,
        "relation_name": target.relation_name,
    }


def created_metric(measure: Mapping[str, Any], semantic_model: Mapping[str, Any]) -> dict[str, Any]:
    """The ``metrics:`` entry dbt makes for a measure with ``create_metric: true``."""
    return {
        "name": measure["name"],
        "label": measure.get("label") or measure["name"],
        "type": "simple",
        "type_params": {"measure": measure["name"], "expr": _text(measure.get("expr")) or measure["name"]},
        "description": measure.get("description") or f"Metric created from measure {measure['name']}",
        "config": {"enabled": semantic_model["config"].get("enabled", True), "meta": semantic_model["config"]["meta"]},
    }


def check_time_spines(manifest: Manifest, log: Callable[[str], None], flags: Mapping[str, Any]) -> None:
    """dbt's requirement: a project with semantic models has a time spine of day or finer; the legacy
    ``metricflow_time_spine`` model counts, with dbt's deprecation warning when metrics use it."""
    if not manifest.semantic_models:
        return
    finest = min((GRAIN_ORDER.get(grain, len(GRAIN_ORDER)) for _, grain in time_spines(manifest)), default=None)
    legacy = legacy_time_spine(manifest)
    if legacy is not None:
        finest = min(finest if finest is not None else GRAIN_ORDER["day"], GRAIN_ORDER["day"])
    if finest is None or finest > GRAIN_ORDER["day"]:
        raise ProjectError(
            "The semantic layer requires a time spine model with granularity DAY or smaller in the project, "
            "but none was found. Guidance on creating this model can be found on our docs site "
            "(https://docs.getdbt.com/docs/build/metricflow-time-spine)."
        )
    has_day = any(grain == "day" for _, grain in time_spines(manifest))
    uses_legacy = legacy is not None and getattr(legacy, "time_spine", None) is None
    if (
        manifest.metrics
        and uses_legacy
        and not has_day
        and not flags.get("require_yaml_configuration_for_mf_time_spines")
    ):
        log(wrapped(warning(_LEGACY_TIME_SPINE_WARNING)))
