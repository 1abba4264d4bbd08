"""Unit tests: a model's SQL run on given input rows, compared with expected rows.

Each ``given`` input (``ref('x')``, ``source('s', 't')`` or ``this``) becomes a
CTE ``__dbt__cte__<name>`` of literal rows cast to the input relation's column
types, and the model is rendered with those CTEs in place of the real
relations: nothing is read from or written to the real tables. The rows are
compared as multisets on the columns of the first expected row.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelkit.adapters.base import ColumnInfo
from modelkit.analysis.loading import load_sqlglot
from modelkit.analysis.relations import project_relations
from modelkit.analysis.shapes import Shape, infer_type, spelled
from modelkit.analysis.static import known_shapes
from modelkit.core import fsio
from modelkit.core.errors import CompilationError, DatabaseError
from modelkit.core.relation import Relation
from modelkit.core.results import NodeResult, display_path, now
from modelkit.graph.resolve import ref_args
from modelkit.parse.unittests import parse_input
from modelkit.render.compiler import inject_ctes
from modelkit.testing.datatests import timing
from modelkit.testing.unitdata import diff_table, fixture_rows, load_fixture, multiset_equal

if TYPE_CHECKING:
    from modelkit.core.manifest import Node, UnitTestNode
    from modelkit.execute.context import ExecutionContext
    from modelkit.execute.runner import Runner
    from modelkit.execute.runplan import RunPlan


def invalid_column(column: Any, fixture_name: str, accepted: list[str]) -> str:
    """dbt's format_row error for a fixture column its relation does not have."""
    return (
        f"Invalid column name: '{column}' in unit test fixture for {fixture_name}.\n"
        f"Accepted columns for {fixture_name} are: {accepted}"
    )


def cte_name(key: tuple[str, ...], model_name: str) -> str:
    if key[0] == "this":
        return f"__dbt__cte__{model_name}__this"
    return "__dbt__cte__" + "_".join(key[1:])


