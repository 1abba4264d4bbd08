"""Results of executing nodes, in the shape of dbt's run_results.json entries."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ERROR_STATUSES = frozenset({"error", "fail", "runtime error"})


def display_path(path: Path, root: Path) -> str:
    """``path`` relative to the project folder when inside it (``target/compiled/...``), else absolute
    (a ``--target-path`` elsewhere)."""
    text, base = str(path), str(root)
    if text.startswith(base) and text[len(base) : len(base) + 1] == os.sep:  # what relative_to does, faster
        return text[len(base) + 1 :].replace(os.sep, "/")
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass
class NodeResult:
    unique_id: str
    status: str  # success | error | skipped | pass | fail | warn
    message: str | None = None
    execution_time: float = 0.0
    thread_id: str = "Thread-1 (worker)"  # the worker that ran the node, named as dbt names its threads
    timing: list[dict[str, Any]] = field(default_factory=list)
    adapter_response: dict[str, Any] = field(default_factory=dict)
    failures: int | None = None
    compiled_code: str | None = None
    compiled_path: str | None = None
    relation_name: str | None = None
    error: Exception | None = None
    compilable: bool = True  # False for an exposure or saved query: nothing to compile ("compiled": null)

    @property
    def is_error(self) -> bool:
        return self.status in ERROR_STATUSES

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "timing": self.timing,
            "thread_id": self.thread_id,
            "execution_time": round(self.execution_time, 6),
            "adapter_response": self.adapter_response,
            "message": self.message,
            "failures": self.failures,
            "unique_id": self.unique_id,
            "compiled": (self.compiled_code is not None) if self.compilable else None,
            "compiled_code": self.compiled_code,
            "relation_name": self.relation_name,
            "batch_results": None,
        }


@dataclass
class RunResult:
    command: str
    results: list[NodeResult] = field(default_factory=list)
    elapsed_time: float = 0.0
    started_at: datetime.datetime = field(default_factory=now)
    args: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    manifest: Any = field(default=None, repr=False)  # the manifest the run used

    @property
    def success(self) -> bool:
        return not self.interrupted and not any(r.is_error for r in self.results)

    def by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    def __getitem__(self, unique_id: str) -> NodeResult:
        for result in self.results:
            if result.unique_id == unique_id:
                return result
        raise KeyError(unique_id)
