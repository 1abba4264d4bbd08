"""Project hooks (``on-run-start`` / ``on-run-end`` in the project file) as dbt's ``operation`` nodes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from modelkit.core.errors import ProjectError
from modelkit.core.manifest import Node, OperationNode
from modelkit.project.project import ProjectConfig
from modelkit.render.capture import render_capture
from modelkit.render.context import Renderer


# -- project hooks -------------------------------------------------------------
def project_hook_nodes(project: ProjectConfig, database: str, schema: str) -> list[OperationNode]:
    """``on-run-start`` / ``on-run-end`` entries as dbt's operation nodes."""
    nodes = []
    for hook_type, entries in (("on-run-start", project.on_run_start), ("on-run-end", project.on_run_end)):
        for index, sql in enumerate(entries):
            name = f"{project.name}-{hook_type}-{index}"
            nodes.append(
                OperationNode(
                    unique_id=f"operation.{project.name}.{name}",
                    resource_type="operation",
                    package_name=project.name,
                    name=name,
                    path=f"hooks/{name}.sql",
                    original_file_path=f"./{project.project_file.name}",
                    fqn=[project.name, "hooks", name],
                    raw_code=sql,
                    checksum=hashlib.sha256(sql.encode("utf-8")).hexdigest(),
                    config={"enabled": True, "materialized": "hook", "tags": [], "meta": {}},
                    database=database,
                    schema=schema,
                    alias=name,
                    hook_type=hook_type,
                    index=index,
                )
            )
    return nodes


# -- node hooks ----------------------------------------------------------------
_READS = re.compile(r"\b(ref|source)\s*\(")  # a hook worth rendering at parse time
_SEED_REF_MESSAGE = (
    "Seeds cannot depend on other nodes. dbt detected a seed with a pre- or post-hook\n"
    "that calls 'ref', 'source', or 'metric', either directly or indirectly via other macros.\n\n"
    "Error raised for '{uid}', which has these hooks defined: \n{hooks}"
)


def _hook_sql(entry: Any) -> str:
    return str(entry.get("sql") or "") if isinstance(entry, Mapping) else str(entry or "")


def capture_node_hooks(node: Node, renderer: Renderer) -> None:
    """Add the ref() and source() calls of the node's pre- and post-hooks to its own, as dbt renders a
    node's hooks at parse time: a model runs after the models its hooks read. A seed's hooks may
    read nothing (dbt's parsing error). Hooks that call neither directly are not rendered (dbt would
    also find a ref() made inside a macro a hook calls)."""
    hooks = []
    for key in ("pre-hook", "post-hook"):
        entries = node.config.get(key) or []
        for entry in [entries] if isinstance(entries, (str, Mapping)) else entries:
            sql = _hook_sql(entry)
            if _READS.search(sql):
                hooks.append((key.replace("-", "_"), sql))
    for key, sql in hooks:
        capture, _ = render_capture(node, sql, f"{node.original_file_path}#{key}", renderer)
        if (capture.refs or capture.sources) and node.resource_type == "seed":
            listed = "".join(f'- {k}: "{s}"\n' for k, s in hooks)
            raise ProjectError(_SEED_REF_MESSAGE.format(uid=node.unique_id, hooks=listed))
        node.ref_lines = _padded(node.ref_lines, len(node.refs)) + [None] * len(capture.refs)
        node.source_lines = _padded(node.source_lines, len(node.sources)) + [None] * len(capture.sources)
        node.refs = [*node.refs, *capture.refs]
        node.sources = [*node.sources, *capture.sources]


def _padded(lines: list[int | None], count: int) -> list[int | None]:
    return [*lines[:count], *[None] * (count - len(lines))]
