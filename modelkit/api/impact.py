"""``modelkit diff``: the column changes of each modified model and what downstream they break.

Both sides are inferred statically, against the current project's relations (no database needed): the
current model from its SQL as compiled now; the previous one from its raw code in the comparison state
(a ``--state`` manifest or a ``--state-git`` revision), compiled now with the current project, so that
it names the same relations; when that fails (it refers to what no longer exists), from the compiled
code the state manifest records, if any. A modified model upstream of another is taken at its previous
columns while the other's previous columns are inferred. See :mod:`modelkit.analysis.impact` for how
changes are found and judged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from modelkit.analysis.impact import ColumnChange, ModelImpact, column_changes, judge, readers_of
from modelkit.analysis.lineage import NodeLineage, analyse
from modelkit.analysis.relations import Relations, lineage_context
from modelkit.analysis.shapes import Shape
from modelkit.analysis.static import known_shapes
from modelkit.api.analysis import read_only, relations_of
from modelkit.api.session import Session
from modelkit.core.errors import ModelkitError, StateError
from modelkit.core.manifest import Node
from modelkit.graph.state import StateComparison, no_state_error

TRACED = ("model", "snapshot")
JSON_VERSION = 1


@dataclass
class ImpactReport:
    """Every modified model's column changes (models in the order of the DAG)."""

    origin: str  # what was compared with: a folder or "git revision REV"
    models: list[ModelImpact] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # unique_id -> name, for output

    @property
    def breaking(self) -> bool:
        return any(m.breaking for m in self.models)

    def reached(self) -> set[str]:
        """The downstream nodes that read a broken column, and the tests on one."""
        found: set[str] = set()
        for model in self.models:
            for change in model.changes:
                if change.breaking:
                    found.update(uid for uid, _ in change.readers)
                    found.update(change.tests)
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "state": self.origin,
            "breaking": self.breaking,
            "models": [
                {
                    "unique_id": m.unique_id,
                    "name": m.name,
                    "columns_known": m.known,
                    "reason": m.reason,
                    "breaking": m.breaking,
                    "changes": [c.to_json(self.names) for c in m.changes],
                    "exposures": list(m.exposures),
                }
                for m in self.models
            ],
        }


def modified_models(session: Session) -> list[str]:
    """The models (and snapshots) ``state:modified`` selects that the state also has, in DAG order."""
    state = session.previous_state
    if state is None:
        raise StateError(
            "modelkit diff compares against --state DIR (a folder holding a manifest.json) or --state-git REV"
        )
    if not state.has_manifest:
        raise no_state_error("state", state)
    comparison = StateComparison(session.manifest, state, session.invocation.log)
    levels = session.graph.levels
    found = [
        uid
        for uid, node in session.manifest.nodes.items()
        if node.resource_type in TRACED and uid in state.nodes and comparison.matches("modified", uid)
    ]
    return sorted(found, key=lambda uid: (levels.get(uid, 0), uid))


def _previous_sql(session: Session, node: Node) -> str | None:
    entry = session.previous_state.nodes[node.unique_id] if session.previous_state else {}
    raw = entry.get("raw_code")
    if raw is not None:
        compiler = session.compiler
        had = compiler.compiled.get(node.unique_id)
        try:
            return compiler.compile(dataclasses.replace(node, raw_code=raw))
        except ModelkitError:
            pass
        finally:  # the previous code's SQL is no part of this invocation's compiled nodes
            if had is None:
                compiler.compiled.pop(node.unique_id, None)
            else:
                compiler.compiled[node.unique_id] = had
    compiled = entry.get("compiled_code")
    return str(compiled) if compiled else None


def _infer(session: Session, needed: set[str], old: dict[str, str | None] | None) -> tuple[Relations, dict]:
    """Shapes of ``needed`` (and what they read); ``old``: previous SQL of the modified models."""
    relations = relations_of(session)
    compiler = session.compiler

    def sql_of(node: Node) -> str | None:
        if old is not None and node.unique_id in old:
            return old[node.unique_id]
        if node.is_ephemeral:
            return compiler.body(node)
        return compiler.compiled.get(node.unique_id) or compiler.compile(node)

    with read_only(session):
        shapes = known_shapes(
            session.manifest, relations, sorted(needed), session.graph.levels, sql_of, root=session.project.root
        )
    return relations, shapes


def _lineage(relations: Relations, sql: str | None, node: Node) -> NodeLineage | None:
    if sql is None:
        return None
    return analyse(lineage_context(relations), sql, node.depends_on_nodes, filters=True)


