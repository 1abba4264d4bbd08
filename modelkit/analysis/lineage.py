"""Column-level lineage: sqlglot's lineage over each model's compiled SQL and the relations' columns.

Each output column gets the upstream (node, column) pairs it is computed from, one hop up the DAG,
each with how: *copied* (the value passed on, maybe renamed), *transformed* (computed from it),
*aggregated* (through an aggregate function); and, when asked, the columns that decide which rows
it has (*filtered-by*: read in a WHERE, JOIN ... ON, HAVING or QUALIFY on its way).
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

from modelkit.analysis.loading import load_sqlglot

DIRECT = "direct"  # the value of one upstream column, maybe renamed
DERIVED = "derived"  # computed from one or more upstream columns
NO_COLUMN = "none"  # computed without reading a column: a literal, count(*), ...
UNRESOLVED = "unresolved"

COPIED, TRANSFORMED, AGGREGATED, FILTERED_BY = "copied", "transformed", "aggregated", "filtered-by"
_RANK = {COPIED: 0, TRANSFORMED: 1, AGGREGATED: 2}

PARALLEL_THRESHOLD = 400  # below this many queries, worker processes cost more than they save


@dataclass
class Upstream:
    unique_id: str | None  # None: a relation that is not a node of the project
    relation: str  # how to show the relation when it is not a node
    column: str
    how: str = COPIED  # copied | transformed | aggregated | filtered-by


@dataclass
class ColumnLineage:
    status: str
    upstream: list[Upstream] = field(default_factory=list)
    reason: str | None = None
    filters: list[Upstream] = field(default_factory=list)  # columns deciding which rows (when asked for)


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
            load_sqlglot()
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


def analyse(ctx: LineageContext, sql: str, parents: Iterable[str] = (), *, filters: bool = False) -> NodeLineage:
    """The lineage of every output column of one compiled query.

    ``parents`` (the node's depends_on) decide between nodes that are the same relation; ``filters``
    also finds the columns that decide which rows each column has.
    """
    load_sqlglot()
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
    conditions = _Conditions(ctx, scope, set(parents)) if filters else None
    for name, root in roots.items():
        if name == "*":
            result.error = "the query selects * from a relation whose columns are unknown (not built yet?)"
            continue
        result.columns.append(name)
        found = _column(ctx, root, set(parents))
        if conditions is not None:
            try:
                found.filters = conditions.of(root)
            except Exception:  # noqa: BLE001 - filters are extra: odd SQL leaves them out, not the lineage
                found.filters = []
        result.lineage[name.lower()] = found
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
    for leaf, how in _leaves(root):
        source = leaf.source
        if isinstance(source, exp.Table):
            found = _table_leaf(ctx, leaf, source, parents)
            if isinstance(found, str):
                reasons.append(found)
                continue
            found.how = how
            same = next(
                (
                    u
                    for u in upstream
                    if (u.unique_id, u.relation, u.column) == (found.unique_id, found.relation, found.column)
                ),
                None,
            )
            if same is None:
                upstream.append(found)
            elif _RANK[how] > _RANK[same.how]:
                same.how = how
            direct = direct and how == COPIED
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
    upstream.sort(key=_order)  # sqlglot's order follows sets, which differ from one process to the next
    if reasons:
        return ColumnLineage(UNRESOLVED, upstream, "; ".join(sorted(dict.fromkeys(reasons))))
    if not upstream:
        return ColumnLineage(NO_COLUMN)
    return ColumnLineage(DIRECT if direct and len(upstream) == 1 else DERIVED, upstream)


def _order(upstream: Upstream) -> tuple[str, str, str]:
    return (upstream.unique_id or "", upstream.relation, upstream.column)


def _leaves(root: Any) -> Iterator[tuple[Any, str]]:
    """Leaf nodes of a lineage tree, each with how the steps to it treat the value: copied (only passed
    along), transformed, or aggregated (an aggregate function on the way)."""
    from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when lineage is traced

    stack = [(root, COPIED)]
    seen: set[tuple[int, str]] = set()
    while stack:
        node, how = stack.pop()
        if (id(node), how) in seen:
            continue
        seen.add((id(node), how))
        if not node.downstream:
            yield node, how
            continue
        expression = node.expression.unalias()
        step = how
        if not isinstance(expression, exp.Column):
            step = AGGREGATED if expression.find(exp.AggFunc) is not None or how == AGGREGATED else TRANSFORMED
        stack.extend((child, step) for child in node.downstream)


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


class _Conditions:
    """The columns that WHERE, JOIN ... ON, HAVING and QUALIFY read in each select of a query, traced
    to the relations they come from."""

    CLAUSES = ("where", "having", "qualify")

    def __init__(self, ctx: LineageContext, root_scope: Any, parents: set[str]) -> None:
        self.ctx = ctx
        self.parents = parents
        self.scopes = {id(s.expression): s for s in root_scope.traverse()}
        self._by_select: dict[int, list[Upstream]] = {}

    def of(self, root: Any) -> list[Upstream]:
        """The filters of every select an output column passes through."""
        found: list[Upstream] = []
        seen: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.extend(node.downstream)
            scope = self.scopes.get(id(node.source))
            if scope is None:
                continue
            for upstream in self.select(scope):
                if upstream not in found:
                    found.append(upstream)
        return sorted(found, key=_order)

    def select(self, scope: Any) -> list[Upstream]:
        from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when lineage is traced

        key = id(scope.expression)
        if key in self._by_select:
            return self._by_select[key]
        self._by_select[key] = []
        select = scope.expression
        if not isinstance(select, exp.Select):
            return []
        clauses = [select.args.get(name) for name in self.CLAUSES]
        clauses += [join.args.get("on") for join in select.args.get("joins") or []]
        found: list[Upstream] = []
        for clause in clauses:
            if clause is None:
                continue
            for column in clause.find_all(exp.Column):
                if column.find_ancestor(exp.Select) is not select and column.find_ancestor(exp.Select) is not None:
                    continue  # a subquery's own column
                for upstream in self.origins(scope, column.table, column.name, 0):
                    if upstream not in found:
                        found.append(upstream)
        self._by_select[key] = found
        return found

    def origins(self, scope: Any, alias: str, column: str, depth: int) -> list[Upstream]:
        """The relation columns a scope's ``alias.column`` comes from."""
        from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when lineage is traced

        source = scope.sources.get(alias) if alias else None
        if source is None or depth > 50:
            return []
        if isinstance(source, exp.Table):
            if not isinstance(source.this, exp.Identifier):
                return []
            key = self.ctx.key(source.catalog or None, source.db or None, source.name)
            candidates = self.ctx.nodes.get(key, [])
            uid = next((u for u in candidates if u in self.parents), candidates[0] if candidates else None)
            label = ".".join(p for p in (source.catalog, source.db, source.name) if p)
            return [Upstream(uid, label, column, FILTERED_BY)]
        select = source.expression
        if not isinstance(select, exp.Select):
            return []
        found: list[Upstream] = []
        for projection in select.expressions:
            if projection.alias_or_name.lower() != column.lower():
                continue
            for inner in projection.find_all(exp.Column):
                found.extend(self.origins(source, inner.table, inner.name, depth + 1))
        return found


# -- many queries ----------------------------------------------------------------------------------
Job = tuple[str, str, list[str]]  # unique_id, compiled SQL, parents


def default_workers() -> int:
    return min(os.cpu_count() or 1, 8)
