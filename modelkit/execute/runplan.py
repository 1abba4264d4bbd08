"""What a run of selected nodes is given and gives back, apart from the runner itself: which resource
types each command executes, the options, the plan the scheduler follows, the reporter it reports to, a
node's timing entries and error messages."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from modelkit.core.errors import ConfigRuntimeError, DatabaseError, ModelkitError
from modelkit.core.results import NodeResult

if TYPE_CHECKING:
    from modelkit.core.manifest import Node

EXECUTABLE = {
    "run": ("model",),
    "seed": ("seed",),
    "compile": ("model", "analysis", "snapshot", "test"),
    "snapshot": ("snapshot",),
    "test": ("test", "unit_test"),
    "build": ("seed", "model", "snapshot", "test", "unit_test", "exposure", "saved_query"),
    "clone": ("model", "seed", "snapshot"),
}


@dataclass(frozen=True)
class RunPlan:
    """What the scheduler will run: the selection, each node's parents and the order it starts them in."""

    selected: tuple[str, ...]
    parents: Mapping[str, set[str]]
    order: Callable[[str], tuple[int, str]]
    threads: int
    nodes: Mapping[str, Node]  # the selected nodes (exposures and saved queries viewed as nodes)


class Reporter(Protocol):
    def start(self, index: int, total: int, node: Node) -> None: ...

    def result(self, index: int, total: int, node: Node, result: NodeResult) -> None: ...

    def log(self, message: str) -> None: ...


class NullReporter:
    def start(self, index: int, total: int, node: Node) -> None:
        pass

    def result(self, index: int, total: int, node: Node, result: NodeResult) -> None:
        pass

    def log(self, message: str) -> None:
        pass


@dataclass(frozen=True)
class RunOptions:
    command: str = "run"
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    threads: int | None = None
    full_refresh: bool = False
    fail_fast: bool = False
    resource_types: tuple[str, ...] = ()
    test_batch_size: int | None = None  # data tests per statement in `test` (None: the default; 1: one by one)
    event_time_start: datetime.datetime | None = None  # microbatch models: the windows to build
    event_time_end: datetime.datetime | None = None
    # --sample: models and snapshots read the inputs that declare an event_time for this window only
    sample: tuple[datetime.datetime, datetime.datetime] | None = None
    selector: str | None = None  # a selectors.yml selector (wins over select/exclude)
    indirect_selection: str | None = None  # eager | cautious | buildable | empty (None: the setting)
    exclude_resource_types: tuple[str, ...] = ()
    skip_unchanged: str | None = None  # "true" | "strict": skip what was built from the same inputs
    unique_ids: tuple[str, ...] | None = None  # exactly these nodes, instead of a selection (`retry`)


def timing(name: str, start: Any, end: Any) -> dict[str, Any]:
    """A run result's ``timing`` entry (``compile``, ``execute``) from its start and end times."""
    return {
        "name": name,
        "started_at": start.isoformat().replace("+00:00", "Z"),
        "completed_at": end.isoformat().replace("+00:00", "Z"),
    }


def error_message(node: Node, exc: ModelkitError, compiled_path: str | None) -> str:
    """A failed node's message, as dbt words it (a database error, or the located error of modelkit)."""
    if isinstance(exc, DatabaseError):
        detail = "\n  ".join(exc.message.splitlines())
        message = f"Runtime Error in {node.resource_type} {node.name} ({node.original_file_path})\n  {detail}"
        if compiled_path:
            message += f"\n  compiled code at {compiled_path}"
        return message
    if exc.node is None:
        exc.node = f"{node.resource_type} {node.name}"
    if exc.path is None:
        exc.path = node.original_file_path
    text = str(exc)
    if compiled_path and not isinstance(exc, ConfigRuntimeError):  # dbt names no compiled code for these
        text += f"\n  compiled code at {compiled_path}"
    return text
