"""What is known of a relation's columns before anything runs, for typing the queries that read it.

A :class:`Shape` lists columns with their types (sqlglot DataTypes, None where unknown) and says
whether the list is *complete*: only a complete list may stand for ``*``. Seeds are known from their
CSV file (the header, and the types a DuckDB seed would give the values, or ``column_types``),
sources from their declared columns (complete when each has a ``data_type``), enforced contracts from
their columns; models from their query (:mod:`modelkit.dialects.translator`).

:class:`RelationIndex` finds the nodes behind a relation named in SQL: a source may name the table a
seed builds, and an ephemeral model is read as the CTE ``__dbt__cte__<name>``.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from modelkit.core import jsonio
from modelkit.core.lazynodes import field_map
from modelkit.core.manifest import Manifest, Node, SourceDefinition
from modelkit.dialects.types import build

SAMPLE_ROWS = 20480  # rows of a seed read to guess its types (as many as DuckDB's CSV sniffer samples)


TypeSpec = Any  # a column's type as JSON: None, ["sql", text, dialect] or ["dump", sqlglot's dump of the DataType]


class Shape:
    """A relation's columns, in order, with their types (None: unknown).

    The types are sqlglot DataTypes, built only when asked for: a shape made from type names
    (:meth:`written`) or read back from JSON (:meth:`from_json`) holds their specs, and its
    :attr:`digest` is known without sqlglot.
    """

    __slots__ = ("names", "complete", "_types", "_specs", "_digest")

    def __init__(
        self, names: Sequence[str], types: Sequence[Any] | None = None, complete: bool = True, *, specs: Any = None
    ) -> None:
        self.names: tuple[str, ...] = tuple(names)
        self.complete = complete
        self._types: tuple[Any, ...] | None = tuple(types) if types is not None else None
        self._specs: tuple[TypeSpec, ...] | None = tuple(specs) if specs is not None else None
        if self._types is None and self._specs is None:
            self._types = (None,) * len(self.names)
        self._digest: str | None = None

    @classmethod
    def written(cls, names: Sequence[str], texts: Sequence[str | None], dialect: str, complete: bool = True) -> Shape:
        """Columns whose types are written in ``dialect`` (built when needed; None: unknown)."""
        return cls(names, complete=complete, specs=[["sql", t, dialect] if t else None for t in texts])

    @property
    def types(self) -> tuple[Any, ...]:
        if self._types is None:
            self._types = tuple(_load(spec) for spec in self._specs or ())
        return self._types

    @property
    def specs(self) -> tuple[TypeSpec, ...]:
        if self._specs is None:
            self._specs = tuple(_dump(t) for t in self._types or ())
        return self._specs

    @property
    def known(self) -> bool:
        return bool(self.names)

    def columns(self) -> Iterator[tuple[str, Any]]:
        return zip(self.names, self.types)

    def _derived(self, names: Sequence[str], complete: bool) -> Shape:
        extra = [None] * (len(names) - len(self.names))
        types = (*self._types, *extra) if self._types is not None else None
        specs = (*self._specs, *extra) if self._specs is not None else None
        return Shape(names, types, complete, specs=specs)

    def with_columns(self, names: Sequence[str]) -> Shape:
        """Further columns of unknown type, and no longer complete (a snapshot's meta columns)."""
        return self._derived((*self.names, *names), complete=False)

    def incomplete(self) -> Shape:
        return self._derived(self.names, complete=False)

    def to_json(self) -> dict[str, Any]:
        return {"n": list(self.names), "t": list(self.specs), "c": self.complete}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Shape:
        names, specs = list(data["n"]), list(data["t"])
        if len(names) != len(specs) or not all(isinstance(n, str) for n in names):
            raise ValueError("not a shape")
        return cls(names, complete=bool(data["c"]), specs=specs)

    @property
    def digest(self) -> str:
        """A hash of the names, the types and completeness: equal digests, the same shape."""
        if self._digest is None:
            self._digest = hashlib.sha256(jsonio.dumps(self.to_json())).hexdigest()
        return self._digest

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shape) and self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"Shape({self.names!r}, complete={self.complete})"


def _dump(data_type: Any) -> TypeSpec:
    """A DataType as JSON (sqlglot's dump, without the positions it was read at)."""
    if data_type is None:
        return None
    return ["dump", [{k: v for k, v in item.items() if k != "m"} for item in data_type.dump()]]


def _load(spec: TypeSpec) -> Any:
    if not spec:
        return None
    if spec[0] == "sql":
        return build(spec[1], spec[2])
    from sqlglot import exp  # sqlglot takes ~0.2 s to import: only when a type read back is needed

    try:
        return exp.Expression.load(spec[1])
    except (KeyError, ValueError, TypeError, AttributeError, IndexError):
        return None


UNKNOWN = Shape((), (), complete=False)


# -- seeds --------------------------------------------------------------------------------------
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_BOOLEAN = frozenset({"true", "false"})
_NULLS = frozenset({"", "null"})
_KINDS = ("BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP")
# The dialects whose seeds modelkit knows how to type from the values alone (:func:`value_type`): a seed
# of a project written in one of them gets those types on any engine (:meth:`Dialects.seed_types`).
SEED_TYPING = ("duckdb",)


