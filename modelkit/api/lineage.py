"""``modelkit lineage``: finding the node (and column), compiling what the graph needs, tracing it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from modelkit.analysis.graphs import LineageGraph, column_downstream, column_upstream, node_edges
from modelkit.analysis.lineage import NodeLineage, analyse
from modelkit.analysis.relations import lineage_context
from modelkit.api.analysis import relations_of, static_shapes
from modelkit.api.session import Session
from modelkit.core.errors import ModelkitError, UsageError
from modelkit.core.text import did_you_mean

TRACED = ("model", "snapshot", "analysis")


def display_name(node: Any) -> str:
    if node.resource_type == "source":
        return f"{node.source_name}.{node.name}"
    return str(node.name)


def find_target(session: Session, text: str) -> tuple[str, str | None]:
    """``NODE`` or ``NODE.COLUMN`` (a node: a name, ``source_name.table`` or a unique_id)."""
    found = _node(session, text)
    if found is not None:
        return found, None
    head, _, column = text.rpartition(".")
    found = _node(session, head) if head else None
    if found is None:
        names = [n.name for n in session.manifest.nodes.values()]
        names += [display_name(s) for s in session.manifest.sources.values()]
        raise UsageError(f"No node named '{head or text}'." + did_you_mean(head or text, names))
    return found, column


def _node(session: Session, text: str) -> str | None:
    manifest = session.manifest
    if text in manifest.nodes or text in manifest.sources:
        return text
    for source in manifest.sources.values():
        if display_name(source).lower() == text.lower():
            return source.unique_id
    matches = [
        n.unique_id
        for n in manifest.nodes.values()
        if n.name.lower() == text.lower() and n.resource_type in ("model", "seed", "snapshot", "analysis")
    ]
    if len(matches) > 1:  # versions of a model: the latest
        latest = [u for u in matches if manifest.nodes[u].version in (None, manifest.nodes[u].latest_version)]
        matches = latest or matches
    return matches[0] if matches else None


def trace_lineage(
    session: Session, text: str, *, upstream: bool = True, downstream: bool = True, depth: int | None = None
) -> LineageGraph:
    manifest = session.manifest
    graph_of = session.graph
    uid, column = find_target(session, text)
    names = {u: display_name(n) for u, n in manifest.nodes.items()}
    names.update({u: display_name(s) for u, s in manifest.sources.items()})
    result = LineageGraph(uid, column, names)
    children = manifest.child_map()

    def parents_of(node: str) -> list[str]:
        found = manifest.nodes.get(node)
        return list(found.depends_on_nodes) if found is not None else []

    def children_of(node: str) -> Iterable[str]:
        """The nodes that read it (not its tests)."""
        return [c for c in children.get(node, []) if manifest.nodes[c].resource_type not in ("test", "unit_test")]

    def traced_children(node: str) -> Iterable[str]:
        return [c for c in children.get(node, []) if manifest.nodes[c].resource_type in TRACED]

    if column is None:
        if upstream:
            result.upstream = node_edges(uid, parents_of, depth, upstream=True)
        if downstream:
            result.downstream = node_edges(uid, children_of, depth, upstream=False)
        return result

    needed = {uid} | graph_of.ancestors(uid)
    if downstream:
        needed |= graph_of.descendants(uid, depth)
    relations = relations_of(session)
    shapes = static_shapes(session, needed, relations)
    ctx = lineage_context(relations)
    compiler = session.compiler
    cache: dict[str, NodeLineage | None] = {}

    def lineage_of(node_id: str) -> NodeLineage | None:
        if node_id in cache:
            return cache[node_id]
        node = manifest.nodes.get(node_id)
        found: NodeLineage | None = None
        if node is not None and node.resource_type in TRACED:
            try:
                sql = (
                    compiler.body(node)
                    if node.is_ephemeral
                    else (compiler.compiled.get(node_id) or compiler.compile(node))
                )
                found = analyse(ctx, sql, node.depends_on_nodes, filters=True)
            except ModelkitError as exc:
                found = NodeLineage(error=f"it did not compile: {exc.message.splitlines()[0]}")
        cache[node_id] = found
        return found

    known = shapes.get(uid)
    own = lineage_of(uid)
    columns = list(own.columns) if own is not None and not own.error else list(known.names if known else ())
    match = next((c for c in columns if c.lower() == column.lower()), None)
    if match is None and columns:
        raise UsageError(
            f"'{column}' is not a column of {manifest.get(uid).resource_type} {names[uid]}."
            + did_you_mean(column, columns)
        )
    result.column = match or column
    start = (uid, result.column)
    if upstream:
        result.upstream = column_upstream(start, lineage_of, depth, result)
    if downstream:
        result.downstream = column_downstream(start, lineage_of, traced_children, depth)
    return result
