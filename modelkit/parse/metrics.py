"""``metrics:`` and ``saved_queries:`` of property files, in dbt's shapes, and what they depend on.

A metric is ``simple`` or ``cumulative`` (over one measure), ``conversion`` (a base and a conversion
measure), ``ratio`` (a numerator and a denominator metric) or ``derived`` (an expression over metrics);
it depends on the semantic models whose measures it uses, or on the metrics it is built from. A saved
query names metrics (and how to group and filter them) and depends on those metrics.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from modelkit.core.config import tree_configs
from modelkit.core.errors import DependencyError, ProjectError
from modelkit.core.manifest import Manifest
from modelkit.graph.resolve import Resolver, target_not_found
from modelkit.parse.resources import check_enum, file_entries, find_metric, resource_config, string_list, yaml_fqn
from modelkit.parse.savedqueries import Place, parse_saved_query, where
from modelkit.parse.schema_yaml import SchemaFiles
from modelkit.parse.semantic import GRANULARITIES, created_metric, link_semantic_model, parse_semantic_model
from modelkit.parse.yamlwarnings import warning, wrapped
from modelkit.project.project import ProjectConfig

METRIC_TYPES = ("simple", "ratio", "cumulative", "derived", "conversion")
PERIOD_AGGREGATIONS = ("first", "last", "average")
CONVERSION_CALCULATIONS = ("conversions", "conversion_rate")
METRIC_DEFAULTS: dict[str, Any] = {"enabled": True, "group": None, "meta": {}}
_CUMULATIVE_WARNING = (
    "Cumulative fields `type_params.window` and `type_params.grain_to_date` have been moved and will soon "
    "be deprecated. Please nest those values under `type_params.cumulative_type_params.window` and "
    "`type_params.cumulative_type_params.grain_to_date`. See documentation on behavior changes: "
    "https://docs.getdbt.com/reference/global-configs/behavior-changes."
)


def _window(value: Any, path: str) -> dict[str, Any] | None:
    """``'7 days'`` as ``{count: 7, granularity: day}`` (dbt drops the plural of a standard grain)."""
    if value is None:
        return None
    text = str(value)
    parts = text.lower().split(" ")
    if len(parts) != 2:
        raise ProjectError(
            f"Invalid window ({text}) in cumulative/conversion metric. Should be of the form "
            "`<count> <granularity>`, e.g., `28 days`",
            path=path,
        )
    count, granularity = parts
    if granularity.endswith("s") and granularity[:-1] in GRANULARITIES:
        granularity = granularity[:-1]
    if not count.isdigit():
        raise ProjectError(
            f"Invalid count ({count}) in cumulative/conversion metric window string: ({text})", path=path
        )
    return {"count": int(count), "granularity": granularity}


def _input_measure(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        return {"name": str(value), "filter": None, "alias": None, "join_to_timespine": False, "fill_nulls_with": None}
    if not value.get("name"):
        raise ProjectError("A metric's measure needs a `name`", path=path)
    return {
        "name": str(value["name"]),
        "filter": where(value.get("filter")),
        "alias": value.get("alias"),
        "join_to_timespine": bool(value.get("join_to_timespine", False)),
        "fill_nulls_with": value.get("fill_nulls_with"),
    }


def _metric_input(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        return {"name": str(value), "filter": None, "alias": None, "offset_window": None, "offset_to_grain": None}
    if not value.get("name"):
        raise ProjectError("A metric's input metric needs a `name`", path=path)
    return {
        "name": str(value["name"]),
        "filter": where(value.get("filter")),
        "alias": value.get("alias"),
        "offset_window": _window(value.get("offset_window"), path),
        "offset_to_grain": value.get("offset_to_grain"),
    }


def _type_params(kind: str, params: Mapping[str, Any], what: str, path: str, log: Callable[[str], None]) -> dict:
    measure, numerator, denominator = params.get("measure"), params.get("numerator"), params.get("denominator")
    grain = params.get("grain_to_date")
    conversion = params.get("conversion_type_params")
    cumulative = None
    if kind == "cumulative":
        nested = params.get("cumulative_type_params") or {}
        if params.get("window") or params.get("grain_to_date"):
            log(wrapped(warning(_CUMULATIVE_WARNING)))
        cumulative = {
            "window": _window(nested.get("window") or params.get("window"), path),
            "grain_to_date": nested.get("grain_to_date") or params.get("grain_to_date"),
            "period_agg": check_enum(
                nested.get("period_agg", "first"), PERIOD_AGGREGATIONS, f"{what}: period_agg", path
            ),
            "metric": None,
        }
    if isinstance(conversion, Mapping):
        properties = conversion.get("constant_properties")
        conversion = {
            "base_measure": _input_measure(conversion.get("base_measure"), path),
            "conversion_measure": _input_measure(conversion.get("conversion_measure"), path),
            "entity": str(conversion.get("entity")),
            "calculation": check_enum(
                conversion.get("calculation", "conversion_rate"), CONVERSION_CALCULATIONS, f"{what}: calculation", path
            ),
            "window": _window(conversion.get("window"), path),
            "constant_properties": [
                {"base_property": str(p.get("base_property")), "conversion_property": str(p.get("conversion_property"))}
                for p in properties
                if isinstance(p, Mapping)
            ]
            if isinstance(properties, list)
            else None,
        }
    return {
        "measure": _input_measure(measure, path) if measure is not None else None,
        "input_measures": [],
        "numerator": _metric_input(numerator, path) if numerator is not None else None,
        "denominator": _metric_input(denominator, path) if denominator is not None else None,
        "expr": str(params["expr"]) if params.get("expr") is not None else None,
        "window": _window(params.get("window"), path),
        "grain_to_date": check_enum(grain, GRANULARITIES, f"{what}: grain_to_date", path) if grain else None,
        "metrics": [_metric_input(m, path) for m in params.get("metrics") or []],
        "conversion_type_params": conversion if isinstance(conversion, Mapping) else None,
        "cumulative_type_params": cumulative,
        "metric_aggregation_params": None,
    }


def parse_metric(
    entry: Mapping[str, Any],
    path: str,
    package: str,
    trees: list[Mapping[str, Any]],
    root_tree: Mapping[str, Any] | None,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """One ``metrics:`` entry in the manifest's shape (its input measures and depends_on not yet known)."""
    name = str(entry["name"])
    what = f"Metric '{name}'"
    for key in ("label", "type", "type_params"):
        if entry.get(key) is None:
            raise ProjectError(f"{what} needs a `{key}`", path=path)
    if not isinstance(entry["type_params"], Mapping):
        raise ProjectError(f"{what}: `type_params` must be a mapping", path=path)
    kind = check_enum(entry["type"], METRIC_TYPES, f"{what}: metric type", path)
    fqn = yaml_fqn(package, path, name)
    own = dict(entry.get("config") or {})
    config = resource_config(METRIC_DEFAULTS, fqn, trees, own, root_tree)
    unrendered: dict[str, Any] = {}  # dbt lists the project's `metrics:` configs too, shallow merged:
    for tree in trees:  # its own project's, the entry's, then (for a package) the root project's
        for layer in tree_configs(tree, fqn):
            unrendered.update(layer)
    unrendered.update(own)
    for layer in tree_configs(root_tree, fqn):
        unrendered.update(layer)
    return {
        "name": name,
        "resource_type": "metric",
        "package_name": package,
        "path": path.split("/", 1)[-1],
        "original_file_path": path,
        "unique_id": f"metric.{package}.{name}",
        "fqn": fqn,
        "description": str(entry.get("description") or ""),
        "label": str(entry["label"]),
        "type": kind,
        "type_params": _type_params(kind, entry["type_params"], what, path, log),
        "filter": where(entry.get("filter")),
        "metadata": None,
        "time_granularity": entry.get("time_granularity"),
        "meta": dict(config["meta"]) if config.get("meta") else dict(entry.get("meta") or {}),
        "tags": string_list(entry.get("tags")),
        "config": config,
        "unrendered_config": unrendered,
        "sources": [],
        "depends_on": {"macros": [], "nodes": []},
        "refs": [],
        "metrics": [],
        "created_at": time.time(),
        "group": config.get("group"),
    }


