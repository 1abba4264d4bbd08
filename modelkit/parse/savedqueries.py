"""``saved_queries:`` of property files, in dbt's shapes.

A saved query names metrics, how to group, filter, order and limit them, and the exports that would
write its result to a table or a view (placed as dbt places a node: ``generate_schema_name`` and
friends). It depends on its metrics, which :mod:`modelkit.parse.metrics` resolves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from modelkit.core.errors import ProjectError
from modelkit.parse.resources import check_enum, resource_config, string_list, yaml_fqn

EXPORT_DESTINATIONS = ("table", "view")
SAVED_QUERY_DEFAULTS: dict[str, Any] = {
    "enabled": True, "group": None, "meta": {}, "export_as": None, "schema": None, "cache": {"enabled": False},
}  # fmt: skip
# (package, name, config) -> (database, schema, alias), as the generate_*_name macros place a node
Place = Callable[[str, str, dict[str, Any]], tuple[str | None, str | None, str | None]]


def where(value: Any) -> dict[str, Any] | None:
    """A ``filter:`` / ``where:`` (one template or a list of them) as dbt's WhereFilterIntersection."""
    if value is None:
        return None
    return {"where_filters": [{"where_sql_template": str(v)} for v in string_list(value)]}


def parse_saved_query(
    entry: Mapping[str, Any],
    path: str,
    package: str,
    trees: list[Mapping[str, Any]],
    root_tree: Mapping[str, Any] | None,
    place: Place,
) -> dict[str, Any]:
    """One ``saved_queries:`` entry in the manifest's shape, its exports placed as dbt places them."""
    name = str(entry["name"])
    what = f"Saved query '{name}'"
    params = entry.get("query_params")
    if not isinstance(params, Mapping):
        raise ProjectError(f"{what} needs `query_params`", path=path)
    fqn = yaml_fqn(package, path, name)
    own = dict(entry.get("config") or {})
    config = resource_config(SAVED_QUERY_DEFAULTS, fqn, trees, own, root_tree)
    exports = []
    for export in entry.get("exports") or []:
        if not isinstance(export, Mapping) or not export.get("name"):
            raise ProjectError(f"{what}: every export needs a `name`", path=path)
        raw = dict(export.get("config") or {})
        combined = {**config, **raw}
        export_as = combined.get("export_as")
        if export_as is None:
            raise ProjectError(f"{what}: export '{export['name']}' needs `export_as` (table or view)", path=path)
        database, schema, alias = place(package, str(export["name"]), combined)
        exports.append(
            {
                "name": str(export["name"]),
                "config": {
                    "export_as": check_enum(export_as, EXPORT_DESTINATIONS, f"{what}: export_as", path),
                    "schema_name": combined.get("schema_name") or combined.get("schema") or schema,
                    "alias": combined.get("alias") or alias,
                    "database": database or combined.get("database"),
                },
                "unrendered_config": raw,
            }
        )
    return {
        "name": name,
        "resource_type": "saved_query",
        "package_name": package,
        "path": path.split("/", 1)[-1],
        "original_file_path": path,
        "unique_id": f"saved_query.{package}.{name}",
        "fqn": fqn,
        "query_params": {
            "metrics": string_list(params.get("metrics")),
            "group_by": string_list(params.get("group_by")),
            "where": where(params.get("where")),
            "order_by": string_list(params.get("order_by")),
            "limit": params.get("limit"),
        },
        "exports": exports,
        "description": entry.get("description"),
        "label": entry.get("label"),
        "metadata": None,
        "config": config,
        "unrendered_config": own,
        "group": config.get("group"),
        "depends_on": {"macros": [], "nodes": []},
        "created_at": time.time(),
        "refs": [],
        "tags": sorted(set(string_list(entry.get("tags")) + string_list(config.get("tags")))),
    }
