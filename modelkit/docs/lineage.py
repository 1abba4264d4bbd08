"""Column-level lineage: sqlglot's lineage over each model's compiled SQL and the catalog's schemas.

Each output column gets the upstream (node, column) pairs it is computed from, one hop up the DAG.
Ephemeral models, which the compiler inlines as ``__dbt__cte__<name>`` CTEs, are cut out of the
query and stand as tables of their own, so that lineage stops at them like at any other model.
Where sqlglot cannot tell where a column comes from the column is marked unresolved, with the reason;
nothing is guessed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

DIRECT = "direct"  # the value of one upstream column, maybe renamed
DERIVED = "derived"  # computed from one or more upstream columns
NO_COLUMN = "none"  # computed without reading a column: a literal, count(*), ...
UNRESOLVED = "unresolved"

PARALLEL_THRESHOLD = 400  # below this many queries, worker processes cost more than they save


@dataclass
class Upstream:
    unique_id: str | None  # None: a relation that is not a node of the project
    relation: str  # how to show the relation when it is not a node
    column: str


@dataclass
class ColumnLineage:
    status: str
    upstream: list[Upstream] = field(default_factory=list)
    reason: str | None = None


Key = tuple[str, str, str]


@dataclass
class NodeLineage:
    columns: list[str] = field(default_factory=list)  # output columns, in select order
    lineage: dict[str, ColumnLineage] = field(default_factory=dict)  # by lower-cased column name
    error: str | None = None  # why no column could be analysed
    tables: list[Key] = field(default_factory=list)  # relations the query names (what the result depends on)

    def get(self, column: str) -> ColumnLineage:
        found = self.lineage.get(column.lower())
        if found is not None:
            return found
        reason = self.error or f"'{column}' is not in the select list of the compiled SQL"
        return ColumnLineage(UNRESOLVED, reason=reason)


class LineageContext:
    """What the analysis needs to know about relations: their columns and which node they are."""

    def __init__(self, dialect: str, default_database: str, default_schema: str) -> None:
        self.dialect = dialect
        self.default_database = default_database
        self.default_schema = default_schema
        self.columns: dict[Key, dict[str, str]] = {}  # relation -> {column: type}
        self.nodes: dict[Key, list[str]] = {}  # relation -> the nodes and sources that are it
        self.ephemerals: dict[str, str] = {}  # CTE name (lower) -> unique_id
        self._schema: Any = None
        self._pending: list[Key] = []  # relations added since the schema was made: added when it is next used
        self._names: dict[tuple[str, bool], str] = {}  # identifier -> as the dialect normalizes it

    def key(self, database: str | None, schema: str | None, name: str) -> Key:
        return ((database or self.default_database).lower(), (schema or self.default_schema).lower(), name.lower())

    def add_relation(self, key: Key, unique_id: str | None, columns: dict[str, str] | None) -> None:
        if unique_id is not None and unique_id not in self.nodes.setdefault(key, []):
            self.nodes[key].append(unique_id)
        if columns:
            self.columns[key] = dict(columns)
            if self._schema is not None:
                self._pending.append(key)

    def add_ephemeral(self, cte_name: str, unique_id: str, columns: dict[str, str] | None) -> None:
        self.ephemerals[cte_name.lower()] = unique_id
        self.add_relation(self.key(None, None, cte_name), unique_id, columns)

    def normal(self, name: str, is_table: bool = False) -> str:
        """``name`` as sqlglot normalizes an identifier of the dialect (once per distinct name: the schema
        is then made with ``normalize=False``, which spares sqlglot doing it for every table it looks up)."""
        found = self._names.get((name, is_table))
        if found is None:
            # sqlglot takes ~0.2 s to import: loaded only when lineage is traced
            from sqlglot.errors import SqlglotError
            from sqlglot.schema import normalize_name  # (lazy, as above)

            try:
                found = normalize_name(name, dialect=self.dialect, is_table=is_table).name
            except SqlglotError:
                found = name
            self._names[(name, is_table)] = found
        return found

    def _types(self, columns: dict[str, str]) -> dict[str, str]:
        # Types only help sqlglot with names; an odd engine type must not stop the analysis.
        return {self.normal(name): "UNKNOWN" for name in columns}

    @property
    def schema(self) -> Any:
        if self._pending and self._schema is not None:
            # sqlglot takes ~0.2 s to import: loaded only when lineage is traced
            from sqlglot import exp

            pending, self._pending = self._pending, []
            for key in dict.fromkeys(pending):
                db, schema, name = (self.normal(part, is_table=True) for part in key)
                table = exp.table_(name, db=schema, catalog=db)
                self._schema.add_table(table, self._types(self.columns[key]), dialect=self.dialect, normalize=False)
        if self._schema is None:
            # sqlglot takes ~0.2 s to import: loaded only when lineage is traced
            from sqlglot.schema import MappingSchema

            nested: dict[str, Any] = {}
            for key, columns in self.columns.items():
                db, schema, name = (self.normal(part, is_table=True) for part in key)
                nested.setdefault(db, {}).setdefault(schema, {})[name] = self._types(columns)
            self._schema = MappingSchema(nested, dialect=self.dialect, normalize=False)
            self._pending = []
        return self._schema

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_schema"] = None
        state["_pending"] = []
        state["_names"] = {}
        return state


def analyse(ctx: LineageContext, sql: str, parents: Iterable[str] = ()) -> NodeLineage:
    """The lineage of every output column of one compiled query.

    ``parents`` (the node's depends_on) decide between nodes that are the same relation.
    """
    # sqlglot takes ~0.2 s to import: loaded only when lineage is traced
    from sqlglot import exp, parse_one  # noqa: I001 - one group under its comment
    from sqlglot.errors import SqlglotError  # (lazy, as above)
    from sqlglot.lineage import lineage  # (lazy, as above)
    from sqlglot.optimizer.qualify import qualify  # (lazy, as above)
    from sqlglot.optimizer.scope import build_scope  # (lazy, as above)

    try:
        tree = parse_one(sql, dialect=ctx.dialect)
    except SqlglotError as exc:
        return NodeLineage(error=f"sqlglot could not parse the compiled SQL: {_first_line(exc)}")
    if not isinstance(tree, exp.Query):
        return NodeLineage(error="the compiled SQL is not a query")
    _cut_ephemeral_ctes(tree, ctx)
    tables = sorted(
        {
            ctx.key(t.catalog or None, t.db or None, t.name)
            for t in tree.find_all(exp.Table)
            if isinstance(t.this, exp.Identifier)
        }
    )
    try:
        qualified = qualify(
            tree,
            dialect=ctx.dialect,
            schema=ctx.schema,
            catalog=ctx.normal(ctx.default_database, is_table=True) if ctx.default_database else None,
            db=ctx.normal(ctx.default_schema, is_table=True) if ctx.default_schema else None,
            validate_qualify_columns=False,
            identify=False,
        )
        scope = build_scope(qualified)
        roots = lineage(
            None, qualified, schema=ctx.schema, dialect=ctx.dialect, scope=scope, trim_selects=False, copy=False
        )
    except SqlglotError as exc:
        return NodeLineage(error=f"sqlglot could not resolve the query: {_first_line(exc)}", tables=tables)
    except Exception as exc:  # noqa: BLE001 - sqlglot failing on odd SQL only leaves this node unresolved
        return NodeLineage(
            error=f"sqlglot failed on the query: {type(exc).__name__}: {_first_line(exc)}", tables=tables
        )
    assert isinstance(roots, dict)
    result = NodeLineage(tables=tables)
    for name, root in roots.items():
        if name == "*":
            result.error = "the query selects * from a relation whose columns are unknown (not built yet?)"
            continue
        result.columns.append(name)
        result.lineage[name.lower()] = _column(ctx, root, set(parents))
    return result


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _cut_ephemeral_ctes(tree: Any, ctx: LineageContext) -> None:
    """Drop the inlined ``__dbt__cte__`` CTEs: references to them then read as tables."""
    if not ctx.ephemerals:
        return
    with_ = tree.args.get("with_") or tree.args.get("with")
    if with_ is None:
        return
    for cte in list(with_.expressions):
        if cte.alias.lower() in ctx.ephemerals:
            cte.pop()
    if not with_.expressions:
        with_.pop()


def _column(ctx: LineageContext, root: Any, parents: set[str]) -> ColumnLineage:
    from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when lineage is traced

    upstream: list[Upstream] = []
    reasons: list[str] = []
    direct = True
    for leaf, pure in _leaves(root):
        source = leaf.source
        if isinstance(source, exp.Table):
            found = _table_leaf(ctx, leaf, source, parents)
            if isinstance(found, str):
                reasons.append(found)
            elif found not in upstream:
                upstream.append(found)
            direct = direct and pure
        elif isinstance(source, exp.Query) and leaf.expression.find(exp.Columns) is not None:
            reasons.append("COLUMNS(...) picks columns by pattern, which sqlglot does not expand")
        elif isinstance(source, exp.Query) and leaf.expression.find(exp.Column) is None:
            direct = False  # a literal or count(*): nothing upstream
        elif isinstance(source, exp.Placeholder) or isinstance(leaf.expression, exp.Placeholder):
            reasons.append(f"cannot tell which relation '{leaf.name}' comes from")
        elif isinstance(source, exp.Query):
            reasons.append(f"cannot trace '{leaf.expression.sql(ctx.dialect)}'")
        else:
            reasons.append(f"'{leaf.name}' comes from {source.sql(ctx.dialect)[:80]}, not from a relation")
    if reasons:
        return ColumnLineage(UNRESOLVED, upstream, "; ".join(dict.fromkeys(reasons)))
    if not upstream:
        return ColumnLineage(NO_COLUMN)
    return ColumnLineage(DIRECT if direct and len(upstream) == 1 else DERIVED, upstream)


def _leaves(root: Any) -> Iterator[tuple[Any, bool]]:
    """Leaf nodes of a lineage tree, each with whether every step to it only passed the value along."""
    from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when lineage is traced

    stack = [(root, True)]
    seen: set[int] = set()
    while stack:
        node, pure = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if not node.downstream:
            yield node, pure
            continue
        step_pure = pure and isinstance(node.expression.unalias(), exp.Column)
        stack.extend((child, step_pure) for child in node.downstream)


def _table_leaf(ctx: LineageContext, leaf: Any, table: Any, parents: set[str]) -> Upstream | str:
    from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when lineage is traced

    column = leaf.name.split(".", 1)[1] if "." in leaf.name else leaf.name
    if not isinstance(table.this, exp.Identifier):
        return Upstream(None, table.this.sql(ctx.dialect), column)
    key = ctx.key(table.catalog or None, table.db or None, table.name)
    candidates = ctx.nodes.get(key, [])
    unique_id = next((uid for uid in candidates if uid in parents), candidates[0] if candidates else None)
    label = ".".join(p for p in (table.catalog, table.db, table.name) if p)
    if column == "*":
        return f"'{label}' is read with * and its columns are unknown (not built yet?)"
    known = ctx.columns.get(key)
    if known is not None and column.lower() not in {c.lower() for c in known}:
        return f"'{column}' is not a column of {label}"
    return Upstream(unique_id, label, column)


# -- many queries ----------------------------------------------------------------------------------
Job = tuple[str, str, list[str]]  # unique_id, compiled SQL, parents


def default_workers() -> int:
    return min(os.cpu_count() or 1, 8)