def _add(manifest: Manifest, table: dict[str, dict[str, Any]], resource: dict[str, Any]) -> None:
    uid = resource["unique_id"]
    if not resource["config"].get("enabled", True):
        manifest.disabled_resources.setdefault(uid, []).append(resource)
        return
    other = table.get(uid)
    if other is not None:  # dbt's DuplicateResourceNameError
        plural = {"saved_query": "saved_queries"}.get(resource["resource_type"], resource["resource_type"] + "s")
        raise ProjectError(
            f'modelkit found two {plural} with the name "{resource["name"]}".\n\n'
            "Since these resources have the same name, modelkit will be unable to find the correct resource\n"
            f"when looking for {resource['name']}.\n\n"
            "To fix this, change the name of one of these resources:\n"
            f"- {uid} ({resource['original_file_path']})\n"
            f"- {uid} ({other['original_file_path']})",
            path=resource["original_file_path"],
        )
    table[uid] = resource


def add_semantic_resources(
    manifest: Manifest,
    schema: SchemaFiles,
    project: ProjectConfig,
    root: ProjectConfig | None,
    place: Place,
    log: Callable[[str], None],
) -> None:
    """The ``metrics:``, ``semantic_models:`` (and the metrics their measures create) and
    ``saved_queries:`` of one project or package (``root``: the root project, for a package), file by
    file as dbt reads them. Nothing is resolved yet: see :func:`link_semantic_resources`."""
    package = project.name
    for path, document in schema.raw.items():
        for entry in file_entries(document, "metrics", path):
            metric = parse_metric(entry, path, package, [project.metrics], _root(root, "metrics"), log)
            _add(manifest, manifest.metrics, metric)
        for entry in file_entries(document, "semantic_models", path):
            semantic_model = parse_semantic_model(
                entry, path, package, [project.semantic_models], _root(root, "semantic_models")
            )
            _add(manifest, manifest.semantic_models, semantic_model)
            for measure in entry.get("measures") or []:
                if isinstance(measure, Mapping) and measure.get("create_metric") is True:
                    made = created_metric(measure, semantic_model)
                    metric = parse_metric(made, path, package, [project.metrics], _root(root, "metrics"), log)
                    _add(manifest, manifest.metrics, metric)
        for entry in file_entries(document, "saved_queries", path):
            saved_query = parse_saved_query(
                entry, path, package, [project.saved_queries], _root(root, "saved_queries"), place
            )
            _add(manifest, manifest.saved_queries, saved_query)


