"""``modelkit lineage``: the nodes or columns upstream and downstream of one, as text, JSON or DOT.

A column's graph follows the column lineage of each model (:mod:`modelkit.analysis.lineage`) hop by
hop: upstream, the columns it is copied, transformed or aggregated from, and those that filter its
rows (shown, not followed); downstream, the columns computed from it. A node's graph is its parents
or children in the DAG.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from modelkit.analysis.lineage import FILTERED_BY, UNRESOLVED, NodeLineage

End = tuple[str, str | None]  # (unique_id, or the relation's name when it is no node; column or None)
OUTPUTS = ("text", "json", "dot")


@dataclass(frozen=True)
class Edge:
    source: End
    target: End
    how: str | None  # copied | transformed | aggregated | filtered-by (None between nodes)
    depth: int  # hops from the starting point


@dataclass
class LineageGraph:
    node: str  # unique_id
    column: str | None
    names: dict[str, str] = field(default_factory=dict)  # unique_id -> how it is shown
    upstream: list[Edge] | None = None  # None: not asked for
    downstream: list[Edge] | None = None
    unresolved: list[tuple[str, str, str]] = field(default_factory=list)  # (unique_id, column, why)

    def name(self, end: End) -> str:
        shown = self.names.get(end[0], end[0])
        return f"{shown}.{end[1]}" if end[1] is not None else shown


Lineage = Callable[[str], NodeLineage | None]  # a node's column lineage (None: it has no SQL)


def column_upstream(start: End, lineage_of: Lineage, depth: int | None, graph: LineageGraph) -> list[Edge]:
    edges: list[Edge] = []
    frontier = [(start, 0)]
    seen = {start}
    while frontier:
        (uid, column), level = frontier.pop(0)
        if column is None or (depth is not None and level >= depth):
            continue
        found = lineage_of(uid)
        if found is None:
            continue
        lineage = found.get(column)
        if lineage.status == UNRESOLVED and lineage.reason:
            graph.unresolved.append((uid, column, lineage.reason))
        for upstream in lineage.upstream:
            source = (upstream.unique_id or upstream.relation, upstream.column)
            edges.append(Edge(source, (uid, column), upstream.how, level + 1))
            if upstream.unique_id is not None and source not in seen:
                seen.add(source)
                frontier.append((source, level + 1))
        for upstream in lineage.filters:
            edges.append(
                Edge((upstream.unique_id or upstream.relation, upstream.column), (uid, column), FILTERED_BY, level + 1)
            )
    return edges


def column_downstream(
    start: End, lineage_of: Lineage, children_of: Callable[[str], Iterable[str]], depth: int | None
) -> list[Edge]:
    edges: list[Edge] = []
    frontier = [(start, 0)]
    seen = {start}
    while frontier:
        (uid, column), level = frontier.pop(0)
        if column is None or (depth is not None and level >= depth):
            continue
        wanted = column.lower()
        for child in children_of(uid):
            found = lineage_of(child)
            if found is None:
                continue
            for name in found.columns:
                lineage = found.get(name)
                target = (child, name)
                for upstream in lineage.upstream:
                    if upstream.unique_id == uid and upstream.column.lower() == wanted:
                        edges.append(Edge((uid, column), target, upstream.how, level + 1))
                        if target not in seen:
                            seen.add(target)
                            frontier.append((target, level + 1))
                for upstream in lineage.filters:
                    if upstream.unique_id == uid and upstream.column.lower() == wanted:
                        edges.append(Edge((uid, column), target, FILTERED_BY, level + 1))
    return edges


def node_edges(start: str, neighbours: Callable[[str], Iterable[str]], depth: int | None, upstream: bool) -> list[Edge]:
    edges: list[Edge] = []
    frontier = [(start, 0)]
    seen = {start}
    while frontier:
        uid, level = frontier.pop(0)
        if depth is not None and level >= depth:
            continue
        for other in sorted(neighbours(uid)):
            edge = (
                Edge((other, None), (uid, None), None, level + 1)
                if upstream
                else Edge((uid, None), (other, None), None, level + 1)
            )
            edges.append(edge)
            if other not in seen:
                seen.add(other)
                frontier.append((other, level + 1))
    return edges


# -- output ------------------------------------------------------------------------------------
def render(graph: LineageGraph, output: str) -> str:
    if output == "json":
        return json.dumps(to_json(graph), indent=2)
    if output == "dot":
        return to_dot(graph)
    return to_text(graph)


def _end(graph: LineageGraph, end: End) -> dict[str, Any]:
    out: dict[str, Any] = {"node": end[0] if end[0] in graph.names else None, "name": graph.names.get(end[0], end[0])}
    if end[1] is not None:
        out["column"] = end[1]
    return out


def to_json(graph: LineageGraph) -> dict[str, Any]:
    data: dict[str, Any] = {"node": graph.node, "name": graph.names.get(graph.node, graph.node)}
    if graph.column is not None:
        data["column"] = graph.column
    for direction in ("upstream", "downstream"):
        edges = getattr(graph, direction)
        if edges is None:
            continue
        data[direction] = [
            {
                "from": _end(graph, e.source),
                "to": _end(graph, e.target),
                **({"how": e.how} if e.how else {}),
                "depth": e.depth,
            }
            for e in edges
        ]
    if graph.unresolved:
        data["unresolved"] = [{"node": uid, "column": column, "reason": why} for uid, column, why in graph.unresolved]
    return data


def to_dot(graph: LineageGraph) -> str:
    start = (graph.node, graph.column)
    ends: dict[End, None] = {start: None}
    edges: dict[tuple[End, End, str | None], None] = {}
    for direction in (graph.upstream or [], graph.downstream or []):
        for edge in direction:
            ends.setdefault(edge.source)
            ends.setdefault(edge.target)
            edges.setdefault((edge.source, edge.target, edge.how))
    lines = ["digraph lineage {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for end in ends:
        style = ", style=bold" if end == start else ""
        lines.append(f"  {_quote(_id(end))} [label={_quote(graph.name(end))}{style}];")
    for source, target, how in edges:
        attrs = []
        if how:
            attrs.append(f"label={_quote(how)}")
        if how == FILTERED_BY:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_quote(_id(source))} -> {_quote(_id(target))}{suffix};")
    lines.append("}")
    return "\n".join(lines)


def _id(end: End) -> str:
    return end[0] if end[1] is None else f"{end[0]}.{end[1]}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_text(graph: LineageGraph) -> str:
    start = (graph.node, graph.column)
    lines: list[str] = []
    for direction, edges in (("Upstream", graph.upstream), ("Downstream", graph.downstream)):
        if edges is None:
            continue
        if lines:
            lines.append("")
        lines.append(f"{direction} of {graph.name(start)}:")
        lines.append(graph.name(start))
        tree: dict[End, list[Edge]] = {}
        for edge in edges:
            parent = edge.target if direction == "Upstream" else edge.source
            tree.setdefault(parent, []).append(edge)
        if not tree.get(start):
            lines.append("  (nothing)" if direction == "Upstream" else "  (nothing reads it)")
            continue
        _branch(graph, tree, start, "", lines, {start}, upstream=direction == "Upstream")
    for uid, column, why in graph.unresolved:
        lines.append(f"Unresolved: {graph.name((uid, column))}: {why}")
    return "\n".join(lines)


def _branch(
    graph: LineageGraph,
    tree: dict[End, list[Edge]],
    at: End,
    prefix: str,
    lines: list[str],
    path: set[End],
    upstream: bool,
) -> None:
    edges = tree.get(at, [])
    for i, edge in enumerate(edges):
        last = i == len(edges) - 1
        other = edge.source if upstream else edge.target
        how = f"{edge.how}  " if edge.how else ""
        repeat = other in path
        lines.append(f"{prefix}{'└── ' if last else '├── '}{how}{graph.name(other)}{' (cycle)' if repeat else ''}")
        if not repeat and edge.how != FILTERED_BY:
            _branch(graph, tree, other, prefix + ("    " if last else "│   "), lines, path | {other}, upstream)
