"""The ``build`` DAG: seeds, models, snapshots and their tests in one graph.

Starting from the dependency edges among the selected nodes:

- a data test runs once its nodes are built, and each buildable node downstream
  of all of them waits for it, so an error-severity failure skips the
  descendants (a warning does not block: the scheduler only blocks on errors);
- a unit test runs after its model's parents (and their tests), before the model; a model's unit tests
  run one after another, so that the first to fail skips the others and the model, as in dbt;
- a node reading a source whose table a selected seed or model builds runs after that node.

Any resource type of the manifest's nodes other than ``test`` and ``unit_test`` is
buildable, so new kinds of nodes (snapshots, ...) take part without changes here.
Exposures and saved queries (dbt's NO-OP nodes) wait for their parents but not for
those parents' tests, as in dbt, whose test edges lead only to nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from graphlib import TopologicalSorter

from modelkit.core.manifest import Manifest, Node
from modelkit.graph.graph import Graph

TEST_TYPES = frozenset({"test", "unit_test"})


def build_dag(
    manifest: Manifest, graph: Graph, parents: Mapping[str, set[str]], nodes: Mapping[str, Node] | None = None
) -> tuple[dict[str, set[str]], dict[str, int]]:
    """Parents of each selected node for ``build``, and each node's generation level for ordering.

    ``nodes`` are the selected nodes (the manifest's, and exposures and saved queries viewed as nodes);
    by default the manifest's."""
    selected = set(parents)
    result = {uid: set(ps) for uid, ps in parents.items()}
    nodes = nodes if nodes is not None else manifest.nodes
    buildable = {uid for uid in selected if uid in manifest.nodes and nodes[uid].resource_type not in TEST_TYPES}
    _order_after_producers(manifest, graph, result, buildable)
    descendants: dict[str, set[str]] = {}

    def downstream(uid: str) -> set[str]:
        found = descendants.get(uid)
        if found is None:
            found = descendants[uid] = graph.descendants(uid) & buildable
        return found

    for uid in sorted(selected):
        node = nodes[uid]
        if node.resource_type != "test" or not node.depends_on_nodes:
            continue
        gated: set[str] | None = None
        for tested in node.depends_on_nodes:
            below = downstream(tested)
            gated = set(below) if gated is None else gated & below
        for child in gated or ():
            # the first buildable nodes below; their own descendants wait through them
            if not (parents[child] & gated):
                result[child].add(uid)

    unit_tests: dict[str, list[str]] = {}
    for uid in sorted(selected):
        node = nodes[uid]
        if node.resource_type == "unit_test":
            unit_tests.setdefault(node.tested_node, []).append(uid)  # type: ignore[attr-defined]
    for model, tests in unit_tests.items():
        before = set(result.get(model, ()))
        for i, uid in enumerate(tests):
            result[uid] = (result[uid] | before) - {model}
            if i:  # one after the other, as dbt runs a model's unit tests: after a failure the rest skip
                result[uid].add(tests[i - 1])
            if model in result:
                result[model].add(uid)
    return result, levels(result)


def _relation_key(relation: object) -> tuple[str, str, str]:
    parts = (getattr(relation, "database", None), getattr(relation, "schema", None), relation.identifier)  # type: ignore[attr-defined]
    return tuple(str(p or "").lower() for p in parts)  # type: ignore[return-value]


def _order_after_producers(manifest: Manifest, graph: Graph, result: dict[str, set[str]], buildable: set[str]) -> None:
    """A source naming a table that a selected seed or model builds (e.g. raw tables loaded as
    seeds) is read only after that node is built."""
    producers = {_relation_key(manifest.nodes[uid].relation): uid for uid in buildable}
    for uid in result:
        node = manifest.nodes.get(uid)
        for parent in node.depends_on_nodes if node is not None else ():
            source = manifest.sources.get(parent)
            producer = producers.get(_relation_key(source.relation)) if source is not None else None
            if producer is not None and producer != uid and uid not in graph.ancestors(producer):
                result[uid].add(producer)


def levels(parents: Mapping[str, set[str]]) -> dict[str, int]:
    """Topological generation of each node (0 = no parents), for dbt's run order."""
    found: dict[str, int] = {}
    for uid in TopologicalSorter(parents).static_order():
        found[uid] = 1 + max((found[p] for p in parents.get(uid, ()) if p in found), default=-1)
    return found