def _root(root: ProjectConfig | None, key: str) -> Mapping[str, Any] | None:
    return getattr(root, key) if root is not None else None


class _Measures:
    """Which semantic model (enabled or disabled) has each measure, by package: dbt's lookup."""

    def __init__(self, manifest: Manifest) -> None:
        self.index: dict[str, dict[str, dict[str, Any]]] = {}
        models = list(manifest.semantic_models.values())
        models += [d[0] for uid, d in manifest.disabled_resources.items() if uid.startswith("semantic_model.")]
        for semantic_model in models:
            for measure in semantic_model["measures"]:
                self.index.setdefault(measure["name"], {})[semantic_model["package_name"]] = semantic_model

    def find(self, name: str, packages: list[str | None]) -> dict[str, Any] | None:
        by_package = self.index.get(name) or {}
        for package in packages:
            if package is None:
                return next(iter(by_package.values()), None)
            if package in by_package:
                return by_package[package]
        return None


def link_semantic_resources(manifest: Manifest, resolver: Resolver, restricted: Collection[str] = ()) -> None:
    """Resolve what semantic models, metrics and saved queries depend on, with dbt's errors."""
    for semantic_model in manifest.semantic_models.values():
        link_semantic_model(semantic_model, resolver, restricted)
    measures = _Measures(manifest)
    for metric in manifest.metrics.values():
        _link_metric(manifest, resolver, measures, metric, [])
    for saved_query in manifest.saved_queries.values():
        depends = saved_query["depends_on"]["nodes"]
        for name in saved_query["query_params"]["metrics"]:
            target = find_metric(manifest, resolver, name, None, saved_query["package_name"])
            if target is None or not target["config"].get("enabled", True):
                raise target_not_found(saved_query, "metric", name)
            if target["unique_id"] not in depends:
                depends.append(target["unique_id"])