def _unknown(shape: Shape | None) -> bool:
    return shape is None or not shape.known or not shape.complete


def change_impact(session: Session) -> ImpactReport:
    """The column changes of every modified model against the comparison state, judged."""
    manifest = session.manifest
    state = session.previous_state
    report = ImpactReport(state.origin if state is not None else "")
    modified = modified_models(session)
    report.names = {uid: n.name for uid, n in manifest.nodes.items()}
    report.names.update({uid: str(e.get("name", uid)) for uid, e in manifest.exposures.items()})
    if not modified:
        return report
    graph = session.graph
    downstream = set().union(*(graph.descendants(uid) for uid in modified))
    needed = set(modified) | {u for u in downstream if manifest.nodes.get(u) and u in graph.levels}
    with read_only(session):
        old_sql = {uid: _previous_sql(session, manifest.nodes[uid]) for uid in modified}
    old_relations, old_shapes = _infer(session, needed, old_sql)
    new_relations, new_shapes = _infer(session, needed, None)
    children = manifest.child_map()
    current: dict[str, NodeLineage | None] = {}

    def lineage_of(uid: str) -> NodeLineage | None:  # downstream SQL as it is now, over the previous columns
        if uid not in current:
            node = manifest.nodes.get(uid)
            sql = session.compiler.compiled.get(uid) if node is not None else None
            current[uid] = _lineage(old_relations, sql, node) if node is not None and sql else None
        return current[uid]

    def children_of(uid: str) -> Iterable[str]:
        return [c for c in children.get(uid, []) if c in manifest.nodes and manifest.nodes[c].resource_type in TRACED]

    for uid in modified:
        node = manifest.nodes[uid]
        impact = ModelImpact(uid, node.name)
        report.models.append(impact)
        before, after = old_shapes.get(uid), new_shapes.get(uid)
        if old_sql[uid] is None or _unknown(before) or _unknown(after):
            impact.known = False
            side = "previous" if old_sql[uid] is None or _unknown(before) else "current"
            impact.reason = f"the {side} columns could not be inferred from the SQL"
            continue
        assert before is not None and after is not None
        old_lineage = _lineage(old_relations, old_sql[uid], node)
        new_lineage = _lineage(new_relations, session.compiler.compiled.get(uid), node)
        impact.changes = column_changes(before, after, old_lineage, new_lineage)
        for change in impact.changes:
            if change.kind != "added":
                change.readers = readers_of((uid, change.column), lineage_of, children_of)
                change.tests = _tests_on(session, uid, change.column)
            judge(change)
        reached = {uid} | {r for c in impact.changes for r, _ in c.readers}
        impact.exposures = sorted(
            e_uid
            for e_uid, exposure in manifest.exposures.items()
            if reached & set((exposure.get("depends_on") or {}).get("nodes") or [])
        )
    return report


def _tests_on(session: Session, uid: str, column: str) -> list[str]:
    """Data tests that name ``column`` of ``uid``: a column test on it, or a test whose ``field`` it is
    (``relationships`` to it)."""
    found = []
    for test in session.manifest.nodes.values():
        if test.resource_type != "test" or uid not in test.depends_on_nodes:
            continue
        kwargs = (getattr(test, "test_metadata", None) or {}).get("kwargs") or {}
        named = getattr(test, "column_name", None) if getattr(test, "attached_node", None) == uid else None
        field_ = kwargs.get("field") if getattr(test, "attached_node", None) != uid else None
        if any(isinstance(n, str) and n.strip('"`').lower() == column.lower() for n in (named, field_)):
            found.append(test.unique_id)
    return sorted(found)


def breaking_nodes(session: Session) -> set[str]:
    """What ``state:breaking`` selects: every node ``state:modified`` selects, the downstream nodes that
    read a column a breaking change removed, renamed or retyped (through column lineage) and the tests on
    such a column; and, for a modified model whose columns could not be inferred, all its descendants."""
    state = session.previous_state
    if state is None or not state.has_manifest:
        raise no_state_error("state", state)
    comparison = StateComparison(session.manifest, state, session.invocation.log)
    found = {uid for uid in session.manifest.nodes if comparison.matches("modified", uid)}
    report = change_impact(session)
    for model in report.models:
        if not model.known:
            found |= session.graph.descendants(model.unique_id)
    return found | report.reached()


__all__ = ["ColumnChange", "ImpactReport", "breaking_nodes", "change_impact", "modified_models"]
