"""The dependency graph: edges from ref() and source(), cycles, ancestors and descendants."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping
from functools import cached_property

from modelkit.core.errors import AccessError, DependencyError
from modelkit.core.manifest import Manifest, Node
from modelkit.graph.resolve import Resolver


def link(manifest: Manifest, resolver: Resolver, restricted: Collection[str] = ()) -> None:
    """Fill each node's ``depends_on_nodes`` from its refs and sources; fail on unknown names, and on refs
    the target's access does not allow (``restricted``: the packages that set ``restrict-access``)."""
    for node in manifest.nodes.values():
        deps: list[str] = []
        ref_lines = node.ref_lines
        package = node.package_name
        for i, ref in enumerate(node.refs):
            line = ref_lines[i] if i < len(ref_lines) else None
            try:
                target = resolver.find_node(ref["name"], ref.get("package"), ref.get("version"), package)
            except DependencyError as exc:  # an unqualified name several packages have
                exc.path, exc.line, exc.source = node.original_file_path, line, node.raw_code
                exc.node = f"{node.resource_type} {node.name}"
                raise
            if target is None:
                raise resolver.missing_ref_error(node, ref["name"], line, ref.get("version"), ref.get("package"))
            check_access(node, target, line, restricted)
            deps.append(target.unique_id)
        source_lines = node.source_lines
        for i, (source_name, table_name) in enumerate(node.sources):
            found = resolver.find_source(source_name, table_name, package)
            if found is None:
                line = source_lines[i] if i < len(source_lines) else None
                raise resolver.missing_source_error(node, source_name, table_name, line)
            deps.append(found.unique_id)
        node.depends_on_nodes = list(dict.fromkeys(deps))
    Graph(manifest).check_cycles()


def access_error(
    referrer: str, kind: str, package: str, group: str | None, target: Node, restricted: Collection[str] = ()
) -> AccessError | None:
    """dbt's model access, for a ``kind`` node (``referrer`` its unique_id) of ``package`` and ``group``:

    - ``private``: referenced only by models (and semantic models) of its own ``group`` (and, when its
      package sets ``restrict-access``, of its own package);
    - ``protected`` (the default): by any node of the project and of installed packages, unless its
      package sets ``restrict-access: true``: then only by nodes of that package;
    - ``public``: by any node.
    """
    if target.resource_type != "model" or kind in ("operation", "unit_test"):
        return None
    access = target.config.get("access") or "protected"
    other_package = package != target.package_name and target.package_name in restricted
    if access == "private" and kind in ("model", "semantic_model"):
        if not group or group != target.config.get("group") or other_package:
            return AccessError(referrer, target.unique_id, "private", str(target.config.get("group")))
    if access == "protected" and other_package:
        return AccessError(referrer, target.unique_id, "protected", target.package_name)
    return None


def check_access(node: Node, target: Node, line: int | None = None, restricted: Collection[str] = ()) -> None:
    """Raise :func:`access_error`'s error for ``node`` referencing ``target``, located at the ref()."""
    error = access_error(
        node.unique_id, node.resource_type, node.package_name, node.config.get("group"), target, restricted
    )
    if error is not None:
        error.path, error.line, error.source = node.original_file_path, line, node.raw_code
        raise error


class Levels(Mapping[str, int]):
    """Each node's topological generation: 1 + the highest of its parents' (0 without parents), computed
    on first use for a node and its ancestors only (a command on a few nodes of a large project)."""

    def __init__(self, parents: Mapping[str, list[str]]) -> None:
        self._parents = parents
        self._known: dict[str, int] = {}

    def __getitem__(self, uid: str) -> int:
        known = self._known
        found = known.get(uid)
        if found is not None:
            return found
        if uid not in self._parents:
            raise KeyError(uid)
        parents = self._parents
        stack: list[tuple[str, bool]] = [(uid, False)]
        visiting: set[str] = set()
        while stack:
            top, expanded = stack.pop()
            if top in known:
                continue
            if expanded:  # its parents are done
                known[top] = 1 + max((known[p] for p in parents.get(top, ()) if p in known), default=-1)
                continue
            if top in visiting:
                continue  # a cycle (refused when parsing): not followed
            visiting.add(top)
            stack.append((top, True))
            stack.extend((p, False) for p in parents.get(top, ()) if p not in known)
        return known[uid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parents)

    def __len__(self) -> int:
        return len(self._parents)


class Graph:
    """Adjacency maps over a manifest's nodes and sources."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.parents: dict[str, list[str]] = manifest.parent_map()
        self.children: dict[str, list[str]] = {uid: [] for uid in self.parents}
        for uid, parents in self.parents.items():
            for parent in parents:
                self.children.setdefault(parent, []).append(uid)

    def check_cycles(self) -> None:
        """Raise with the cycle's path (a -> b -> a) if the graph has one."""
        WHITE, GREY, BLACK = 0, 1, 2
        color = dict.fromkeys(self.parents, WHITE)
        for start in sorted(self.parents):
            if color[start] != WHITE:
                continue
            stack: list[tuple[str, Iterable[str]]] = [(start, iter(self.children.get(start, ())))]
            path = [start]
            color[start] = GREY
            while stack:
                uid, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    color[uid] = BLACK
                    stack.pop()
                    path.pop()
                    continue
                if color.get(nxt, WHITE) == GREY:
                    cycle = path[path.index(nxt) :] + [nxt]
                    names = " -> ".join(self._label(u) for u in cycle)
                    first = self.manifest.nodes.get(nxt)
                    raise DependencyError(
                        f"Found a cycle: {names}",
                        path=first.original_file_path if first is not None else None,
                    )
                if color.get(nxt, WHITE) == WHITE:
                    color[nxt] = GREY
                    path.append(nxt)
                    stack.append((nxt, iter(self.children.get(nxt, ()))))

    def _label(self, uid: str) -> str:
        node = self.manifest.nodes.get(uid)
        return node.name if node is not None else uid

    def ancestors(self, uid: str, depth: int | None = None) -> set[str]:
        return self._walk(uid, self.parents, depth)

    def descendants(self, uid: str, depth: int | None = None) -> set[str]:
        return self._walk(uid, self.children, depth)

    @staticmethod
    def _walk(start: str, edges: dict[str, list[str]], depth: int | None) -> set[str]:
        seen: set[str] = set()
        queue = deque([(start, 0)])
        while queue:
            uid, d = queue.popleft()
            if depth is not None and d >= depth:
                continue
            for nxt in edges.get(uid, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append((nxt, d + 1))
        return seen

    @cached_property
    def levels(self) -> Mapping[str, int]:
        """Topological generation of each node (0 = no parents), worked out for the nodes asked about."""
        return Levels(self.parents)

    def subgraph_parents(self, selected: set[str]) -> dict[str, set[str]]:
        """Parents of each selected node, restricted to the selection (through unselected ephemerals)."""
        result: dict[str, set[str]] = {}
        for uid in selected:
            result[uid] = {p for p in self.parents.get(uid, ()) if p in selected}
        return result
