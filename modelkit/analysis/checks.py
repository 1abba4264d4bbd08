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

from typing import Any

from modelkit.analysis.coltypes import INCOMPATIBLE, expression_type, operand_family
from modelkit.analysis.findings import (
    AMBIGUOUS_COLUMN,
    SET_ARITY,
    TYPE_MISMATCH,
    UNDECLARED_COLUMN,
    UNKNOWN_COLUMN,
    UNRESOLVED_COLUMN,
    NotAnalysed,
    QueryCheck,
    first_line,
)
from modelkit.analysis.loading import expressions, load_sqlglot
from modelkit.analysis.relations import Key, Relations
from modelkit.analysis.scopes import ScopeReader
from modelkit.analysis.shapes import Shape
from modelkit.core.text import did_you_mean

# Names an engine answers without a relation having such a column.
PSEUDO_COLUMNS = frozenset(
    {
        "rowid", "oid", "ctid", "xmin", "xmax", "cmin", "cmax", "tableoid",
        "current_date", "current_time", "current_timestamp", "current_user", "current_role",
        "current_schema", "current_catalog", "current_database", "session_user", "user",
        "localtime", "localtimestamp", "sysdate", "systimestamp",
    }
)  # fmt: skip
COMPARISONS = ("EQ", "NEQ", "GT", "GTE", "LT", "LTE")


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
    lowered = sql.lower()
    checker.comprehensions = " for " in lowered  # list comprehensions bind names: look for them only then
    checker.patterns = "columns(" in lowered  # COLUMNS(...) picks columns by pattern
    return checker.run(root)


class Checker(ScopeReader):
    """Every column of every scope of a query, checked once; then set operations and comparisons."""

    comprehensions = True  # whether the query may have list comprehensions

    def __init__(self, relations: Relations, self_key: Key | None, parents: frozenset[str]) -> None:
        super().__init__(relations, self_key, parents)
        self._aliases: dict[int, set[str]] = {}  # id(select) -> its output aliases, lower-cased

    # -- the whole query ------------------------------------------------------------------------
    def run(self, root: Any) -> QueryCheck:
        exp = expressions()

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
        exp = expressions()

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
        if name.lower() in PSEUDO_COLUMNS or (self.comprehensions and self.bound(column)):
            return None
        candidates: list[str] = []
        declared = False
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
                    declared = declared or shape.declared
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
            UNDECLARED_COLUMN if declared else UNKNOWN_COLUMN,
            f"Column '{name}' is not {'among the declared columns' if declared else 'a column'} of {read}."
            + did_you_mean(name, sorted(set(candidates))),
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
                UNDECLARED_COLUMN if shape.declared else UNKNOWN_COLUMN,
                f"Column '{name}' is not {'among the declared columns' if shape.declared else 'a column'} of {shown}"
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
        exp = expressions()

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

    def is_alias(self, scope: Any, name: str) -> bool:
        """Whether ``name`` is an output alias of the scope's select (engines accept those in WHERE, GROUP
        BY, ORDER BY and later in the select list)."""
        select = scope.expression
        aliases = self._aliases.get(id(select))
        if aliases is None:
            exp = expressions()
            aliases = self._aliases[id(select)] = (
                {e.alias.lower() for e in select.expressions if isinstance(e, exp.Alias)}
                if isinstance(select, exp.Select)
                else set()
            )
        return name.lower() in aliases

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
        exp = expressions()

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
    exp = expressions()

    return exp.Identifier
