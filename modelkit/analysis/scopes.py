"""The relations and scopes of one query: what columns each source has, and what the query outputs.

:class:`ScopeReader` looks up every table of a query among the project's relations (reporting the
ones no node builds or declares, and project relations read without ``ref()``), and works out the
output columns of each scope (a select's named projections, ``*`` expanded from its sources, a set
operation's left side), which :class:`modelkit.analysis.checks.Checker` checks names against.
"""

from __future__ import annotations

from typing import Any

from modelkit.analysis.findings import STAR_UNKNOWN_SHAPE, UNKNOWN_RELATION, UNREFERENCED_RELATION, Finding
from modelkit.analysis.loading import expressions
from modelkit.analysis.relations import Key, Relations
from modelkit.analysis.shapes import UNKNOWN, Shape

SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "system", "temp"})
SYSTEM_PREFIXES = ("pg_", "duckdb_", "sqlite_")


class ScopeReader:
    patterns = True  # whether the query may use COLUMNS(...)

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
        exp = expressions()

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
        exp = expressions()

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
        exp = expressions()

        expression = scope.expression
        renamed = list(scope.outer_columns or [])
        if isinstance(expression, exp.SetOperation):
            if expression.args.get("by_name") or not scope.set_operation_scopes:
                return UNKNOWN
            left = self.output(scope.set_operation_scopes[0])
            shape = Shape(left.names, None, left.complete, left.declared)
        elif isinstance(expression, exp.Select):
            shape = self.projections(scope, expression)
        else:  # VALUES, UNNEST, LATERAL: the alias's columns, if given
            return Shape(renamed, complete=False) if renamed else UNKNOWN
        if renamed:
            if len(renamed) > len(shape.names) and shape.complete:
                return Shape(renamed, complete=False)
            names = renamed + list(shape.names[len(renamed) :])
            return Shape(names, shape.types[: len(names)], shape.complete, shape.declared)
        return shape

    def projections(self, scope: Any, select: Any) -> Shape:
        exp = expressions()

        names: list[str] = []
        types: list[str | None] = []
        complete = not select.args.get("laterals")
        declared = False  # some columns come through `*` from a source's declared columns
        for projection in select.expressions:
            star = projection if isinstance(projection, exp.Star) else None
            if isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                star = projection.this
                sources = [(*self.source_shape(scope, projection.table), projection)]
            elif star is not None:
                sources = [(*self.source_shape(scope, alias), projection) for alias in self.from_order(select)]
            if star is not None:
                using = self.using_columns(select) if isinstance(projection, exp.Star) else None
                complete = self.expand(star, sources, names, types, using) and complete
                declared = declared or any(shape.declared for shape, _, _ in sources)
                continue
            if isinstance(projection, exp.Alias) or isinstance(projection, exp.Column):
                name = projection.alias_or_name
                if self.patterns and isinstance(projection, exp.Alias) and projection.find(exp.Columns) is not None:
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
        return Shape(names, types, complete, declared)

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
