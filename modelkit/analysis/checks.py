"""Checking one compiled query against the relations it reads, without running it.

sqlglot parses the query and splits it into scopes (the query, its CTEs, subqueries, derived tables);
every column a scope names is looked up in the columns of the relations that scope reads, and in the
scopes around it (correlated subqueries). A name is reported only when every relation it could come
from has a *complete* shape: where a relation's columns are not all known, the name is left alone
(``unresolved``, which only ``static_analysis: strict`` reports). The query's own output columns come
out as its shape, for the models that read it.

Findings carry the offset of the name in the compiled SQL; :mod:`modelkit.analysis.sourcemap` turns it
into a line of the model's file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelkit.analysis.coltypes import INCOMPATIBLE, expression_type, operand_family
from modelkit.analysis.loading import load_sqlglot
from modelkit.analysis.relations import Key, Relations
from modelkit.analysis.shapes import UNKNOWN, Shape
from modelkit.core.text import did_you_mean

# What a finding is; static_analysis decides how loud each one is (see modelkit.analysis.static).
UNKNOWN_COLUMN = "unknown_column"
AMBIGUOUS_COLUMN = "ambiguous_column"
UNRESOLVED_COLUMN = "unresolved_column"  # its relation's columns are not all known
UNKNOWN_RELATION = "unknown_relation"  # a table the project does not build or declare
UNREFERENCED_RELATION = "unreferenced_relation"  # a project relation read without ref()/source()
STAR_UNKNOWN_SHAPE = "star_unknown_shape"
TYPE_MISMATCH = "type_mismatch"
SET_ARITY = "set_arity"

# Names an engine answers without a relation having such a column.
PSEUDO_COLUMNS = frozenset(
    {
        "rowid", "oid", "ctid", "xmin", "xmax", "cmin", "cmax", "tableoid",
        "current_date", "current_time", "current_timestamp", "current_user", "current_role",
        "current_schema", "current_catalog", "current_database", "session_user", "user",
        "localtime", "localtimestamp", "sysdate", "systimestamp",
    }
)  # fmt: skip
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "system", "temp"})
SYSTEM_PREFIXES = ("pg_", "duckdb_", "sqlite_")
COMPARISONS = ("EQ", "NEQ", "GT", "GTE", "LT", "LTE")


@dataclass
class Finding:
    code: str
    message: str
    start: int | None = None  # offset of the name in the compiled SQL
    text: str | None = None  # the name as written, to find it in the source file

    def to_json(self) -> list[Any]:
        return [self.code, self.message, self.start, self.text]

    @classmethod
    def from_json(cls, data: list[Any]) -> Finding:
        return cls(*data)


@dataclass
class QueryCheck:
    findings: list[Finding] = field(default_factory=list)
    shape: Shape = UNKNOWN  # the query's output columns
    tables: list[Key] = field(default_factory=list)  # the relations it reads (for the cache)
    missing: list[tuple[str | None, str | None, str]] = field(default_factory=list)  # names no relation has


class NotAnalysed(Exception):
    """The query could not be analysed (sqlglot cannot parse it, or it is not a query)."""


def parse(sql: str, dialect: str) -> Any:
    load_sqlglot()
    # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed
    from sqlglot import exp, parse  # noqa: I001 - one group under its comment
    from sqlglot.errors import SqlglotError  # (lazy, as above)

    try:
        statements = [s for s in parse(sql, dialect=dialect or None) if s is not None]
    except SqlglotError as exc:
        raise NotAnalysed(f"sqlglot could not parse the compiled SQL: {first_line(exc)}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise NotAnalysed("the compiled SQL is not one query")
    return statements[0]


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def cut_ephemeral_ctes(tree: Any, ephemerals: dict[str, str]) -> None:
    """Drop the inlined ``__dbt__cte__`` CTEs: references to them then read as relations of their own."""
    if not ephemerals:
        return
    with_ = tree.args.get("with_") or tree.args.get("with")
    if with_ is None:
        return
    for cte in list(with_.expressions):
        if cte.alias.lower() in ephemerals:
            cte.pop()
    if not with_.expressions:
        with_.pop()


def check_query(
    sql: str, relations: Relations, *, self_key: Key | None = None, parents: frozenset[str] = frozenset()
) -> QueryCheck:
    """Findings and the output shape of one compiled query; NotAnalysed when it cannot be read."""
    from sqlglot.errors import SqlglotError  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed
    from sqlglot.optimizer.scope import build_scope  # (lazy, as above)

    tree = parse(sql, relations.dialect)
    cut_ephemeral_ctes(tree, relations.ephemerals)
    try:
        root = build_scope(tree)
    except SqlglotError as exc:
        raise NotAnalysed(f"sqlglot could not resolve the query's scopes: {first_line(exc)}") from None
    if root is None:
        raise NotAnalysed("the compiled SQL is not a query")
    checker = Checker(relations, self_key, parents)
    return checker.run(root)


class Checker:
    def __init__(self, relations: Relations, self_key: Key | None, parents: frozenset[str]) -> None:
        self.relations = relations
        self.dialect = relations.dialect
        self.self_key = self_key
        self.parents = parents
        self.findings: list[Finding] = []
        self.tables: set[Key] = set()
        self.missing: set[tuple[str | None, str | None, str]] = set()
        self._outputs: dict[int, Shape] = {}
        self._resolved: dict[int, str | None] = {}  # id(column) -> its type (None: unknown)
        self._table_shapes: dict[int, tuple[Shape, str]] = {}
        self._busy: set[int] = set()  # scopes whose output is being worked out

    # -- the whole query ------------------------------------------------------------------------
    def run(self, root: Any) -> QueryCheck:
        from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

        scopes = list(root.traverse())
        for scope in scopes:
            for source in scope.sources.values():
                if isinstance(source, exp.Table):
                    self.table_shape(source)
        for scope in scopes:
            external = {
                id(c)
                for child in (*scope.subquery_scopes, *scope.udtf_scopes, *scope.derived_table_scopes)
                for c in child.external_columns
            }
            for column in scope.columns:
                if id(column) not in external:
                    self.resolve(column, scope)
            if isinstance(scope.expression, exp.SetOperation):
                self.check_set_arity(scope)
        shape = self.output(root)
        self.check_comparisons(root.expression)
        return QueryCheck(self.findings, shape, sorted(self.tables), sorted(self.missing, key=str))

    def add(self, code: str, message: str, node: Any = None) -> None:
        start = text = None
        if node is not None:
            meta = getattr(node, "meta", None) or {}
            start = meta.get("start")
            text = getattr(node, "this", None) if isinstance(getattr(node, "this", None), str) else None
        self.findings.append(Finding(code, message, start, text))

    # -- relations ------------------------------------------------------------------------------
    def table_shape(self, table: Any) -> tuple[Shape, str]:
        """A table's shape and how messages name it; unknown relations are reported once each."""
        from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

        found = self._table_shapes.get(id(table))
        if found is not None:
            return found
        shown = table.alias_or_name
        if not isinstance(table.this, exp.Identifier):  # a table function: its alias's columns, if given
            alias = table.args.get("alias")
            names = [c.name for c in alias.columns] if alias is not None and alias.columns else []
            found = (Shape(names, complete=False) if names else UNKNOWN, shown)
        elif table.args.get("pivots"):
            found = (UNKNOWN, shown)
        else:
            found = self.relation_shape(table)
        self._table_shapes[id(table)] = found
        return found

    def relation_shape(self, table: Any) -> tuple[Shape, str]:
        relations = self.relations
        name, schema, database = table.name, table.db, table.catalog
        written = ".".join(p for p in (database, schema, name) if p)
        ephemeral = relations.ephemerals.get(name.lower()) if not schema else None
        if ephemeral is not None:
            key = relations.keys[ephemeral]
            self.tables.add(key)
            return relations.shapes.get(key, UNKNOWN), relations.labels[ephemeral]
        keys = relations.find(database, schema, name)
        if not keys:
            self.missing.add((database or None, schema or None, name))
            if not self.is_system(table):
                self.add(
                    UNKNOWN_RELATION,
                    f"'{written}' is not a relation of the project: no model, seed, snapshot or source builds "
                    "or declares it (read it with ref() or source())",
                    table.this,
                )
            return UNKNOWN, written
        self.tables.update(keys)
        if self.self_key in keys:
            return UNKNOWN, relations.describe([self.self_key], written)  # {{ this }}: its own previous state
        owners = [uid for key in keys for uid in relations.owners.get(key, [])]
        if owners and not any(uid in self.parents for uid in owners):
            self.add(
                UNREFERENCED_RELATION,
                f"'{written}' is {relations.describe(keys, written)}, read without ref() or source(): "
                "it is not among this node's dependencies, so it may run before it is built",
                table.this,
            )
        return relations.shape(keys), relations.describe(keys, written)

    @staticmethod
    def is_system(table: Any) -> bool:
        name = table.name.lower()
        if (table.db or "").lower() in SYSTEM_SCHEMAS or name.startswith(SYSTEM_PREFIXES):
            return True
        return table.this.quoted and any(ch in name for ch in "./*")  # a file: read_csv_auto by name

    def source_shape(self, scope: Any, alias: str) -> tuple[Shape, str]:
        from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

        entry = scope.selected_sources.get(alias)
        if entry is None:
            return UNKNOWN, alias
        _, source = entry
        if isinstance(source, exp.Table):
            return self.table_shape(source)
        kind = "CTE" if source.is_cte else "subquery"
        return self.output(source), f"{kind} {alias}"

    # -- output columns of a scope --------------------------------------------------------------
    def output(self, scope: Any) -> Shape:
        key = id(scope)
        found = self._outputs.get(key)
        if found is not None:
            return found
        self._outputs[key] = UNKNOWN  # a recursive CTE reads itself: unknown while it is worked out
        self._busy.add(key)
        try:
            shape = self.compute_output(scope)
        finally:
            self._busy.discard(key)
        self._outputs[key] = shape
        return shape

    def compute_output(self, scope: Any) -> Shape:
        from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

        expression = scope.expression
        renamed = list(scope.outer_columns or [])
        if isinstance(expression, exp.SetOperation):
            if expression.args.get("by_name") or not scope.set_operation_scopes:
                return UNKNOWN
            left = self.output(scope.set_operation_scopes[0])
            shape = Shape(left.names, None, left.complete)
        elif isinstance(expression, exp.Select):
            shape = self.projections(scope, expression)
        else:  # VALUES, UNNEST, LATERAL: the alias's columns, if given
            return Shape(renamed, complete=False) if renamed else UNKNOWN
        if renamed:
            if len(renamed) > len(shape.names) and shape.complete:
                return Shape(renamed, complete=False)
            names = renamed + list(shape.names[len(renamed) :])
            return Shape(names, shape.types[: len(names)], shape.complete)
        return shape

    def projections(self, scope: Any, select: Any) -> Shape:
        from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

        names: list[str] = []
        types: list[str | None] = []
        complete = not select.args.get("laterals")
        for projection in select.expressions:
            star = projection if isinstance(projection, exp.Star) else None
            if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                star = projection.this
                shape, shown = self.source_shape(scope, projection.table)
                complete = self.expand(star, [(shape, shown, projection)], names, types) and complete
                continue
            if star is not None:
                sources = [(*self.source_shape(scope, alias), projection) for alias in self.from_order(select)]
                complete = self.expand(star, sources, names, types, self.using_columns(select)) and complete
                continue
            if isinstance(projection, exp.Alias) or isinstance(projection, exp.Column):
                name = projection.alias_or_name
                if isinstance(projection, exp.Alias) and projection.find(exp.Columns) is not None:
                    complete = False  # COLUMNS(...) picks columns by pattern
                    continue
                names.append(name)
                types.append(self.type_of(projection, scope))
                continue
            complete = False  # unnamed: the engine makes up its name
        lowered = [n.lower() for n in names]
        if len(set(lowered)) != len(lowered):
            keep = [i for i, n in enumerate(lowered) if n not in lowered[:i]]
            names, types, complete = [names[i] for i in keep], [types[i] for i in keep], False
        return Shape(names, types, complete)

    def expand(
        self,
        star: Any,
        sources: list[tuple[Shape, str, Any]],
        names: list[str],
        types: list[str | None],
        using: set[str] | None = None,
    ) -> bool:
        """Add what ``*`` (or ``t.*``) selects; whether every column it selects is known."""
        complete = True
        excluded = {c.name.lower() for c in star.args.get("except_") or star.args.get("except") or []}
        replaced = {a.alias.lower() for a in star.args.get("replace") or []}
        if star.args.get("rename"):
            complete = False
        seen: set[str] = set()
        for shape, shown, node in sources:
            if not shape.known:
                self.add(
                    STAR_UNKNOWN_SHAPE,
                    f"'*' selects the columns of {shown}, which are not known before it runs "
                    "(declare its columns, or build it first): the columns of this query are unknown",
                    node,
                )
            complete = complete and shape.complete
            for name, kind in zip(shape.names, shape.types):
                lower = name.lower()
                if lower in excluded or (using and lower in using and lower in seen):
                    continue
                seen.add(lower)
                names.append(name)
                types.append(None if lower in replaced else kind)
        return complete

    @staticmethod
    def from_order(select: Any) -> list[str]:
        """The sources of a select in the order ``*`` lists their columns."""
        out = []
        from_ = select.args.get("from_") or select.args.get("from")
        if from_ is not None:
            out.append(from_.this.alias_or_name)
        for join in select.args.get("joins") or []:
            out.append(join.this.alias_or_name)
        return out

    @staticmethod
    def using_columns(select: Any) -> set[str]:
        """Columns joined with USING (or by a NATURAL join: every shared name, which is not known here)."""
        found: set[str] = set()
        for join in select.args.get("joins") or []:
            for ident in join.args.get("using") or []:
                found.add(ident.name.lower())
            if join.args.get("method") and str(join.args["method"]).lower() == "natural":
                found.add("*")
        return found

    # -- names ----------------------------------------------------------------------------------
    def type_of(self, node: Any, scope: Any) -> str | None:
        return expression_type(node, lambda column: self.resolve(column, scope), self.dialect)

    def resolve(self, column: Any, scope: Any) -> str | None:
        """Check one column reference (once); its type where known."""
        key = id(column)
        if key in self._resolved:
            return self._resolved[key]
        self._resolved[key] = None
        found = self.lookup(column, scope)
        self._resolved[key] = found
        return found

    def lookup(self, column: Any, scope: Any) -> str | None:
        from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

        if isinstance(column.this, exp.Star) or column.args.get("db") or column.args.get("catalog"):
            return None
        name = column.name
        table = column.table
        chain = []
        walk = scope
        while walk is not None:
            chain.append(walk)
            walk = walk.parent
        if table:
            return self.lookup_qualified(column, chain, table, name)
        if name.lower() in PSEUDO_COLUMNS or self.bound(column):
            return None
        candidates: list[str] = []
        lowered = name.lower()
        for current in chain:
            if self.is_alias(current, name) or any(a.lower() == lowered for a in current.selected_sources):
                return None  # an output alias, or a whole row by its relation's alias (a struct)
            sources = current.selected_sources
            matches: list[tuple[str, Shape]] = []
            open_ = []
            for alias, (_, source) in sources.items():
                if id(source) in self._busy:
                    continue  # a derived table or CTE cannot read its own columns
                shape, shown = self.source_shape(current, alias)
                if shape.index(name) is not None:
                    matches.append((shown, shape))
                elif not shape.complete:
                    open_.append(shown)
                if current is scope:
                    candidates.extend(shape.names)
            if len(matches) == 1:
                return matches[0][1].type_of(name)
            if len(matches) > 1:
                using = self.using_columns(current.expression) if isinstance(current.expression, exp.Select) else set()
                if name.lower() in using or "*" in using:
                    return matches[0][1].type_of(name)
                shown = " and ".join(m[0] for m in matches)
                self.add(
                    AMBIGUOUS_COLUMN,
                    f"Column '{name}' is ambiguous: {shown} both have it. Qualify it with the relation's alias.",
                    column.this,
                )
                return None
            if open_:
                self.add(
                    UNRESOLVED_COLUMN,
                    f"Column '{name}' cannot be resolved: the columns of {', '.join(open_)} are not all known",
                    column.this,
                )
                return None
            if isinstance(current.expression, exp.Select) and current.expression.args.get("laterals"):
                return None
        if not scope.selected_sources:
            return None  # a select without FROM (a lateral's, a set operation's ORDER BY): not judged here
        read = ", ".join(self.source_shape(scope, alias)[1] for alias in scope.selected_sources) or "nothing"
        self.add(
            UNKNOWN_COLUMN,
            f"Column '{name}' is not a column of {read}." + did_you_mean(name, sorted(set(candidates))),
            column.this,
        )
        return None

    def lookup_qualified(self, column: Any, chain: list[Any], table: str, name: str) -> str | None:
        lowered = table.lower()
        for current in chain:
            alias = next((a for a in current.selected_sources if a.lower() == lowered), None)
            if alias is None or id(current.selected_sources[alias][1]) in self._busy:
                continue
            shape, shown = self.source_shape(current, alias)
            if shape.index(name) is not None:
                return shape.type_of(name)
            if not shape.complete:
                self.add(
                    UNRESOLVED_COLUMN,
                    f"Column '{table}.{name}' cannot be resolved: the columns of {shown} are not all known",
                    column.this,
                )
                return None
            self.add(
                UNKNOWN_COLUMN,
                f"Column '{name}' is not a column of {shown}"
                + ("" if shown == alias or shown.endswith(f" {alias}") else f" ({alias})")
                + "."
                + did_you_mean(name, list(shape.names)),
                column.this,
            )
            return None
        return None  # not a relation here: a struct's field, or something sqlglot reads otherwise

    @staticmethod
    def bound(column: Any) -> bool:
        """Whether the name is a list comprehension's variable (``[x * 2 for x in xs]``)."""
        from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

        lowered = column.name.lower()
        node = column
        while node.parent is not None:
            parent = node.parent
            if isinstance(parent, exp.Comprehension) and node is not parent.args.get("iterator"):
                variable = parent.args.get("expression")
                if variable is not None and variable.name.lower() == lowered:
                    return True
            node = parent
        return False

    @staticmethod
    def is_alias(scope: Any, name: str) -> bool:
        """Whether ``name`` is an output alias of the scope's select (engines accept those in WHERE, GROUP
        BY, ORDER BY and later in the select list)."""
        from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

        select = scope.expression
        if not isinstance(select, exp.Select):
            return False
        lowered = name.lower()
        return any(isinstance(e, exp.Alias) and e.alias.lower() == lowered for e in select.expressions)

    # -- types ----------------------------------------------------------------------------------
    def check_set_arity(self, scope: Any) -> None:
        expression = scope.expression
        if expression.args.get("by_name") or len(scope.set_operation_scopes) != 2:
            return
        left, right = (self.output(s) for s in scope.set_operation_scopes)
        if left.complete and right.complete and len(left.names) != len(right.names):
            kind = type(expression).__name__.upper()
            self.add(
                SET_ARITY,
                f"{kind} of queries with different numbers of columns: {len(left.names)} and {len(right.names)}",
                expression.right.find(_identifier()),
            )

    def check_comparisons(self, tree: Any) -> None:
        from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

        kinds = tuple(getattr(exp, name) for name in COMPARISONS)

        def column_type(column: Any) -> str | None:
            return self._resolved.get(id(column))

        for node in tree.find_all(*kinds):
            left = operand_family(node.this, column_type, self.dialect)
            right = operand_family(node.expression, column_type, self.dialect)
            if left and right and frozenset((left, right)) in INCOMPATIBLE:
                shown = node.sql(dialect=self.dialect or None)
                if len(shown) > 80:
                    shown = shown[:77] + "..."
                self.add(
                    TYPE_MISMATCH,
                    f"'{shown}' compares {left} with {right} values: cast one side explicitly",
                    node.find(exp.Identifier),
                )


def _identifier() -> Any:
    from sqlglot import exp  # sqlglot takes ~0.2 s to import: loaded only when SQL is analysed

    return exp.Identifier
