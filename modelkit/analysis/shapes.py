"""What is known of a relation's columns before anything runs: seeds, sources, contracts.

A :class:`Shape` lists a relation's columns (names and, where known, types) and says whether the
list is *complete*: only then may a name missing from it be reported as an unknown column (as a
warning when the list was only *declared*, in a source's YAML, which may leave columns out). A seed's
shape is its CSV header, with the types its ``column_types`` give or the CSV's values suggest; a
source's, its ``columns:`` (complete when every column has a ``data_type``); an enforced contract's,
its columns. Models get theirs from their SQL (:mod:`modelkit.analysis.checks`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from modelkit.core.manifest import Node, SourceDefinition

SAMPLE_ROWS = 20480  # rows of a seed read to guess its types (as many as DuckDB's CSV sniffer samples)


class Shape:
    """Columns of a relation, in order, with their types (None: unknown)."""

    __slots__ = ("names", "types", "complete", "declared", "_index")

    def __init__(
        self,
        names: Sequence[str],
        types: Sequence[str | None] | None = None,
        complete: bool = True,
        declared: bool = False,
    ) -> None:
        self.names = tuple(names)
        self.types = tuple(types) if types is not None else (None,) * len(self.names)
        self.complete = complete
        self.declared = declared  # written in YAML by hand (a source's columns), not read from data or SQL
        self._index: dict[str, int] = {}
        for i, name in enumerate(self.names):
            self._index.setdefault(name.lower(), i)

    def index(self, name: str) -> int | None:
        return self._index.get(name.lower())

    def type_of(self, name: str) -> str | None:
        i = self._index.get(name.lower())
        return None if i is None else self.types[i]

    @property
    def known(self) -> bool:
        """Whether any column is known."""
        return bool(self.names)

    def as_dict(self) -> dict[str, str]:
        return {n: t or "" for n, t in zip(self.names, self.types)}

    def to_json(self) -> list[Any]:
        return [list(self.names), list(self.types), self.complete, self.declared]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Shape:
        return cls(data[0], data[1], bool(data[2]), bool(data[3]) if len(data) > 3 else False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shape) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self.names, self.types, self.complete, self.declared))

    def __repr__(self) -> str:
        cols = ", ".join(f"{n} {t}" if t else n for n, t in zip(self.names, self.types))
        return f"Shape({cols}{'' if self.complete else ', ...'})"

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.names, self.types, self.complete, self.declared)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.__init__(*state)  # type: ignore[misc]


UNKNOWN = Shape((), (), complete=False)


# -- seeds ------------------------------------------------------------------------------------
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_BOOL = frozenset({"true", "false"})
_NULLS = frozenset({"", "null"})
# How engines other than DuckDB spell the inferred types, where they differ.
SPELLING = {
    "postgres": {"DOUBLE": "DOUBLE PRECISION"},
    "spark": {"VARCHAR": "STRING", "INTEGER": "INT"},
    "databricks": {"VARCHAR": "STRING", "INTEGER": "INT"},
}


def spelled(data_type: str, dialect: str) -> str:
    """An inferred type as ``dialect`` spells it.

    >>> spelled("DOUBLE", "postgres"), spelled("VARCHAR", "spark"), spelled("DATE", "duckdb")
    ('DOUBLE PRECISION', 'STRING', 'DATE')
    """
    return SPELLING.get(dialect, {}).get(data_type, data_type)


def infer_type(values: Iterable[str | None]) -> str:
    """The type a column of CSV text gets, as a seed's does: the narrowest of BOOLEAN, INTEGER, BIGINT,
    DOUBLE, DATE, TIMESTAMP, VARCHAR that every non-empty value fits.

    >>> infer_type(["1", "2", ""]), infer_type(["1", "2.5"]), infer_type(["2024-01-01"]), infer_type(["x", "1"])
    ('INTEGER', 'DOUBLE', 'DATE', 'VARCHAR')
    >>> infer_type(["3000000000"]), infer_type(["true", "FALSE"]), infer_type(["", None])
    ('BIGINT', 'BOOLEAN', 'VARCHAR')
    """
    present = []
    for raw in dict.fromkeys(values):  # the type depends on which values there are, not on how often
        if raw is None:
            continue
        value = raw.strip()
        if value.lower() not in _NULLS:
            present.append(value)
    if present:
        for kind in ("BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP"):  # the first all fit
            if all(_fits(value, kind) for value in present):
                return kind
    return "VARCHAR"


def _fits(value: str, kind: str) -> bool:
    if kind == "BOOLEAN":
        return value.lower() in _BOOL
    if kind == "INTEGER":
        return bool(_INT.fullmatch(value)) and -(2**31) <= int(value) < 2**31
    if kind == "BIGINT":
        return bool(_INT.fullmatch(value)) and -(2**63) <= int(value) < 2**63
    if kind == "DOUBLE":
        return bool(_FLOAT.fullmatch(value))
    if kind == "DATE":
        return bool(_DATE.fullmatch(value))
    return bool(_TIMESTAMP.fullmatch(value))


def seed_shape(node: Node, project_root: Path, dialect: str = "") -> Shape:
    """A seed's columns from its CSV file (unknown when the file cannot be read)."""
    root = Path(getattr(node, "root_path", "") or project_root)
    path = root / node.original_file_path
    delimiter = str(node.config.get("delimiter") or ",")
    configured = {str(k).lower(): str(v) for k, v in (node.config.get("column_types") or {}).items()}
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if not header:
                return UNKNOWN
            columns: list[list[str]] = [[] for _ in header]
            for count, row in enumerate(reader):
                if count >= SAMPLE_ROWS:
                    break
                for i, value in enumerate(row[: len(header)]):
                    columns[i].append(value)
    except (OSError, UnicodeDecodeError, csv.Error):
        return UNKNOWN
    names = [h.strip() for h in header]
    if len({n.lower() for n in names}) != len(names) or not all(names):
        return UNKNOWN
    types = [configured.get(n.lower()) or spelled(infer_type(values), dialect) for n, values in zip(names, columns)]
    return Shape(names, types, complete=True)


# -- sources and contracts ----------------------------------------------------------------------
def source_shape(source: SourceDefinition) -> Shape:
    """A source table's declared columns: complete when each has a ``data_type``."""
    columns = list(source.columns.values())
    if not columns:
        return UNKNOWN
    complete = all(c.data_type for c in columns)
    return Shape([c.name for c in columns], [c.data_type for c in columns], complete, declared=True)


def contract_shape(node: Node) -> Shape | None:
    """An enforced contract's columns (None without one): the relation has exactly these."""
    contract = node.config.get("contract") or {}
    if not (isinstance(contract, dict) and contract.get("enforced")) or not node.columns:
        return None
    columns = list(node.columns.values())
    return Shape([c.name for c in columns], [c.data_type for c in columns], complete=True)
