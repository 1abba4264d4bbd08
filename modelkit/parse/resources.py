"""``groups:`` and ``exposures:`` of property files, in the shapes of dbt's manifest, and what the
parsers of the other resources of property files share (entries, ``ref()`` calls, fqns, configs).

A group names an owner for the models that declare it (``group:``); an exposure names what reads the
project's models (a dashboard, a notebook, ...) and depends on them through ``ref()`` / ``source()`` /
``metric()``.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Mapping
from typing import Any

from modelkit.core.config import copy_data, merge_into, tree_configs
from modelkit.core.errors import ProjectError
from modelkit.core.manifest import Manifest
from modelkit.core.text import did_you_mean
from modelkit.graph.resolve import Resolver, target_not_found
from modelkit.parse.schema_yaml import SchemaFiles

EXPOSURE_TYPES = ("dashboard", "notebook", "analysis", "ml", "application")
CALLS = ("ref", "source", "metric")


def entries(schema: SchemaFiles, key: str) -> list[tuple[str, Mapping[str, Any]]]:
    """(path, entry) of every entry under ``key:`` of the property files, in file order."""
    found = []
    for path, document in schema.raw.items():
        found.extend((path, entry) for entry in file_entries(document, key, path))
    return found


def file_entries(document: Any, key: str, path: str) -> list[Mapping[str, Any]]:
    """The entries under ``key:`` of one property file; each must be a mapping with a ``name``."""
    found = document.get(key) if isinstance(document, Mapping) else None
    if found is None:
        return []
    if not isinstance(found, list) or not all(isinstance(e, Mapping) and e.get("name") for e in found):
        raise ProjectError(f"`{key}:` must be a list of entries, each with a `name`", path=path)
    return found


def parse_call(text: str) -> tuple[str, list[str], dict[str, Any]] | None:
    """``ref('pkg', 'name', v=2)`` as ``('ref', ['pkg', 'name'], {'v': 2})``: a call of ref(), source() or
    metric() with literal arguments, as property files write them (``None`` for anything else)."""
    try:
        call = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.func.id not in CALLS:
        return None
    try:
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except ValueError:
        return None
    if not all(isinstance(a, str) for a in args):
        return None
    return call.func.id, args, kwargs


def yaml_fqn(package: str, path: str, name: str) -> list[str]:
    """dbt's fqn of a resource defined in a property file: the package, the file's folders, its name."""
    return [package, *path.split("/")[1:-1], name]


def resource_config(
    defaults: Mapping[str, Any],
    fqn: list[str],
    trees: list[Mapping[str, Any]],
    entry_config: Mapping[str, Any],
    root_tree: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A resource's config as dbt merges it: defaults, its project's ``trees`` for ``fqn`` (shallow first),
    the entry's ``config:``, and for a package's resource the root project's tree last."""
    config = copy_data(dict(defaults))
    for tree in trees:
        for layer in tree_configs(tree, fqn):
            merge_into(config, layer)
    merge_into(config, entry_config)
    for layer in tree_configs(root_tree, fqn):
        merge_into(config, layer)
    return config


def check_enum(value: Any, allowed: tuple[str, ...], what: str, path: str) -> str:
    """``value`` (case-insensitive) if it is one of ``allowed``, else a located error naming them."""
    text = str(value).lower() if value is not None else ""
    if text not in allowed:
        raise ProjectError(f"{what} `{value}` is invalid: expected one of {', '.join(allowed)}", path=path)
    return text


def string_list(value: Any) -> list[str]:
    """A YAML value that may be one string or a list of them, as a list."""
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _owner(entry: Mapping[str, Any], what: str, path: str) -> dict[str, Any]:
    owner = entry.get("owner")
    if not isinstance(owner, Mapping) or not (owner.get("name") or owner.get("email")):
        raise ProjectError(f"{what} needs an `owner` with a `name` or an `email`", path=path)
    return {"email": owner.get("email"), "name": owner.get("name")}


def add_groups(manifest: Manifest, schema: SchemaFiles, package: str) -> None:
    """The ``groups:`` entries of one project or package."""
    for path, entry in entries(schema, "groups"):
        name = str(entry["name"])
        manifest.groups[f"group.{package}.{name}"] = {
            "name": name,
            "resource_type": "group",
            "package_name": package,
            "path": path.split("/", 1)[-1],
            "original_file_path": path,
            "unique_id": f"group.{package}.{name}",
            "owner": _owner(entry, f"Group '{name}'", path),
            "description": str(entry.get("description") or "") or None,
            "config": {"meta": dict((entry.get("config") or {}).get("meta") or {})},
        }


