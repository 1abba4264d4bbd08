"""Exposures and saved queries in ``build``: reported as run, with nothing to build (dbt's NO-OP nodes).

dbt's ``build`` hands each exposure and saved query to a runner that does nothing and reports ``NO-OP``:
its result has the status ``no-op``, the message ``NO-OP``, no adapter response and no compiled code; it
waits for the nodes it depends on and is skipped when one of them fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelkit.core.results import NodeResult, now

if TYPE_CHECKING:
    from modelkit.core.manifest import Node
    from modelkit.execute.context import ExecutionContext
    from modelkit.execute.runner import Runner
    from modelkit.execute.runplan import RunPlan


class NoOpExecutor:
    """The :class:`~modelkit.execute.runner.NodeExecutor` of exposures and saved queries."""

    def prepare(self, context: ExecutionContext, plan: RunPlan) -> None:
        pass

    def execute(self, runner: Runner, node: Node, result: NodeResult) -> None:
        for phase in ("compile", "execute"):  # dbt times both phases, each empty
            started = now()
            result.timing.append({"name": phase, "started_at": _iso(started), "completed_at": _iso(now())})
        result.status, result.message, result.adapter_response, result.failures = "no-op", "NO-OP", {}, 0
        result.compilable = False


def _iso(value: object) -> str:
    return value.isoformat().replace("+00:00", "Z")  # type: ignore[attr-defined]