# -- compiling ----------------------------------------------------------------------------
class UnitTestCompiler:
    """Renders the tested model with its inputs replaced by fixture CTEs."""

    def __init__(self, context: ExecutionContext, test: UnitTestNode) -> None:
        self.context = context
        self.test = test
        self.model: Node = context.manifest.nodes[test.tested_node]
        self.adapter = context.adapter
        self.fixtures: dict[str, list[tuple[str, str]]] = {}  # CTE name -> columns and their engine types

    def _input_relation(self, key: tuple[str, ...]) -> tuple[Relation | None, Node | None]:
        resolver = self.context.renderer.resolver
        assert resolver is not None
        if key[0] == "this":
            return self.model.relation, self.model
        if key[0] == "source":
            found = resolver.find_source(key[1], key[2])
            return (found.relation if found else None), None
        node = resolver.find_node(key[1])
        if node is None or node.is_ephemeral:
            return None, node
        return node.relation, node

    def _columns(self, key: tuple[str, ...], label: str, rows: Sequence[Mapping[str, Any]] = ()) -> list[ColumnInfo]:
        relation, node = self._input_relation(key)
        if relation is not None and self.adapter.get_relation(relation.database, relation.schema, relation.identifier):
            return self.adapter.get_columns(relation)
        if node is not None and node.resource_type == "model" and not node.is_ephemeral:
            try:  # not built yet: the columns its query would produce
                sql = self.context.compiler.compile(node)
                return self.adapter.describe_query(self.adapter.sql.select_from(sql))
            except (CompilationError, DatabaseError):
                pass
        static = self._static_columns(key, node, rows)
        if static is not None:
            return static
        shown = relation.render() if relation is not None else label
        hint = "give its rows with `format: sql`" if node is not None and node.is_ephemeral else "build it first"
        raise CompilationError(
            f"Not able to get columns for unit test '{self.test.name}' from relation {shown} "
            f"because the relation doesn't exist ({hint})"
        )

    def _static_columns(
        self, key: tuple[str, ...], node: Node | None, rows: Sequence[Mapping[str, Any]]
    ) -> list[ColumnInfo] | None:
        """Never built (nor what it reads): the columns known before anything runs (seeds' CSV headers,
        sources' and contracts' columns, models' SQL), typed as declared, else as the fixture's values."""
        context = self.context
        if key[0] == "source":
            found = context.renderer.resolver.find_source(key[1], key[2]) if context.renderer.resolver else None
            uid = found.unique_id if found is not None else None
        else:
            uid = node.unique_id if node is not None else None
        if uid is None:
            return None
        shape = self._shapes(uid).get(uid)
        if shape is None or not shape.known:
            return None
        names = list(shape.names)
        types = dict(zip((n.lower() for n in names), shape.types))
        if not shape.complete:  # more columns than are known: the fixture's are taken as they are
            names += [str(c) for row in rows for c in row if str(c).lower() not in types and str(c) not in names]
        dialect = context.target.type
        return [ColumnInfo(name, spelled(types.get(name.lower()) or value_type(rows, name), dialect)) for name in names]

    def _shapes(self, uid: str) -> dict[str, Shape]:
        context = self.context
        target = context.target
        relations = project_relations(
            context.manifest, target.type, target.database or "", target.schema or "", context.project.root
        )
        compiler = context.compiler

        def sql_of(node: Node) -> str | None:
            return compiler.body(node) if node.is_ephemeral else compiler.compile(node)

        return known_shapes(context.manifest, relations, [uid], context.graph.levels, sql_of, root=context.project.root)

    def fixture_sql(self, spec: Mapping[str, Any], key: tuple[str, ...], label: str) -> str:
        fmt = spec["format"]
        if spec.get("fixture") and spec.get("rows") in (None, [], ""):
            text = load_fixture(self.context.project, str(spec["fixture"]), fmt)
        else:
            text = spec.get("rows")
        if fmt == "sql":  # written in the project's SQL dialect, as the model is
            return self.context.compiler.translate(self.model, str(text), extra={})
        rows = fixture_rows(text, fmt)
        columns = self._columns(key, label, rows)
        by_lower = {c.name.lower(): c for c in columns}
        fixture_name = f"'{self.model.name if key == ('this',) else key[-1]}'"  # the input node's name, as dbt's
        for row in rows:
            for col in row:
                if str(col).lower() not in by_lower:
                    raise CompilationError(invalid_column(col, fixture_name, [c.name for c in columns]))
        typed = [(c.name, c.data_type) for c in columns]
        self.fixtures[cte_name(key, self.model.name)] = typed
        return self.adapter.sql.typed_rows(rows, typed)

    def compile(self) -> str:
        test, model = self.test, self.model
        inputs: dict[tuple[str, ...], str] = {}
        ctes: list[tuple[str, str]] = []
        for spec in test.given:
            key = parse_input(spec["input"])
            assert key is not None
            name = cte_name(key, model.name)
            inputs[key] = name
            ctes.append((name, f"-- Fixture for {spec['input']}\n" + self.fixture_sql(spec, key, spec["input"])))
        sql = self.context.compiler.translate(self.model, self._render(inputs), extra=self.fixtures)
        return inject_ctes(sql, ctes)

    def _render(self, inputs: Mapping[tuple[str, ...], str]) -> str:
        renderer = self.context.renderer
        test, model = self.test, self.model
        ctx = renderer.context(model, execute=True, path=model.original_file_path)
        overrides = test.overrides or {}

        def missing(what: str) -> CompilationError:
            return CompilationError(
                f"Unit test '{test.name}' gives no rows for {what}, which model '{model.name}' reads. "
                "Add it under `given:` (with `rows: []` for an empty input)."
            )

        def ref(*args: Any, **kwargs: Any) -> Relation:
            name = ref_args(args, kwargs)[0]
            if ("ref", name) not in inputs:
                raise missing(f"ref('{name}')")
            return Relation(None, None, inputs[("ref", name)], type="cte")

        def source(source_name: str, table_name: str) -> Relation:
            if ("source", source_name, table_name) not in inputs:
                raise missing(f"source('{source_name}', '{table_name}')")
            return Relation(None, None, inputs[("source", source_name, table_name)], type="cte")

        real_var, real_env = ctx["var"], ctx["env_var"]
        var_overrides = dict(overrides.get("vars") or {})
        env_overrides = dict(overrides.get("env_vars") or {})

        def var(name: str, *default: Any) -> Any:
            return var_overrides[name] if name in var_overrides else real_var(name, *default)

        var.has_var = lambda name: name in var_overrides or real_var.has_var(name)  # type: ignore[attr-defined]

        def env_var(name: str, *default: Any) -> Any:
            return str(env_overrides[name]) if name in env_overrides else real_env(name, *default)

        ctx.update(ref=ref, source=source, var=var, env_var=env_var)
        ctx["builtins"] = {**ctx["builtins"], "ref": ref, "source": source}
        if ("this",) in inputs:
            ctx["this"] = Relation(None, None, inputs[("this",)], type="cte")
        for macro, value in (overrides.get("macros") or {}).items():
            package, _, name = str(macro).rpartition(".")
            if package:  # `package.macro`: wherever it is called through its package's name
                ctx.overrides[(package, name)] = _constant(value)
            else:
                ctx[name] = _constant(value)
        label = f"unit_test {test.name}"
        return renderer.render(model.raw_code, model.original_file_path, ctx, node_label=label)


