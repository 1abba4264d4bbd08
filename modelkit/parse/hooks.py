"""Project hooks (``on-run-start`` / ``on-run-end`` in the project file) as dbt's ``operation`` nodes."""

from __future__ import annotations

import hashlib

from modelkit.core.manifest import OperationNode
from modelkit.project.project import ProjectConfig


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
