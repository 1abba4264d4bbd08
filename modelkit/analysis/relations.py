"""The relations a project's queries may read, with what is known of their columns.

Relations are keyed as the database names them, ``(database, schema, identifier)`` lower-cased; a key
may belong to several nodes (a source can name the table a seed builds). Ephemeral models are known
by the name of the CTE the compiler inlines them as (``__dbt__cte__<name>``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelkit.analysis.lineage import LineageContext
from modelkit.analysis.seedshapes import SeedShapes
from modelkit.analysis.shapes import UNKNOWN, Shape, contract_shape, seed_shape, source_shape
from modelkit.core.lazynodes import field_map
from modelkit.core.manifest import Manifest, Node

Key = tuple[str, str, str]
RELATION_TYPES = ("model", "seed", "snapshot")


def label(node: Any) -> str:
    """How messages name a node: ``model orders``, ``source shop_raw.orders``."""
    if node.resource_type == "source":
        return f"source {node.source_name}.{node.name}"
    return f"{node.resource_type} {node.name}"


class Shapes(dict):  # type: ignore[type-arg]
    """Shapes by relation key; some made only when first asked for (a seed's reads its CSV file)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[Key, Callable[[], Shape | None]] = {}

    def later(self, key: Key, make: Callable[[], Shape | None]) -> None:
        self.pending[key] = make

    def _make(self, key: Any) -> None:
        make = self.pending.pop(key, None)
        if make is not None:
            shape = make()
            if shape is not None:
                dict.__setitem__(self, key, shape)

    def _make_all(self) -> None:
        for key in list(self.pending):
            self._make(key)

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self.pending:
            self._make(key)
        return dict.get(self, key, default)

    def __getitem__(self, key: Any) -> Any:
        if key in self.pending:
            self._make(key)
        return dict.__getitem__(self, key)

    def __contains__(self, key: object) -> bool:
        if key in self.pending:
            self._make(key)
        return dict.__contains__(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.pending.pop(key, None)
        dict.__setitem__(self, key, value)

    def __iter__(self) -> Any:
        self._make_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._make_all()
        return dict.__len__(self)

    def keys(self) -> Any:
        self._make_all()
        return dict.keys(self)

    def values(self) -> Any:
        self._make_all()
        return dict.values(self)

    def items(self) -> Any:
        self._make_all()
        return dict.items(self)

    def __reduce__(self) -> Any:
        self._make_all()
        return (dict, (dict(self),))


class Relations:
    """Project relations by key, their shapes, and the ephemeral models' CTE names."""

    def __init__(self, dialect: str, database: str, schema: str) -> None:
        self.dialect = dialect
        self.database = (database or "").lower()
        self.schema = (schema or "").lower()
        self.shapes = Shapes()  # Key -> Shape
        self.owners: dict[Key, list[str]] = {}
        self.by_name: dict[str, list[Key]] = {}
        self.ephemerals: dict[str, str] = {}  # CTE name (lower) -> unique_id
        self.labels: dict[str, str] = {}  # unique_id -> "model orders"
        self.keys: dict[str, Key] = {}  # unique_id -> its relation's key
        self.aliases: dict[str, list[Key]] = {}  # unique_id -> other keys it is read by (deferred relations)
        self.seeds: SeedShapes | None = None  # where the seeds' shapes come from, when kept between commands

    def key(self, database: str | None, schema: str | None, name: str) -> Key:
        return ((database or self.database).lower(), (schema or self.schema).lower(), name.lower())

    def add(self, key: Key, unique_id: str, name: str, shape: Shape | None = None) -> None:
        owners = self.owners.setdefault(key, [])
        if unique_id not in owners:
            owners.append(unique_id)
        if key not in self.by_name.setdefault(key[2], []):
            self.by_name[key[2]].append(key)
        self.labels[unique_id] = name
        self.keys[unique_id] = key
        if shape is not None:
            self.shapes[key] = shape

    def add_ephemeral(self, cte_name: str, unique_id: str, name: str, shape: Shape | None = None) -> None:
        self.ephemerals[cte_name.lower()] = unique_id
        self.add(self.key(None, None, cte_name), unique_id, name, shape)

    def add_alias(self, key: Key, unique_id: str) -> None:
        """Another relation that stands for a node (``--defer`` reads the state's relation of a node)."""
        own = self.keys.get(unique_id)
        if own is None or own == key:
            return
        self.owners.setdefault(key, []).append(unique_id)
        if key not in self.by_name.setdefault(key[2], []):
            self.by_name[key[2]].append(key)
        self.aliases.setdefault(unique_id, []).append(key)
        if own in self.shapes:
            self.shapes[key] = self.shapes[own]

    def set_shape(self, unique_id: str, shape: Shape) -> None:
        key = self.keys.get(unique_id)
        if key is not None:
            self.shapes[key] = shape
        for alias in self.aliases.get(unique_id, ()):
            self.shapes[alias] = shape

    def shape_of_node(self, unique_id: str) -> Shape:
        key = self.keys.get(unique_id)
        return self.shapes.get(key, UNKNOWN) if key is not None else UNKNOWN

    def find(self, database: str | None, schema: str | None, name: str) -> list[Key]:
        """The project relations a table name in SQL may be: unqualified names match in any schema
        (the engine's search path is not known here), the default schema first."""
        keys = self.by_name.get(name.lower(), [])
        if schema:
            keys = [k for k in keys if k[1] == schema.lower()]
        if database:
            keys = [k for k in keys if k[0] == database.lower()]
        if len(keys) > 1 and not schema:
            preferred = [k for k in keys if k[1] == self.schema and k[0] == self.database]
            keys = preferred or keys
        return keys

    def shape(self, keys: list[Key]) -> Shape:
        found = {self.shapes.get(k, UNKNOWN) for k in keys}
        return found.pop() if len(found) == 1 else UNKNOWN

    def describe(self, keys: list[Key], fallback: str) -> str:
        """A relation as messages name it: the node that builds it, else how the SQL names it."""
        for key in keys:
            for uid in self.owners.get(key, []):
                if not uid.startswith("source."):
                    return self.labels[uid]
            for uid in self.owners.get(key, []):
                return self.labels[uid]
        return fallback


def project_relations(
    manifest: Manifest, dialect: str, database: str, schema: str, root: Path, seeds: SeedShapes | None = None
) -> Relations:
    """Every relation of the project; seeds, sources and enforced contracts with their columns (a seed's
    from ``seeds`` when given: kept between commands, and saved with the analysis cache)."""
    relations = Relations(dialect, database, schema)
    relations.seeds = seeds
    seed_shape_of = seeds.shape if seeds is not None else seed_shape
    nodes = manifest.nodes
    # what every relation needs is a stored field: only seeds and contracted nodes are read (a stored
    # manifest's nodes are unpickled on first use)
    for uid, (kind, name, db, sch, identifier, cte, enforced) in field_map(nodes, "relation").items():
        shape = contract_shape(nodes[uid]) if enforced else None
        if cte is not None:
            relations.add_ephemeral(cte, uid, f"{kind} {name}", shape)
            continue
        key = relations.key(db, sch, identifier)
        relations.add(key, uid, f"{kind} {name}", shape)
        if kind == "seed":  # its CSV file is read when a query reads the seed
            relations.shapes.later(key, functools.partial(seed_shape_of, nodes[uid], root, dialect))
    for source in manifest.sources.values():
        key = relations.key(source.database, source.schema, source.identifier)
        shape = source_shape(source)
        known = relations.shapes.get(key)
        relations.add(key, source.unique_id, label(source), None if known is not None else shape)
    return relations


def relation_key(relations: Relations, node: Node) -> Key:
    return relations.key(node.database, node.schema, node.alias or node.name)


def lineage_context(relations: Relations) -> LineageContext:
    """The relations as column lineage reads them: every relation, with the columns known of it."""
    ctx = LineageContext(relations.dialect, relations.database, relations.schema)
    cte_keys = {relations.key(None, None, name): uid for name, uid in relations.ephemerals.items()}
    for key, owners in relations.owners.items():
        shape = relations.shapes.get(key)
        columns = shape.as_dict() if shape is not None and shape.known else None
        if key in cte_keys:
            ctx.add_ephemeral(key[2], cte_keys[key], columns)
            continue
        for uid in owners:
            ctx.add_relation(key, uid, columns)
    return ctx
