"""``clone`` (dbt's): each selected model, seed and snapshot made in the target from the state's relation.

As dbt's ``clone`` materialization does on an engine without zero-copy table clones (none of the engines here has them):
a view ``select * from <the state's relation>``. A relation that already exists is left alone unless
``--full-refresh``; a node the state manifest does not have is a no-op.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelkit.core.results import now

if TYPE_CHECKING:
    from modelkit.core.manifest import Node
    from modelkit.core.results import NodeResult
    from modelkit.execute.context import ExecutionContext
    from modelkit.execute.runner import Runner
    from modelkit.execute.runplan import RunPlan

CLONED = ("model", "seed", "snapshot")


class CloneExecutor:
    """Executes ``clone`` for one node (a :class:`modelkit.execute.runner.NodeExecutor`)."""

    def prepare(self, context: ExecutionContext, plan: RunPlan) -> None:
        pass

    def execute(self, runner: Runner, node: Node, result: NodeResult) -> None:
        context = runner.context
        started = now()
        deferral = context.renderer.defer
        other = deferral.relations.get(node.unique_id) if deferral is not None else None
        result.message = "No-op"
        if other is None:
            runner.reporter.log(f"No relation found in state manifest for {node.unique_id}")
            return
        adapter = context.adapter
        this = node.relation
        existing = adapter.get_relation(this.database, this.schema, this.identifier)
        if existing is not None and not runner.options.full_refresh:
            runner.reporter.log(f"Relation {existing.render()} already exists")
            return
        if (this.database, this.schema, this.identifier) == (other.database, other.schema, other.identifier):
            runner.reporter.log(f"Target relation and defer relation are the same, skipping clone for relation: {this}")
            return
        response = adapter.replace_view(this, adapter.sql.select_all(other.render()))
        result.message = response.message
        result.adapter_response = {"_message": response.message}
        result.timing.append(
            {
                "name": "execute",
                "started_at": started.isoformat().replace("+00:00", "Z"),
                "completed_at": now().isoformat().replace("+00:00", "Z"),
            }
        )
