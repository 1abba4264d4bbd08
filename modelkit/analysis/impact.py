"""Change impact: how a model's output columns changed, and who downstream reads what changed.

A modified model's columns before and after (its statically inferred :class:`Shape` of each side) give
*added*, *removed* and *retyped* columns (a type change counts only where both types are known); a
removed and an added column computed from the same upstream columns the same way are one *renamed*
column. A change is **breaking** when it removes, renames or retypes a column that something
downstream reads: a column of a downstream model (through column lineage, filters included), or a
data test on that column. Added columns, and changes to columns nobody reads, are **non-breaking**.
Exposures that depend on a model are listed with its changes but do not make them breaking: which
columns an exposure reads is not known.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelkit.analysis.lineage import NodeLineage
from modelkit.analysis.shapes import Shape

ADDED, REMOVED, RENAMED, RETYPED = "added", "removed", "renamed", "retyped"
Column = tuple[str, str]  # (unique_id, column)


@dataclass
class ColumnChange:
    """One column of a modified model: how it changed and what reads it downstream."""

    kind: str  # added | removed | renamed | retyped
    column: str  # the column's name before (after, for an added column)
    new_name: str | None = None  # renamed: the name it has now
    old_type: str | None = None
    new_type: str | None = None
    readers: list[Column] = field(default_factory=list)  # downstream model columns computed from it
    tests: list[str] = field(default_factory=list)  # data tests on it
    breaking: bool = False

    def to_json(self, names: Mapping[str, str]) -> dict[str, Any]:
        return {
            "change": self.kind,
            "column": self.column,
            "new_name": self.new_name,
            "old_type": self.old_type,
            "new_type": self.new_type,
            "breaking": self.breaking,
            "downstream_columns": [
                {"unique_id": uid, "name": names.get(uid, uid), "column": col} for uid, col in self.readers
            ],
            "tests": list(self.tests),
        }


@dataclass
class ModelImpact:
    """The changes of one modified model (``known`` False: its columns on one side could not be inferred)."""

    unique_id: str
    name: str
    changes: list[ColumnChange] = field(default_factory=list)
    known: bool = True
    reason: str | None = None  # why the columns are not known
    exposures: list[str] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)


def _signature(lineage: NodeLineage | None, column: str) -> tuple[Any, ...] | None:
    """What a column is computed from, to tell a renamed column (None: nothing to compare)."""
    if lineage is None or lineage.error:
        return None
    found = lineage.lineage.get(column.lower())
    if found is None or not found.upstream:
        return None
    return tuple(sorted((u.unique_id or u.relation, u.column.lower(), u.how) for u in found.upstream))


def _norm(type_: str | None) -> str | None:
    return " ".join(type_.lower().split()) if type_ else None


def column_changes(
    old: Shape, new: Shape, old_lineage: NodeLineage | None = None, new_lineage: NodeLineage | None = None
) -> list[ColumnChange]:
    """Removed, renamed, retyped and added columns from ``old`` to ``new`` (in this order of kinds).

    >>> old = Shape(["id", "name", "age"], ["integer", "varchar", "integer"])
    >>> new = Shape(["id", "age", "score"], ["integer", "varchar", None])
    >>> [(c.kind, c.column, c.old_type, c.new_type) for c in column_changes(old, new)]
    [('removed', 'name', 'varchar', None), ('retyped', 'age', 'integer', 'varchar'), ('added', 'score', None, None)]
    """
    removed = [c for c in old.names if new.index(c) is None]
    added = [c for c in new.names if old.index(c) is None]
    changes: list[ColumnChange] = []
    for column in list(removed):
        sig = _signature(old_lineage, column)
        match = next((a for a in added if sig is not None and _signature(new_lineage, a) == sig), None)
        if match is not None:
            added.remove(match)
            removed.remove(column)
            changes.append(ColumnChange(RENAMED, column, match, old.type_of(column), new.type_of(match)))
    changes[:0] = [ColumnChange(REMOVED, c, old_type=old.type_of(c)) for c in removed]
    for column in old.names:
        before, after = old.type_of(column), new.type_of(column)
        if new.index(column) is not None and before and after and _norm(before) != _norm(after):
            changes.append(ColumnChange(RETYPED, column, old_type=before, new_type=after))
    changes += [ColumnChange(ADDED, c, new_type=new.type_of(c)) for c in added]
    return changes


def readers_of(
    start: Column,
    lineage_of: Callable[[str], NodeLineage | None],
    children_of: Callable[[str], Iterable[str]],
) -> list[Column]:
    """Every downstream (model, column) computed from ``start``, followed through column lineage
    (a column filtered by it counts: its rows depend on it), nearest first."""
    found: list[Column] = []
    seen = {(start[0], start[1].lower())}
    queue = [start]
    while queue:
        uid, column = queue.pop(0)
        for child in children_of(uid):
            lineage = lineage_of(child)
            if lineage is None or lineage.error:
                continue
            for out in lineage.columns:
                info = lineage.lineage.get(out.lower())
                if info is None:
                    continue
                reads = [*info.upstream, *info.filters]
                if any(u.unique_id == uid and u.column.lower() == column.lower() for u in reads):
                    key = (child, out.lower())
                    if key not in seen:
                        seen.add(key)
                        found.append((child, out))
                        queue.append((child, out))
    return found


def judge(change: ColumnChange) -> None:
    """Breaking: a column taken away or changed that a downstream column or a test reads."""
    change.breaking = change.kind != ADDED and bool(change.readers or change.tests)
