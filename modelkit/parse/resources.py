"""``groups:`` and ``exposures:`` of property files, in the shapes of dbt's manifest.

A group names an owner for the models that declare it (``group:``); an exposure names what reads the
project's models (a dashboard, a notebook, ...) and depends on them through ``ref()`` / ``source()``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from modelkit.core.errors import ProjectError
from modelkit.core.manifest import Manifest
from modelkit.core.text import did_you_mean
from modelkit.graph.resolve import Resolver
from modelkit.parse.schema_yaml import SchemaFiles

EXPOSURE_TYPES = ("dashboard", "notebook", "analysis", "ml", "application")
_REF = re.compile(r"""^\s*ref\(\s*(['"])(?P<a>[^'"]+)\1\s*(?:,\s*(['"])(?P<b>[^'"]+)\3\s*)?\)\s*$""")
_SOURCE = re.compile(r"""^\s*source\(\s*(['"])(?P<s>[^'"]+)\1\s*,\s*(['"])(?P<t>[^'"]+)\3\s*\)\s*$""")


def _entries(schema: SchemaFiles, key: str) -> list[tuple[str, Mapping[str, Any]]]:
    found = []
    for path, document in schema.raw.items():
        entries = document.get(key) if isinstance(document, Mapping) else None
        if entries is None:
            continue
        if not isinstance(entries, list) or not all(isinstance(e, Mapping) and e.get("name") for e in entries):
            raise ProjectError(f"`{key}:` must be a list of entries, each with a `name`", path=path)
        found.extend((path, entry) for entry in entries)
    return found


def _owner(entry: Mapping[str, Any], what: str, path: str) -> dict[str, Any]:
    owner = entry.get("owner")
    if not isinstance(owner, Mapping) or not (owner.get("name") or owner.get("email")):
        raise ProjectError(f"{what} needs an `owner` with a `name` or an `email`", path=path)
    return {"email": owner.get("email"), "name": owner.get("name")}


def add_groups(manifest: Manifest, schema: SchemaFiles, package: str) -> None:
    """The ``groups:`` entries of one project or package."""
    for path, entry in _entries(schema, "groups"):
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
    """Every model's ``group:`` names a group, as dbt requires."""
    known = {g["name"] for g in manifest.groups.values()}
    for node in manifest.nodes.values():
        group = node.config.get("group")
        if group and str(group) not in known:
            raise ProjectError(
                f"Invalid group '{group}', expected one of {sorted(known)}." + did_you_mean(str(group), sorted(known)),
                path=node.original_file_path,
                node=f"{node.resource_type} {node.name}",
            )


def add_exposures(manifest: Manifest, schema: SchemaFiles, package: str, resolver: Resolver) -> None:
    """The ``exposures:`` entries of one project or package, their ``depends_on`` resolved to nodes."""
    for path, entry in _entries(schema, "exposures"):
        name = str(entry["name"])
        what = f"Exposure '{name}'"
        kind = str(entry.get("type") or "")
        if kind not in EXPOSURE_TYPES:
            raise ProjectError(f"{what} has type '{kind}'; use one of {', '.join(EXPOSURE_TYPES)}", path=path)
        refs: list[dict[str, Any]] = []
        sources: list[list[str]] = []
        depends: list[str] = []
        for text in entry.get("depends_on") or []:
            ref, source = _REF.match(str(text)), _SOURCE.match(str(text))
            if ref is not None:
                model, project = ref.group("b") or ref.group("a"), ref.group("a") if ref.group("b") else None
                target = resolver.find_node(model, project, None, package)
                if target is None:
                    error = resolver.missing_ref_error(None, model, package=project)
                    error.message, error.path = error.message.replace("A node", what, 1), path
                    raise error
                refs.append({"name": model, "package": project, "version": None})
                depends.append(target.unique_id)
            elif source is not None:
                found = resolver.find_source(source.group("s"), source.group("t"), package)
                if found is None:
                    error = resolver.missing_source_error(None, source.group("s"), source.group("t"))
                    error.message, error.path = error.message.replace("A node", what, 1), path
                    raise error
                sources.append([source.group("s"), source.group("t")])
                depends.append(found.unique_id)
            else:
                raise ProjectError(
                    f"{what}: depends_on entry {text!r} is not ref('...') or source('...', '...')", path=path
                )
        config = {"enabled": True, "tags": list(entry.get("tags") or []), "meta": dict(entry.get("meta") or {})}
        manifest.exposures[f"exposure.{package}.{name}"] = {
            "name": name,
            "resource_type": "exposure",
            "package_name": package,
            "path": path.split("/", 1)[-1],
            "original_file_path": path,
            "unique_id": f"exposure.{package}.{name}",
            "fqn": [package, *path.split("/")[1:-1], name],
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
            "depends_on": {"macros": [], "nodes": list(dict.fromkeys(depends))},
            "refs": refs,
            "sources": sources,
            "metrics": [],
            "created_at": time.time(),
        }