def value_type(rows: Sequence[Mapping[str, Any]], column: str) -> str:
    """A type for a column whose type is not known, from the fixture's values (CSV text as a seed's).

    >>> value_type([{"a": 1}, {"a": 2}], "a"), value_type([{"a": "2024-01-01"}], "A"), value_type([{"b": 1}], "a")
    ('BIGINT', 'DATE', 'VARCHAR')
    """
    values = [v for row in rows for k, v in row.items() if str(k).lower() == column.lower() and v is not None]
    if values and all(isinstance(v, bool) for v in values):
        return "BOOLEAN"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "BIGINT"
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "DOUBLE"
    if values and all(isinstance(v, datetime.datetime) for v in values):
        return "TIMESTAMP"
    if values and all(isinstance(v, datetime.date) for v in values):
        return "DATE"
    return infer_type(str(v) for v in values)


def _constant(value: Any) -> Any:
    def macro(*args: Any, **kwargs: Any) -> Any:
        return value

    return macro


# -- running ------------------------------------------------------------------------------
class UnitTestExecutor:
    """Runs unit tests (the runner's executor for ``unit_test`` nodes)."""

    def prepare(self, context: ExecutionContext, plan: RunPlan) -> None:
        if any(node.resource_type == "unit_test" for node in plan.nodes.values()):
            load_sqlglot()  # here, before the threads: inputs never built are read with sqlglot

    def execute(self, runner: Runner, node: Node, result: NodeResult) -> None:
        execute_unit_test(runner.context, node, result)


def execute_unit_test(context: ExecutionContext, node: Node, result: NodeResult) -> None:
    """Compile and run one unit test; fills ``result`` (pass, or fail with a diff)."""
    test: UnitTestNode = node  # type: ignore[assignment]
    adapter = context.adapter
    t0 = now()
    sql = UnitTestCompiler(context, test).compile()
    rel = f"{test.package_name}/{test.compiled_file_path or test.path}"
    path = fsio.inside(context.project.target_dir / "compiled", rel, f"unit test {test.name}")
    fsio.atomic_write(path, sql)
    result.compiled_code = sql
    result.compiled_path = display_path(path, context.project.root)
    t1 = now()
    result.timing.append(timing("compile", t0, t1))
    actual_columns = adapter.describe_query(adapter.sql.select_from(sql))
    types = {c.name.lower(): (c.name, c.data_type) for c in actual_columns}
    expect = test.expect
    if expect.get("format") == "sql":
        text = expect.get("rows") or load_fixture(context.project, str(expect.get("fixture")), "sql")
        expected_sql = context.compiler.translate(context.manifest.nodes[test.tested_node], str(text), extra={})
        names = [c.name for c in adapter.describe_query(adapter.sql.select_from(expected_sql))]
    else:
        text = expect.get("rows")
        if expect.get("fixture") and not text:
            text = load_fixture(context.project, str(expect["fixture"]), expect.get("format", "dict"))
        rows = fixture_rows(text, expect.get("format", "dict"))
        names = [str(k) for k in rows[0]] if rows else [c.name for c in actual_columns]
        for row in rows:
            for col in row:
                if str(col).lower() not in types:
                    raise CompilationError(invalid_column(col, "expected output", [c.name for c in actual_columns]))
        expected_sql = adapter.sql.typed_rows(rows, [types[n.lower()] for n in names])
    columns = [types[n.lower()][0] if n.lower() in types else n for n in names]
    actual = adapter.execute(adapter.sql.select_from(sql, columns, alias="actual"), fetch=True).rows
    expected = adapter.execute(adapter.sql.select_from(expected_sql, columns, alias="expected"), fetch=True).rows
    result.adapter_response = {"_message": "OK"}
    if multiset_equal(expected, actual):
        result.status, result.failures, result.message = "pass", 0, None
    else:
        result.status, result.failures = "fail", 1
        diff = diff_table(columns, expected, actual)
        result.message = "actual differs from expected:\n\n" + "\n".join("  " + line for line in diff.splitlines())
    result.timing.append(timing("execute", t1, now()))
