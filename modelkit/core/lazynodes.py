"""A manifest's nodes read from storage only as they are asked for, with small per-node facts kept apart.

After an incremental parse (see :mod:`modelkit.parse.snapshot`) the Manifest's ``nodes`` is a
:class:`LazyNodes`: the unique ids and their order are known at once, but a node's object is unpickled
only when something reads it (with the other nodes stored in its chunk). A command that reads a few nodes
(``parse`` after one edit, ``compile -s model``) then never pays for all of them; one that reads them all
pays what reading one whole pickle costs.

What many stages want of *every* node — its kind, its parents, its file, its name — is a *field*
(:data:`FIELDS`): a dict from unique id to one small value, stored beside the chunks and read on its own.
:func:`field_map` gives a field of any node mapping, stored or computed from the nodes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, KeysView, Mapping, MutableMapping
from typing import Any

Node = Any  # a modelkit.core.manifest.Node (not imported: that module imports this one)

REFABLE = ("model", "seed", "snapshot")  # what ref() finds
FILE_KINDS = ("model", "analysis", "seed")  # one node per file, parsed from it alone


def _name(node: Node) -> Any:
    if node.resource_type not in REFABLE:
        return None
    return (node.name, node.package_name, node.version, node.latest_version)


def _file(node: Node) -> Any:
    if node.resource_type not in FILE_KINDS:
        return None
    return (node.package_name, node.original_file_path)


def _ephemeral(node: Node) -> Any:
    return node.relation.identifier if node.resource_type == "model" and node.is_ephemeral else None


def _group(node: Node) -> Any:
    group = node.config.get("group")
    return group if isinstance(group, str) and group else None


def _time_spine(node: Node) -> Any:
    return True if node.resource_type == "model" and getattr(node, "time_spine", None) else None


def _relation(node: Node) -> Any:
    if node.resource_type not in REFABLE:
        return None
    contract = node.config.get("contract") or {}
    enforced = isinstance(contract, dict) and bool(contract.get("enforced")) and bool(node.columns)
    cte = node.relation.identifier if node.is_ephemeral else None
    return (node.resource_type, node.name, node.database, node.schema, node.alias or node.name, cte, enforced)


BLANK_KINDS = frozenset({"model", "analysis", "snapshot", "test"})  # kinds of node that hold SQL


def _blank(node: Node) -> bool | None:
    """True for dbt's ``node.empty``: a SQL file holding only whitespace, parsed but never selected."""
    return True if node.resource_type in BLANK_KINDS and not (node.raw_code or "").strip() else None


def _tested(node: Node) -> Any:
    return node.tested_node if node.resource_type == "unit_test" else None  # type: ignore[attr-defined]


# field name -> the value of one node (None: the node is left out of the field)
FIELDS: dict[str, Callable[[Node], Any]] = {
    "kind": lambda node: node.resource_type,
    "parents": lambda node: list(node.depends_on_nodes),
    "file": _file,  # models, analyses and seeds: (package, path of their file in the package)
    "name": _name,  # refable nodes: (name, package, version, latest_version)
    "env": lambda node: dict(node.env_vars) or None,
    "macros": lambda node: list(node.depends_on_macros) or None,
    "tested": _tested,  # unit tests: the model they test
    "fqn": lambda node: (node.name, node.fqn, node.original_file_path, node.version),  # what fqn: selection reads
    "ephemeral": _ephemeral,  # ephemeral models: the name of their CTE
    # models, seeds and snapshots: (kind, name, database, schema, identifier, ephemeral CTE name or None,
    # whether an enforced contract gives its columns)
    "relation": _relation,
    "group": _group,  # nodes of a group: its name
    "time_spine": _time_spine,  # models configured as time spines
    "blank": _blank,  # models, analyses, snapshots and tests whose file holds only whitespace
}


def field_map(nodes: Mapping[str, Node], name: str) -> dict[str, Any]:
    """``FIELDS[name]`` of every node that has it, by unique id (do not modify the result)."""
    if isinstance(nodes, LazyNodes):
        return nodes.field(name)
    get = FIELDS[name]
    out = {}
    for uid, node in nodes.items():
        value = get(node)
        if value is not None:
            out[uid] = value
    return out


