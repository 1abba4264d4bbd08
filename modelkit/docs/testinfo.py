"""Data tests for the site: which tests sit on which column, and how they last ended.

Test nodes of the manifest are used when there are some; a test that is only declared in YAML
(``data_tests:`` under a column) is shown too, under the name dbt would give it, so that the
status of a ``modelkit test`` / ``dbt test`` run can still be found in ``run_results.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..manifest import Manifest

TEST_CONFIG_KEYS = {
    "config", "name", "description", "severity", "tags", "where", "limit", "warn_if", "error_if", "fail_calc",
    "store_failures", "store_failures_as", "enabled", "meta", "alias", "schema", "database", "arguments",
    "column_name", "test_name",
}  # fmt: skip


@dataclass
class TestInfo:
    unique_id: str
    name: str  # full test name, e.g. not_null_orders_order_id
    test: str  # the generic test, e.g. not_null (or the file stem of a singular test)
    attached: str | None  # unique_id of the node tested
    column: str | None
    path: str
    declared_only: bool = False  # found in YAML, not a node of the manifest
    status: str | None = None
    message: str | None = None
    failures: int | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    raw_code: str = ""
    compiled_code: str | None = None


def load_run_results(target_dir: Path) -> dict[str, dict[str, Any]]:
    """Results of the last run by unique_id ({} when there is no readable run_results.json)."""
    path = target_dir / "run_results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    results = data.get("results") if isinstance(data, dict) else None
    found: dict[str, dict[str, Any]] = {}
    for entry in results or []:
        if isinstance(entry, dict) and isinstance(entry.get("unique_id"), str):
            found[entry["unique_id"]] = entry
    return found


def _clean(value: str) -> str:
    return re.sub(r"[^0-9a-zA-Z_]+", "_", value)


def generic_test_name(test: str, target: str, kwargs: dict[str, Any]) -> str:
    """dbt's name for a generic test: ``<test>_<target>_<args>`` (args sorted by key, flattened, cleaned)."""
    namespace, _, short = test.rpartition(".")
    parts: list[str] = []
    for key in sorted(kwargs):
        if key == "model":
            continue
        value = kwargs[key]
        if isinstance(value, dict):
            values = list(value.values())
        elif isinstance(value, (list, tuple)):
            values = list(value)
        else:
            values = [value]
        parts.extend(_clean(str(v)) for v in values)
    name = f"{short}_{target}_" + "__".join(parts)
    return f"{namespace}_{name}" if namespace else name


def _declared(entry: Any, column: str | None) -> tuple[str, dict[str, Any], str | None] | None:
    """(test, kwargs, explicit name) of one ``data_tests:`` entry."""
    if isinstance(entry, str):
        return entry, ({"column_name": column} if column else {}), None
    if not isinstance(entry, dict) or len(entry) != 1:
        return None
    test, body = next(iter(entry.items()))
    body = body if isinstance(body, dict) else {}
    kwargs: dict[str, Any] = {k: v for k, v in body.items() if k not in TEST_CONFIG_KEYS}
    if isinstance(body.get("arguments"), dict):
        kwargs.update(body["arguments"])
    if column:
        kwargs["column_name"] = column
    return str(test), kwargs, body.get("name")


def collect_tests(manifest: Manifest, results: dict[str, dict[str, Any]]) -> list[TestInfo]:
    """Every test of the project: test nodes first, then tests only declared on YAML columns."""
    tests: list[TestInfo] = []
    known: set[tuple[str | None, str | None, str]] = set()
    for node in manifest.nodes.values():
        if node.resource_type != "test":
            continue
        meta = getattr(node, "test_metadata", None) or {}
        attached = getattr(node, "attached_node", None) or (node.depends_on_nodes[0] if node.depends_on_nodes else None)
        column = getattr(node, "column_name", None)
        info = TestInfo(
            unique_id=node.unique_id,
            name=node.name,
            test=str(meta.get("name") or node.name),
            attached=attached,
            column=column,
            path=node.original_file_path,
            kwargs=dict(meta.get("kwargs") or {}),
            raw_code=node.raw_code,
        )
        tests.append(info)
        known.add((attached, column, node.name))
    by_prefix = {}
    for uid in results:
        if uid.startswith("test."):
            by_prefix[uid.rsplit(".", 1)[0]] = uid
            by_prefix[uid] = uid
    for owner in [*manifest.nodes.values(), *manifest.sources.values()]:
        if owner.resource_type not in ("model", "seed", "snapshot", "source"):
            continue
        if owner.resource_type == "source":
            target = f"source_{owner.source_name}_{owner.name}"  # type: ignore[union-attr]
            path = owner.original_file_path
        else:
            target = owner.name
            path = str(getattr(owner, "patch_path", "") or "").split("://", 1)[-1] or owner.original_file_path
        for column in owner.columns.values():
            for entry in column.data_tests:
                parsed = _declared(entry, column.name)
                if parsed is None:
                    continue
                test, kwargs, explicit = parsed
                name = explicit or generic_test_name(test, target, kwargs)
                if (owner.unique_id, column.name, name) in known:
                    continue
                known.add((owner.unique_id, column.name, name))
                base = f"test.{owner.package_name}.{name}"
                tests.append(
                    TestInfo(
                        unique_id=by_prefix.get(base, base),
                        name=name,
                        test=test.rpartition(".")[2],
                        attached=owner.unique_id,
                        column=column.name,
                        path=path,
                        declared_only=True,
                        kwargs=kwargs,
                    )
                )
    for info in tests:
        result = results.get(info.unique_id)
        if result is not None:
            info.status = result.get("status")
            info.message = result.get("message")
            info.failures = result.get("failures")
            info.compiled_code = result.get("compiled_code")
    return tests