def value_type(values: Iterable[str | None]) -> str:
    """The type a DuckDB seed gets for a column of these values (DuckDB's CSV reader, with the
    candidates modelkit gives it): the first of BOOLEAN, INTEGER, BIGINT, DOUBLE, DATE, TIMESTAMP that
    every non-empty value fits, else VARCHAR.

    >>> value_type(["1", "2", ""]), value_type(["1", "2.5"]), value_type(["2024-01-01"]), value_type(["x", "1"])
    ('INTEGER', 'DOUBLE', 'DATE', 'VARCHAR')
    >>> value_type(["1", "3000000000"])
    'BIGINT'
    >>> value_type(["true", "FALSE"]), value_type(["", None]), value_type(["2024-01-01 10:00:00"])
    ('BOOLEAN', 'VARCHAR', 'TIMESTAMP')
    """
    present = []
    for raw in dict.fromkeys(values):  # the type depends on which values there are, not on how often
        value = (raw or "").strip()
        if value.lower() not in _NULLS:
            present.append(value)
    if present:
        for kind in _KINDS:  # the first that every value fits (most columns fail the others at once)
            if all(_fits(value, kind) for value in present):
                return kind
    return "VARCHAR"


def _fits(value: str, kind: str) -> bool:
    if kind == "BOOLEAN":
        return value.lower() in _BOOLEAN
    if kind == "INTEGER":
        return bool(_INT.fullmatch(value)) and -(2**31) <= int(value) < 2**31
    if kind == "BIGINT":
        return bool(_INT.fullmatch(value)) and -(2**63) <= int(value) < 2**63
    if kind == "DOUBLE":
        return bool(_FLOAT.fullmatch(value))
    if kind == "DATE":
        return bool(_DATE.fullmatch(value))
    return bool(_TIMESTAMP.fullmatch(value))


def seed_shape(node: Node, project_root: Path, dialect: str) -> Shape:
    """A seed's columns from its CSV file; ``column_types`` (written in ``dialect``) win over the values."""
    path = Path(getattr(node, "root_path", "") or project_root) / node.original_file_path
    delimiter = str(node.config.get("delimiter") or ",")
    configured = {str(k).lower(): str(v) for k, v in (node.config.get("column_types") or {}).items()}
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if not header:
                return UNKNOWN
            values: list[list[str]] = [[] for _ in header]
            for count, row in enumerate(reader):
                if count >= SAMPLE_ROWS:
                    break
                for i, value in enumerate(row[: len(header)]):
                    values[i].append(value)
    except (OSError, UnicodeDecodeError, csv.Error):
        return UNKNOWN
    names = tuple(h.strip() for h in header)
    if not all(names) or len({n.lower() for n in names}) != len(names):
        return UNKNOWN
    specs = []
    for name, column in zip(names, values):
        written = configured.get(name.lower())
        specs.append(["sql", written, dialect] if written else ["sql", value_type(column), "duckdb"])
    return Shape(names, specs=specs)


# -- sources and contracts ----------------------------------------------------------------------
def source_shape(source: SourceDefinition, dialect: str) -> Shape:
    """A source table's declared columns: complete when each one has a ``data_type``."""
    columns = list(source.columns.values())
    if not columns:
        return UNKNOWN
    texts = [str(c.data_type) if c.data_type else None for c in columns]
    return Shape.written([c.name for c in columns], texts, dialect, all(c.data_type for c in columns))


def contract_shape(node: Node, dialect: str) -> Shape | None:
    """An enforced contract's columns (None without one): the relation has exactly these."""
    contract = node.config.get("contract") or {}
    if not (isinstance(contract, dict) and contract.get("enforced")) or not node.columns:
        return None
    columns = list(node.columns.values())
    return Shape.written(
        [c.name for c in columns], [str(c.data_type) if c.data_type else None for c in columns], dialect
    )


# -- relations by name ----------------------------------------------------------------------------
Key = tuple[str, str, str]
RELATION_TYPES = ("model", "seed", "snapshot")
PREFERENCE = {"seed": 0, "model": 1, "snapshot": 1, "source": 2}  # a source naming a seed's table: the seed's


class RelationIndex:
    """The project's relations by (database, schema, name), lower-cased, and its ephemeral models by
    CTE name."""

    def __init__(self, manifest: Manifest, database: str, schema: str) -> None:
        self.defaults = ((database or "").lower(), (schema or "").lower())
        self.owners: dict[Key, list[str]] = {}
        self.by_name: dict[str, list[Key]] = {}
        # the nodes' relation field: every node's object need not be read (see core.lazynodes)
        for uid, (kind, _, database, schema, identifier, cte, _) in field_map(manifest.nodes, "relation").items():
            if kind not in RELATION_TYPES:
                continue
            if cte is not None:
                self._add((*self.defaults, cte.lower()), uid)
                continue
            self._add(self.key(database, schema, identifier), uid)
        for source in manifest.sources.values():
            self._add(self.key(source.database, source.schema, source.identifier), source.unique_id)
        for owners in self.owners.values():
            owners.sort(key=lambda uid: PREFERENCE.get(uid.split(".", 1)[0], 3))

    def key(self, database: str | None, schema: str | None, name: str) -> Key:
        return ((database or self.defaults[0]).lower(), (schema or self.defaults[1]).lower(), name.lower())

    def _add(self, key: Key, unique_id: str) -> None:
        self.owners.setdefault(key, []).append(unique_id)
        keys = self.by_name.setdefault(key[2], [])
        if key not in keys:
            keys.append(key)

    def find(self, key: Key) -> str | None:
        """The node (or source) behind a relation; a name whose database or schema differs from the
        target's is looked up by name when only one relation has it."""
        owners = self.owners.get(key)
        if owners:
            return owners[0]
        keys = self.by_name.get(key[2], [])
        if len(keys) == 1 and (keys[0][1] == key[1] or key[1] == self.defaults[1]):
            return self.owners[keys[0]][0]
        return None
