"""``retry`` (dbt's): re-run what errored, failed or was skipped in the previous invocation.

The previous invocation is read from ``run_results.json`` (in the ``--state`` folder, else the target
folder): its ``args`` give the command and its flags, its results the nodes to run again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelkit.core.errors import StateError
from modelkit.parse.stateload import RUN_RESULTS_VERSIONS, read_artifact, resolve_dir
from modelkit.project.project import load_project

RETRYABLE = ("error", "fail", "skipped", "runtime error", "partial success")
RETRY_COMMANDS = ("run", "seed", "snapshot", "test", "build", "clone")


@dataclass(frozen=True)
class RetryPlan:
    """The previous command, its flags, and the nodes to run again."""

    command: str
    args: Mapping[str, Any] = field(default_factory=dict)
    unique_ids: tuple[str, ...] = ()

    def flag(self, name: str, default: Any = None) -> Any:
        value = self.args.get(name)
        return default if value is None else value


def plan_retry(project_dir: str | Path, state: str | Path | None = None, warn_error: bool = False) -> RetryPlan:
    """What ``retry`` runs: from ``<state>/run_results.json``, else the project's target folder's."""
    project = load_project(project_dir)
    folder = str(state) if state is not None else project.target_path
    path = resolve_dir(folder, project.root) / "run_results.json"
    if not path.is_file():
        raise StateError(f"Could not find previous run in '{folder}' target directory", path=str(path))
    data = read_artifact(path, "run-results", RUN_RESULTS_VERSIONS)
    args = dict(data.get("args") or {})
    command = str(args.get("which") or "")
    if command not in RETRY_COMMANDS:
        known = ", ".join(RETRY_COMMANDS)
        raise StateError(f"retry re-runs {known}; the previous invocation in {path} was '{command or 'unknown'}'")
    statuses = RETRYABLE + (("warn",) if warn_error else ())
    ids = tuple(
        str(r["unique_id"])
        for r in data.get("results") or []
        if r.get("status") in statuses and not str(r.get("unique_id", "")).startswith("operation.")
    )
    return RetryPlan(command, args, ids)
