"""The data the site shows, in a compact shape the browser loads quickly.

Three parts:

- the *index*, read when the page opens: one small record per node (name, type, folder, schema,
  tags, description, parents, column names), enough for the lists, the search and the lineage graph;
- the *details*, in chunks read when a node's page is first opened: SQL, columns, tests, meta;
- the *column lineage*, read when a column's lineage is first shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelkit.analysis.lineage import NodeLineage
from modelkit.core.manifest import Manifest
from modelkit.docs.catalog import CatalogEntry
from modelkit.docs.testinfo import TestInfo

CHUNK_SIZE = 200  # nodes per detail chunk
TYPE_ORDER = ("source", "seed", "model", "snapshot", "analysis", "operation", "test", "unit_test")
CONFIG_SHOWN = ("materialized", "access", "unique_key", "incremental_strategy", "on_schema_change", "contract",
                "severity", "strategy", "updated_at", "persist_docs", "full_refresh", "group")  # fmt: skip


@dataclass
class SiteInputs:
    manifest: Manifest
    meta: dict[str, Any]
    descriptions: dict[str, dict[str, Any]]  # uid -> {description, columns {name: text}}
    catalog: dict[str, CatalogEntry] = field(default_factory=dict)
    compiled: dict[str, str] = field(default_factory=dict)
    lineage: dict[str, NodeLineage] = field(default_factory=dict)
    derived_columns: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # not in the catalog
    tests: list[TestInfo] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


def _order(item: tuple[str, Any]) -> tuple[int, str, str]:
    uid, node = item
    kind = node.resource_type
    return (TYPE_ORDER.index(kind) if kind in TYPE_ORDER else len(TYPE_ORDER), node.name, uid)


_EMPTY = (None, "", [], {})
_PLAIN = (str, list, dict)


def _drop_empty(record: dict[str, Any]) -> dict[str, Any]:
    """Without the keys whose value is None, "", [] or {} (the page reads a missing key as empty)."""
    # (a plain str, list or dict is empty when false: a cheaper test than comparing with each)
    return {k: v for k, v in record.items() if (v if type(v) in _PLAIN else v not in _EMPTY)}


def build(inputs: SiteInputs) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """(index, details by node position, column lineage by node position)."""
    manifest = inputs.manifest
    items: list[tuple[str, Any]] = sorted([*manifest.nodes.items(), *manifest.sources.items()], key=_order)
    tests_by_uid = {t.unique_id: t for t in inputs.tests}
    declared = [(t.unique_id, t) for t in inputs.tests if t.declared_only and t.unique_id not in manifest.nodes]
    items += sorted(declared, key=lambda it: it[1].name)
    position = {uid: i for i, (uid, _) in enumerate(items)}
    column_tests: dict[tuple[str, str], list[int]] = {}
    for test in inputs.tests:
        if test.attached and test.column:
            column_tests.setdefault((test.attached, test.column.lower()), []).append(position[test.unique_id])

    nodes: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []
    lineage: dict[str, Any] = {}
    for i, (uid, node) in enumerate(items):
        test = tests_by_uid.get(uid)
        if isinstance(node, TestInfo):
            nodes.append(_test_record(node, position))
            details.append(_test_detail(node))
            continue
        columns = _columns(inputs, uid, node)
        rendered = inputs.descriptions.get(uid, {})
        record: dict[str, Any] = {
            "id": uid,
            "n": node.name,
            "t": node.resource_type,
            "p": node.original_file_path,
            "pk": node.package_name,
            "q": _fqn(node),
            "db": node.database,
            "s": node.schema,
            "r": _relation_name(node),
            "m": _materialized(node),
            "g": list(node.tags),
            "d": rendered.get("description", node.description),
            "pa": [position[p] for p in getattr(node, "depends_on_nodes", []) if p in position],
            "c": [c["n"] for c in columns],
        }
        if node.resource_type == "source":
            record["sn"] = node.source_name
        if test is not None:
            record.update(_test_record(test, position))
        status = inputs.results.get(uid, {}).get("status")
        if status:
            record["st"] = status
        nodes.append(_drop_empty(record))
        detail = _detail(inputs, uid, node, columns, column_tests, rendered)
        if test is not None:
            detail.update(_test_detail(test))
        details.append(_drop_empty(detail))
        found = inputs.lineage.get(uid)
        if found is not None:
            lineage[str(i)] = _lineage_record(found, columns, position)
    index = {"meta": inputs.meta, "nodes": nodes, "chunk": CHUNK_SIZE}
    return index, details, lineage


CONFIG_DEFAULTS: dict[str, Any] = {
    "access": "protected",
    "on_schema_change": "ignore",
    "contract": {"enforced": False, "alias_types": True},
}


def _default(key: str, value: Any) -> bool:
    return key in CONFIG_DEFAULTS and CONFIG_DEFAULTS[key] == value


def _fqn(node: Any) -> str | None:
    """The fqn, when the page cannot tell it from the file path (package, folders under the resource folder, name)."""
    if node.resource_type == "source":
        return None
    parts = node.original_file_path.split("/")
    guess = [node.package_name, *parts[1:-1], parts[-1].rsplit(".", 1)[0]]
    return None if list(node.fqn) == guess else ".".join(node.fqn)


def _relation_name(node: Any) -> str | None:
    if node.resource_type == "source":
        return node.identifier
    if node.resource_type in ("model", "seed", "snapshot") and not node.is_ephemeral:
        return node.alias or node.name
    return None


def _materialized(node: Any) -> str | None:
    if node.resource_type in ("model", "snapshot"):
        return node.materialized
    return None


def _columns(inputs: SiteInputs, uid: str, node: Any) -> list[dict[str, Any]]:
    """Columns in database order (catalog, else as derived from the query), then YAML-only ones."""
    rendered = inputs.descriptions.get(uid, {}).get("columns", {})
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    entry = inputs.catalog.get(uid)
    if entry is not None:
        listed: list[tuple[str, str | None]] = [(c.name, c.type) for c in entry.columns]
        origin = "db"
    else:
        listed = inputs.derived_columns.get(uid, [])
        origin = "sql"
    yaml_columns = {name.lower(): col for name, col in node.columns.items()}
    for name, dtype in listed:
        yaml = yaml_columns.get(name.lower())
        found.append(
            _drop_empty(
                {
                    "n": name,
                    "ty": dtype,
                    "d": rendered.get(yaml.name, yaml.description) if yaml else "",
                    "o": None if origin == "db" else origin,
                    "y": 1 if yaml else None,
                    "meta": yaml.meta if yaml else None,
                    "g": yaml.tags if yaml else None,
                }
            )
        )
        seen.add(name.lower())
    for name, yaml in node.columns.items():
        if name.lower() in seen:
            continue
        found.append(
            _drop_empty(
                {
                    "n": name,
                    "ty": yaml.data_type,
                    "d": rendered.get(name, yaml.description),
                    "o": "yaml",
                    "y": 1,
                    "meta": yaml.meta,
                    "g": yaml.tags,
                }
            )
        )
    return found


def _detail(
    inputs: SiteInputs,
    uid: str,
    node: Any,
    columns: list[dict[str, Any]],
    column_tests: dict[tuple[str, str], list[int]],
    rendered: dict[str, Any],
) -> dict[str, Any]:
    for column in columns:
        tests = column_tests.get((uid, column["n"].lower()))
        if tests:
            column["ts"] = tests
    config = getattr(node, "config", {}) or {}
    detail: dict[str, Any] = {
        "cols": columns,
        "meta": node.meta or config.get("meta"),
        "cfg": {
            k: config[k] for k in CONFIG_SHOWN if config.get(k) not in (None, "", {}, []) and not _default(k, config[k])
        },
        "rn": node.relation_name,
        "yp": (getattr(node, "patch_path", None) or "").split("://", 1)[-1],
        "raw": getattr(node, "raw_code", ""),
        "sql": inputs.compiled.get(uid),
        "lang": getattr(node, "language", None),
    }
    entry = inputs.catalog.get(uid)
    if entry is not None:
        detail.update(kind=entry.type, rows=entry.row_count, owner=None, cmt=entry.comment)
    owner = (node.meta or {}).get("owner") or (config.get("meta") or {}).get("owner")
    if owner:
        detail["owner"] = owner
    result = inputs.results.get(uid)
    if result:
        message = result.get("message")
        detail["res"] = _drop_empty({"st": result.get("status"), "msg": None if message in ("OK", None) else message})
    if node.resource_type == "source":
        detail.update(
            sd=inputs.descriptions.get(uid, {}).get("source_description", node.source_description),
            ld=node.loader,
            fr=node.freshness,
            laf=node.loaded_at_field,
            idf=node.identifier,
        )
    lineage = inputs.lineage.get(uid)
    if lineage is not None and lineage.error:
        detail["lerr"] = lineage.error
    return detail


def _test_record(test: TestInfo, position: dict[str, int]) -> dict[str, Any]:
    record = {
        "id": test.unique_id,
        "n": test.name,
        "t": "test",
        "p": test.path,
        "tn": test.test,
        "at": position.get(test.attached) if test.attached else None,
        "col": test.column,
        "st": test.status,
        "dec": 1 if test.declared_only else None,
    }
    if test.attached in position:
        record["pa"] = [position[test.attached]]
    return _drop_empty(record)


def _test_detail(test: TestInfo) -> dict[str, Any]:
    return _drop_empty(
        {
            "kw": {k: v for k, v in test.kwargs.items() if k not in ("model", "column_name")},
            "res": _drop_empty({"st": test.status, "msg": test.message, "fl": test.failures}),
            "raw": test.raw_code,
            "sql": test.compiled_code,
        }
    )


def _lineage_record(found: NodeLineage, columns: list[dict[str, Any]], position: dict[str, int]) -> dict[str, Any]:
    """{column: [status, [[node position or -1, column, relation label], ...], reason]}."""
    out: dict[str, Any] = {}
    names = [c["n"] for c in columns if c.get("o") != "yaml"] or found.columns
    for name in names:
        column = found.get(name)
        upstream = [
            [position.get(u.unique_id, -1) if u.unique_id else -1, u.column, u.relation] for u in column.upstream
        ]
        for item in upstream:
            if item[0] >= 0:
                item.pop()  # a node of the project: its position says it all
        out[name] = [column.status, upstream] + ([column.reason] if column.reason else [])
    return {"c": out, "e": found.error} if found.error else {"c": out}