def check_groups(manifest: Manifest) -> None:
    """Every ``group:`` of a metric, semantic model, saved query or node names a group, as dbt requires."""
    known = sorted(g["name"] for g in manifest.groups.values())
    members = [
        (r["group"], r["resource_type"], r["name"], r["original_file_path"])
        for table in (manifest.metrics, manifest.semantic_models, manifest.saved_queries)
        for r in table.values()
    ]
    members += [(n.config.get("group"), n.resource_type, n.name, n.original_file_path) for n in manifest.nodes.values()]
    for group, kind, name, path in members:
        if group and str(group) not in known:
            raise ProjectError(
                f"Invalid group '{group}', expected one of {known}." + did_you_mean(str(group), known),
                path=path,
                node=f"{kind} {name}",
            )


def add_exposures(manifest: Manifest, schema: SchemaFiles, package: str, resolver: Resolver) -> None:
    """The ``exposures:`` entries of one project or package, their ``depends_on`` (``ref()``, ``source()``,
    ``metric()``) resolved to nodes."""
    for path, entry in entries(schema, "exposures"):
        name = str(entry["name"])
        what = f"Exposure '{name}'"
        kind = str(entry.get("type") or "")
        if kind not in EXPOSURE_TYPES:
            raise ProjectError(f"{what} has type '{kind}'; use one of {', '.join(EXPOSURE_TYPES)}", path=path)
        refs: list[dict[str, Any]] = []
        sources: list[list[str]] = []
        metrics: list[list[str]] = []
        depends: list[str] = []
        config = {"enabled": True, "tags": list(entry.get("tags") or []), "meta": dict(entry.get("meta") or {})}
        exposure = {
            "name": name,
            "resource_type": "exposure",
            "package_name": package,
            "path": path.split("/", 1)[-1],
            "original_file_path": path,
            "unique_id": f"exposure.{package}.{name}",
            "fqn": yaml_fqn(package, path, name),
            "type": kind,
            "owner": _owner(entry, what, path),
            "description": str(entry.get("description") or ""),
            "label": entry.get("label"),
            "maturity": entry.get("maturity"),
            "meta": config["meta"],
            "tags": config["tags"],
            "config": config,
            "unrendered_config": {},
            "url": entry.get("url"),
            "depends_on": {"macros": [], "nodes": depends},
            "refs": refs,
            "sources": sources,
            "metrics": metrics,
            "created_at": time.time(),
        }
        ref_targets: list[str] = []
        for text in entry.get("depends_on") or []:
            call = parse_call(str(text))
            if call is None or (call[0] == "source" and len(call[1]) != 2) or not 1 <= len(call[1]) <= 2:
                raise ProjectError(
                    f"{what}: depends_on entry {text!r} is not ref('...'), source('...', '...') or metric('...')",
                    path=path,
                )
            func, args, kwargs = call
            if func == "ref":
                model, project = args[-1], args[0] if len(args) == 2 else kwargs.get("package")
                version = kwargs.get("version", kwargs.get("v"))
                target = resolver.find_node(model, project, version, package)
                if target is None:
                    error = resolver.missing_ref_error(None, model, version=version, package=project)
                    error.message, error.path = error.message.replace("A node", what, 1), path
                    raise error
                refs.append({"name": model, "package": project, "version": version})
                ref_targets.append(target.unique_id)
            elif func == "source":
                found = resolver.find_source(args[0], args[1], package)
                if found is None:
                    error = resolver.missing_source_error(None, args[0], args[1])
                    error.message, error.path = error.message.replace("A node", what, 1), path
                    raise error
                sources.append([args[0], args[1]])
                ref_targets.append(found.unique_id)
            else:
                metrics.append(list(args))  # metric('name') or metric('package', 'name'), as written
        depends.extend(dict.fromkeys(ref_targets))  # as dbt: refs and sources, then metrics
        for reference in metrics:
            target_metric = find_metric(
                manifest, resolver, reference[-1], reference[0] if len(reference) == 2 else None, package
            )
            if target_metric is None or not target_metric.get("config", {}).get("enabled", True):
                raise target_not_found(
                    exposure,
                    "metric",
                    reference[-1],
                    reference[0] if len(reference) == 2 else None,
                    disabled=target_metric is not None,
                )
            if target_metric["unique_id"] not in depends:
                depends.append(target_metric["unique_id"])
        manifest.exposures[exposure["unique_id"]] = exposure


def find_metric(
    manifest: Manifest, resolver: Resolver, name: str, package: str | None, node_package: str
) -> dict[str, Any] | None:
    """The metric ``name`` means to a resource of ``node_package`` (dbt's search order): an enabled one,
    else a disabled one (``config.enabled`` false), else None."""
    disabled = None
    for searched in resolver.search_order(package, node_package):
        for metric in manifest.metrics.values():
            if metric["name"] == name and (searched is None or metric["package_name"] == searched):
                return metric
        if disabled is None:
            for uid, found in manifest.disabled_resources.items():
                if uid.startswith("metric.") and found[0]["name"] == name:
                    if searched is None or found[0]["package_name"] == searched:
                        disabled = found[0]
    return disabled