def field_maps(nodes: Mapping[str, Node]) -> dict[str, dict[str, Any]]:
    """Every field of :data:`FIELDS` (see :func:`field_map`), by name: of nodes in memory, in one pass."""
    if isinstance(nodes, LazyNodes):
        return {name: nodes.field(name) for name in FIELDS}
    found: dict[str, dict[str, Any]] = {name: {} for name in FIELDS}
    getters = [(found[name], get) for name, get in FIELDS.items()]
    for uid, node in nodes.items():
        for out, get in getters:
            value = get(node)
            if value is not None:
                out[uid] = value
    return found


class LazyNodes(MutableMapping[str, Node]):
    """Nodes by unique id, in order; stored ones are read chunk by chunk on first use.

    ``slots`` maps each unique id to its node, or to the number of the stored chunk holding it.
    ``load_chunk(n)`` returns the nodes of chunk ``n``; ``load_field(name)`` a stored field (as it was
    when the chunks were written: the nodes set or deleted here since are applied to it), or None.
    """

    def __init__(
        self,
        slots: dict[str, Any],
        load_chunk: Callable[[int], Iterable[Node]],
        load_field: Callable[[str], dict[str, Any] | None],
        touched: Iterable[str] = (),
    ) -> None:
        self._data = slots
        self._load_chunk = load_chunk
        self._load_field = load_field
        self._fields: dict[str, dict[str, Any]] = {}
        self._touched: set[str] = set(touched)  # set or deleted since the stored fields were written
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------
    def __getitem__(self, uid: str) -> Node:
        value = self._data[uid]
        if type(value) is int:
            self._fill(value)
            value = self._data[uid]
        return value  # type: ignore[no-any-return]

    def get(self, uid: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[uid]
        except KeyError:
            return default

    def __contains__(self, uid: object) -> bool:
        return uid in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def keys(self) -> KeysView[str]:
        return self._data.keys()

    def values(self) -> Any:
        self.read_all()
        return self._data.values()

    def items(self) -> Any:
        self.read_all()
        return self._data.items()

    def read_all(self) -> None:
        """Unpickle every node not read yet."""
        chunks = {value for value in self._data.values() if type(value) is int}
        for chunk in sorted(chunks):
            self._fill(chunk)

    @property
    def unread(self) -> int:
        """How many nodes are still only stored."""
        return sum(1 for value in self._data.values() if type(value) is int)

    def _fill(self, chunk: int) -> None:
        with self._lock:
            data = self._data
            for node in self._load_chunk(chunk):
                current = data.get(node.unique_id)
                if type(current) is int and current == chunk:
                    data[node.unique_id] = node

    # -- changing ----------------------------------------------------------------
    def __setitem__(self, uid: str, node: Node) -> None:
        self._data[uid] = node
        self._touch(uid)

    def __delitem__(self, uid: str) -> None:
        del self._data[uid]
        self._touch(uid)

    def _touch(self, uid: str) -> None:
        self._touched.add(uid)
        for name, values in self._fields.items():
            _apply(values, name, uid, self._data.get(uid))

    # -- fields ------------------------------------------------------------------
    def field(self, name: str) -> dict[str, Any]:
        """``FIELDS[name]`` of every node that has it (see :func:`field_map`)."""
        found = self._fields.get(name)
        if found is not None:
            return found
        stored = self._load_field(name)
        if stored is None:
            get = FIELDS[name]
            found = {}
            for uid, node in self.items():
                value = get(node)
                if value is not None:
                    found[uid] = value
        else:
            found = stored
            for uid in self._touched:
                _apply(found, name, uid, self._data.get(uid))
        self._fields[name] = found
        return found

    def __reduce__(self) -> Any:
        return (dict, (dict(self.items()),))

    def __repr__(self) -> str:
        return f"<LazyNodes: {len(self)} nodes, {self.unread} not read>"


def _apply(values: dict[str, Any], name: str, uid: str, node: Any) -> None:
    value = FIELDS[name](node) if node is not None and type(node) is not int else None
    if value is None:
        values.pop(uid, None)
    else:
        values[uid] = value