def _metric_error(metric: Mapping[str, Any], message: str) -> ProjectError:
    return ProjectError(message, path=metric["original_file_path"], node=f"metric {metric['name']}")


def _add_input_measure(metric: dict[str, Any], measure: dict[str, Any]) -> None:
    if measure not in metric["type_params"]["input_measures"]:
        metric["type_params"]["input_measures"].append(measure)


def _link_metric(
    manifest: Manifest, resolver: Resolver, measures: _Measures, metric: dict[str, Any], stack: list[str]
) -> None:
    """dbt's ``_process_metric_node``: the metric's input measures and depends_on, input metrics first."""
    params = metric["type_params"]
    if params["input_measures"]:
        return  # done already (an input of a metric linked before)
    kind = metric["type"]
    depends = metric["depends_on"]["nodes"]
    if kind in ("simple", "cumulative", "conversion"):
        if kind == "conversion":
            conversion = params["conversion_type_params"]
            if conversion is None:
                raise _metric_error(metric, f"{metric['name']} is a conversion metric and must have "
                                    "conversion_type_params defined.")  # fmt: skip
            inputs = [conversion["base_measure"], conversion["conversion_measure"]]
        else:
            if params["measure"] is None:
                raise _metric_error(
                    metric, f"Metric '{metric['name']}' should have a measure defined, but it does not."
                )
            inputs = [params["measure"]]
        packages = resolver.search_order(None, metric["package_name"])
        for measure in inputs:
            _add_input_measure(metric, measure)
            semantic_model = measures.find(measure["name"], packages)
            if semantic_model is None:
                raise _metric_error(
                    metric,
                    f"A semantic model having a measure `{measure['name']}` does not exist but was referenced.",
                )
            if not semantic_model["config"].get("enabled", True):
                raise _metric_error(
                    metric,
                    f"The measure `{measure['name']}` is referenced on disabled semantic model "
                    f"`{semantic_model['name']}`.",
                )
            if semantic_model["unique_id"] not in depends:
                depends.append(semantic_model["unique_id"])
        return
    if kind == "ratio":
        if params["numerator"] is None or params["denominator"] is None:
            raise _metric_error(metric, "Invalid ratio metric. Both a numerator and denominator must be specified")
        inputs = [params["numerator"], params["denominator"]]
    else:
        inputs = params["metrics"]
    for metric_input in inputs:
        target = find_metric(manifest, resolver, metric_input["name"], None, metric["package_name"])
        if target is None:
            raise _metric_error(
                metric,
                f"The metric `{metric_input['name']}` does not exist but was referenced by metric `{metric['name']}`.",
            )
        if not target["config"].get("enabled", True):
            raise _metric_error(
                metric, f"The metric `{metric_input['name']}` is disabled and thus cannot be referenced."
            )
        if target["unique_id"] in stack or target is metric:
            cycle = [*stack, metric["unique_id"], target["unique_id"]]
            cycle = cycle[cycle.index(target["unique_id"]) :]
            raise DependencyError(
                "Found a cycle: " + " -> ".join(uid.split(".", 2)[-1] for uid in cycle),
                path=metric["original_file_path"],
            )
        _link_metric(manifest, resolver, measures, target, [*stack, metric["unique_id"]])
        for measure in target["type_params"]["input_measures"]:
            _add_input_measure(metric, measure)
        if target["unique_id"] not in depends:
            depends.append(target["unique_id"])
