"""``target/catalog.json``: what the database says about each built relation, in dbt's shape."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from modelkit.adapters.base import Capability
from modelkit.artifacts import writer as artifacts
from modelkit.core.manifest import Manifest

CATALOG_SCHEMA = "https://schemas.getdbt.com/dbt/catalog/v1.json"
CATALOGED_TYPES = ("model", "seed", "snapshot")


@dataclass
class CatalogColumn:
    name: str
    type: str
    index: int  # 1-based, as in the database
    comment: str | None = None


@dataclass
class CatalogEntry:
    """One relation as the database describes it."""

    unique_id: str
    database: str
    schema: str
    name: str
    type: str  # "BASE TABLE" or "VIEW"
    comment: str | None = None
    row_count: int | None = None
    columns: list[CatalogColumn] = field(default_factory=list)
    owner: str | None = None

    def column_types(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}


def _key(database: str | None, schema: str | None, name: str) -> tuple[str, str, str]:
    return ((database or "").lower(), (schema or "").lower(), name.lower())


def relation_keys(manifest: Manifest, unique_ids: Iterable[str]) -> dict[tuple[str, str, str], list[str]]:
    """(database, schema, identifier), lower-cased, to the nodes and sources that are that relation.

    Usually one; a source may name the table a seed or a model builds.
    """
    found: dict[tuple[str, str, str], list[str]] = {}
    for uid in unique_ids:
        node: Any = manifest.nodes.get(uid) or manifest.sources.get(uid)
        if node is None:
            continue
        if node.resource_type == "source":
            found.setdefault(_key(node.database, node.schema, node.identifier), []).append(uid)
        elif node.resource_type in CATALOGED_TYPES and not node.is_ephemeral:
            found.setdefault(_key(node.database, node.schema, node.alias or node.name), []).append(uid)
    return found


def read_catalog(adapter: Any, manifest: Manifest, unique_ids: Iterable[str]) -> dict[str, CatalogEntry]:
    """Catalog entries (by unique_id) of the given nodes and sources whose relation exists."""
    return fetch_catalog(adapter, relation_keys(manifest, unique_ids))


def fetch_catalog(adapter: Any, wanted: dict[tuple[str, str, str], list[str]]) -> dict[str, CatalogEntry]:
    """Catalog entries of these relations (see :func:`relation_keys`); reads nothing of the manifest,
    so that it may run on a thread of its own while the manifest is in use."""
    if not wanted:
        return {}
    schemas = sorted({(db, schema) for db, schema, _ in wanted})
    entries: dict[str, CatalogEntry] = {}
    if Capability.CATALOG_QUERY in adapter.capabilities:
        relations = adapter.get_catalog(schemas)
    else:  # an engine without a catalog query: ask relation by relation
        relations = _catalog_by_relation(adapter, wanted)
    for rel in relations:
        for uid in wanted.get(_key(rel["database"], rel["schema"], rel["name"]), []):
            entries[uid] = _entry(uid, rel)
    return entries


def _entry(uid: str, rel: dict[str, Any]) -> CatalogEntry:
    return CatalogEntry(
        unique_id=uid,
        database=rel["database"],
        schema=rel["schema"],
        name=rel["name"],
        type=rel["type"],
        comment=rel.get("comment"),
        row_count=rel.get("row_count"),
        owner=rel.get("owner"),
        columns=[CatalogColumn(name, dtype, i, comment) for i, (name, dtype, comment) in enumerate(rel["columns"], 1)],
    )


def _catalog_by_relation(adapter: Any, wanted: dict[tuple[str, str, str], list[str]]) -> list[dict[str, Any]]:
    out = []
    for db, schema, name in wanted:
        relation = adapter.get_relation(db, schema, name)
        if relation is None:
            continue
        columns = adapter.get_columns(relation)
        out.append(
            {
                "database": relation.database or db,
                "schema": relation.schema or schema,
                "name": relation.identifier,
                "type": "VIEW" if relation.type == "view" else "BASE TABLE",
                "comment": None,
                "row_count": None,
                "columns": [(c.name, c.data_type, None) for c in columns],
            }
        )
    return out


def _stats(entry: CatalogEntry) -> dict[str, Any]:
    if entry.row_count is None:
        return {
            "has_stats": {
                "id": "has_stats",
                "label": "Has Stats?",
                "value": False,
                "include": False,
                "description": "Indicates whether there are statistics for this table",
            }
        }
    return {
        "row_count": {
            "id": "row_count",
            "label": "Row Count",
            "value": entry.row_count,
            "include": True,
            "description": "Number of rows in the table",
        },
        "has_stats": {
            "id": "has_stats",
            "label": "Has Stats?",
            "value": True,
            "include": False,
            "description": "Indicates whether there are statistics for this table",
        },
    }


def entry_dict(entry: CatalogEntry) -> dict[str, Any]:
    return {
        "metadata": {
            "type": entry.type,
            "schema": entry.schema,
            "name": entry.name,
            "database": entry.database,
            "comment": entry.comment,
            "owner": entry.owner,
        },
        "columns": {
            c.name: {"type": c.type, "index": c.index, "name": c.name, "comment": c.comment} for c in entry.columns
        },
        "stats": _stats(entry),
        "unique_id": entry.unique_id,
    }


def catalog_dict(entries: dict[str, CatalogEntry], invocation_id: str) -> dict[str, Any]:
    """The whole ``catalog.json`` document."""
    meta = artifacts.metadata("", invocation_id, CATALOG_SCHEMA)
    for key in ("project_name", "project_id", "adapter_type", "quoting", "user_id", "send_anonymous_usage_stats"):
        meta.pop(key, None)
    meta["invocation_started_at"] = meta["generated_at"]
    nodes = {uid: entry_dict(e) for uid, e in sorted(entries.items()) if not uid.startswith("source.")}
    sources = {uid: entry_dict(e) for uid, e in sorted(entries.items()) if uid.startswith("source.")}
    return {"metadata": meta, "nodes": nodes, "sources": sources, "errors": None}
