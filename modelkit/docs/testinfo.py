"""Data tests for the site: which tests sit on which column, and how they last ended."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelkit.core import jsonio
from modelkit.core.manifest import Manifest


@dataclass
class TestInfo:
    unique_id: str
    name: str  # full test name, e.g. not_null_orders_order_id
    test: str  # the generic test, e.g. not_null (or the file stem of a singular test)
    attached: str | None  # unique_id of the node tested
    column: str | None
    path: str
    declared_only: bool = False  # kept for the site's data format: tests are always manifest nodes
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
        text = path.read_bytes()
    except OSError:
        return {}
    try:
        data = jsonio.loads(text)  # (a few MB after a large run: orjson reads it several times faster)
    except ValueError:
        try:  # what orjson refuses (NaN, integers beyond 64 bits)
            data = json.loads(text)
        except ValueError:
            return {}
    results = data.get("results") if isinstance(data, dict) else None
    found: dict[str, dict[str, Any]] = {}
    for entry in results or []:
        if isinstance(entry, dict) and isinstance(entry.get("unique_id"), str):
            found[entry["unique_id"]] = entry
    return found


def collect_tests(manifest: Manifest, results: dict[str, dict[str, Any]]) -> list[TestInfo]:
    """Every data test of the manifest, with its last status from ``run_results.json``."""
    tests: list[TestInfo] = []
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
    for info in tests:
        result = results.get(info.unique_id)
        if result is not None:
            info.status = result.get("status")
            info.message = result.get("message")
            info.failures = result.get("failures")
            info.compiled_code = result.get("compiled_code")
    return tests
