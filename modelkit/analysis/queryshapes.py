"""Column lineage of queries that differ only in the relations they read, analysed once.

Models are often written from one template: the same query over different relations (a staging model
per source table, a rollup per mart). Two compiled queries have the same *shape* when their text is the
same once each relation of the project they name (``"db"."schema"."name"``, as modelkit renders a
relation) stands as a placeholder numbered by first appearance, and the relations in each place have the
same columns. sqlglot then gives the same lineage for both, up to the relations: the second query's
lineage is the first one's with its relations, their nodes and their names in messages replaced.

Only relations the lineage context knows are placeholders; anything else in the text must be equal, so
a match is never looser than the analysis itself.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from modelkit.analysis.lineage import Key, LineageContext, NodeLineage, Upstream, analyse

_RELATION = re.compile(r'"((?:[^"]|"")+)"\."((?:[^"]|"")+)"\."((?:[^"]|"")+)"')


@dataclasses.dataclass(frozen=True)
class _Place:
    key: Key  # the relation, as the lineage context keys it
    label: str  # as lineage names it: db.schema.name
    quoted: str  # as the query writes it


def shape_of(ctx: LineageContext, sql: str) -> tuple[tuple[Any, ...], list[_Place]] | None:
    """(the query's shape, the relations in its places), or None when it names no known relation."""
    places: list[_Place] = []
    index: dict[Key, int] = {}
    pieces: list[str] = []
    pos = 0
    for match in _RELATION.finditer(sql):
        parts = [p.replace('""', '"') for p in match.groups()]
        key = ctx.key(*parts)
        if key not in ctx.nodes and key not in ctx.columns:
            continue
        number = index.get(key)
        if number is None:
            number = index[key] = len(places)
            places.append(_Place(key, ".".join(parts), match.group(0)))
        pieces.append(sql[pos : match.start()])
        pieces.append(f"\x00{number}\x00")
        pos = match.end()
    if not places:
        return None
    pieces.append(sql[pos:])
    columns = tuple(
        tuple(sorted(c.lower() for c in ctx.columns[p.key])) if p.key in ctx.columns else None for p in places
    )
    return ("".join(pieces), columns), places


class ShapeCache:
    """:func:`analyse`, once per query shape: later queries of a shape get the first one's lineage, moved.

    Only a lineage that resolved every column is moved: messages (why a column is unresolved) may name a
    relation in ways that cannot be told apart from other words, so such queries are analysed themselves.
    """

    def __init__(self) -> None:
        self.done: dict[tuple[Any, ...], tuple[NodeLineage, list[_Place]]] = {}
        self.hits = 0

    def analyse(self, ctx: LineageContext, sql: str, parents: list[str]) -> NodeLineage:
        found = self.reuse(ctx, sql, parents)
        if found is not None:
            return found
        result = analyse(ctx, sql, parents)
        self.put(ctx, sql, result)
        return result

    def reuse(self, ctx: LineageContext, sql: str, parents: list[str]) -> NodeLineage | None:
        """The lineage of an earlier query of the same shape, moved to this one's relations; or None."""
        found = shape_of(ctx, sql)
        if found is None:
            return None
        known = self.done.get(found[0])
        if known is None:
            return None
        self.hits += 1
        return moved(ctx, known[0], known[1], found[1], parents)

    def put(self, ctx: LineageContext, sql: str, result: NodeLineage) -> None:
        """Record the lineage of ``sql`` (when it resolved every column), for later queries of its shape."""
        if _has_messages(result):
            return
        found = shape_of(ctx, sql)
        if found is not None:
            self.done.setdefault(found[0], (result, found[1]))


def _has_messages(value: Any) -> bool:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if getattr(value, "reason", None) or getattr(value, "error", None):
            return True
        return any(_has_messages(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (list, tuple)):
        return any(_has_messages(v) for v in value)
    if isinstance(value, dict):
        return any(_has_messages(v) for v in value.values())
    return False


def moved(ctx: LineageContext, lineage: NodeLineage, old: list[_Place], new: list[_Place], parents: list[str]) -> Any:
    """``lineage`` (of a query reading ``old``, every column resolved) for the query of the same shape
    reading ``new``: each upstream relation, its node and each relation the query names replaced."""
    labels = {a.label: b for a, b in zip(old, new)}
    keys = {a.key: b.key for a, b in zip(old, new)}
    chosen = set(parents)

    def node_of(place: _Place) -> str | None:
        candidates = ctx.nodes.get(place.key, [])
        return next((uid for uid in candidates if uid in chosen), candidates[0] if candidates else None)

    def move(value: Any) -> Any:
        if value is None or isinstance(value, (str, int, float)):
            return value
        if isinstance(value, Upstream):
            place = labels.get(value.relation)
            if place is None:
                return value
            return Upstream(**{**value.__dict__, "unique_id": node_of(place), "relation": place.label})
        if isinstance(value, list):
            out = [move(v) for v in value]
            if out and all(isinstance(v, tuple) for v in value) and value == sorted(value):
                out.sort()  # relations listed in order stay in order
            return out
        if isinstance(value, tuple):
            return keys[value] if value in keys else tuple(move(v) for v in value)
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            copied = object.__new__(type(value))
            copied.__dict__.update({k: move(v) for k, v in value.__dict__.items()})
            return copied
        return value

    return move(lineage)
