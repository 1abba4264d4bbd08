"""Unit tests: a model's SQL run on given input rows, compared with expected rows.

Each ``given`` input (``ref('x')``, ``source('s', 't')`` or ``this``) becomes a
CTE ``__dbt__cte__<name>`` of literal rows cast to the input relation's column
types, and the model is rendered with those CTEs in place of the real
relations: nothing is read from or written to the real tables. The rows are
compared as multisets on the columns of the first expected row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelkit.core.config import merge_into, resolve
from modelkit.core.errors import CompilationError, DatabaseError, ProjectError
from modelkit.core.manifest import UnitTestNode
from modelkit.core.relation import Relation, quote
from modelkit.core.results import NodeResult, display_path, now
from modelkit.render.compiler import inject_ctes
from modelkit.render.context import _ref_args
from modelkit.testing.datatests import timing
from modelkit.testing.unitdata import diff_table, fixture_rows, literal, load_fixture, multiset_equal

if TYPE_CHECKING:
    from modelkit.adapters.base import ColumnInfo
    from modelkit.api.session import Session
    from modelkit.core.manifest import Node
    from modelkit.execute.runner import Runner
    from modelkit.parse.parser import Parser

FORMATS = ("dict", "csv", "sql")
_REF = re.compile(r"""^\s*ref\(\s*(['"])(?P<a>[^'"]+)\1\s*(?:,\s*(['"])(?P<b>[^'"]+)\3\s*)?(?:,[^)]*)?\)\s*$""")
_SOURCE = re.compile(r"""^\s*source\(\s*(['"])(?P<s>[^'"]+)\1\s*,\s*(['"])(?P<t>[^'"]+)\3\s*\)\s*$""")


def parse_input(text: Any) -> tuple[str, ...] | None:
    """``("ref", name)``, ``("source", source, table)`` or ``("this",)``; None if not understood."""
    if not isinstance(text, str):
        return None
    if text.strip() == "this":
        return ("this",)
    match = _REF.match(text)
    if match:
        return ("ref", match.group("b") or match.group("a"))
    match = _SOURCE.match(text)
    if match:
        return ("source", match.group("s"), match.group("t"))
    return None


def cte_name(key: tuple[str, ...], model_name: str) -> str:
    if key[0] == "this":
        return f"__dbt__cte__{model_name}__this"
    return "__dbt__cte__" + "_".join(key[1:])


# -- parsing ------------------------------------------------------------------------------
def _data_spec(entry: Any, what: str, at: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise ProjectError(f"{what} must be a mapping with `rows` (or `fixture`)", **at)
    fmt = str(entry.get("format") or "dict")
    if fmt not in FORMATS:
        raise ProjectError(f"{what} has format '{fmt}'; use one of {', '.join(FORMATS)}", **at)
    rows, fixture = entry.get("rows"), entry.get("fixture")
    if rows is None and fixture is None and fmt != "dict":
        raise ProjectError(f"{what} needs `rows` or a `fixture`", **at)
    if (
        rows is not None
        and fmt == "dict"
        and not (isinstance(rows, list) and all(isinstance(r, Mapping) for r in rows))
    ):
        raise ProjectError(f"{what}: `rows` must be a list of mappings (e.g. `- {{id: 1}}`)", **at)
    if rows is not None and fmt in ("csv", "sql") and not isinstance(rows, str):
        raise ProjectError(f"{what}: with format {fmt}, `rows` must be text", **at)
    return {"rows": rows if rows is not None or fixture else [], "format": fmt, "fixture": fixture}


def add_unit_tests(parser: Parser) -> None:
    """Add the ``unit_tests:`` entries of property files to the parser's manifest."""
    from modelkit.graph.resolve import did_you_mean
    from modelkit.parse.datatests import _fqn_dirs, _located

    manifest = parser.manifest
    project = parser.project
    models = {n.name: n for n in manifest.nodes.values() if n.resource_type == "model"}
    disabled = {n.name for ns in manifest.disabled.values() for n in ns if n.resource_type == "model"}
    refable = {n.name for n in manifest.nodes.values() if n.resource_type in ("model", "seed", "snapshot")}
    sources = {(s.source_name, s.name) for s in manifest.sources.values()}
    for path, entry in parser.schema.unit_tests:
        name, model_name = entry.get("name"), entry.get("model")
        if not name or not model_name:
            raise ProjectError("Every entry under `unit_tests:` needs a `name` and a `model`", path=path)
        name, model_name = str(name), str(model_name)
        where = f"Unit test '{name}'"
        at = _located(project.root, path, f"name: {name}")
        if model_name not in models:
            if model_name in disabled:
                continue
            raise ProjectError(
                f"{where} tests model '{model_name}', which does not exist." + did_you_mean(model_name, list(models)),
                **at,
            )
        given = []
        for item in entry.get("given") or []:
            if not isinstance(item, Mapping) or "input" not in item:
                raise ProjectError(f"{where}: every `given:` entry needs an `input` (e.g. ref('orders'))", **at)
            key = parse_input(item["input"])
            if key is None:
                raise ProjectError(
                    f"{where}: input {item['input']!r} is not ref('...'), source('...', '...') or this", **at
                )
            if key[0] == "ref" and key[1] not in refable:
                raise ProjectError(
                    f"{where}: input ref('{key[1]}') names no model, seed or snapshot."
                    + did_you_mean(key[1], sorted(refable)),
                    **at,
                )
            if key[0] == "source" and (key[1], key[2]) not in sources:
                raise ProjectError(f"{where}: input source('{key[1]}', '{key[2]}') is not a known source", **at)
            given.append({"input": str(item["input"]), **_data_spec(item, f"{where}, input {item['input']}", at)})
        expect = _data_spec(entry.get("expect"), f"{where}: `expect`", at)
        fqn = [project.name, *_fqn_dirs(path, parser), model_name, name]
        node = UnitTestNode(
            unique_id=f"unit_test.{project.name}.{model_name}.{name}",
            resource_type="unit_test",
            package_name=project.name,
            name=name,
            path=path.split("/", 1)[-1],
            original_file_path=path,
            fqn=fqn,
            raw_code="",
            checksum="",
            description=str(entry.get("description") or ""),
            database=parser.renderer.target.database,
            schema=parser.renderer.target.schema,
            alias=name,
            refs=[{"name": model_name, "package": None, "version": None}],
            model_name=model_name,
            given=given,
            expect=expect,
            overrides=dict(entry["overrides"]) if isinstance(entry.get("overrides"), Mapping) else None,
            compiled_file_path=f"{path}/models/{name}.sql",
        )
        config = resolve(project.unit_tests, fqn, {"enabled": True, "tags": [], "meta": {}})
        merge_into(config, dict(entry.get("config") or {}))
        node.config = config
        if not config.get("enabled", True):
            manifest.disabled.setdefault(node.unique_id, []).append(node)
            continue
        if node.unique_id in manifest.nodes:
            raise ProjectError(f"{where} of model '{model_name}' is defined twice", **at)
        manifest.nodes[node.unique_id] = node


# -- compiling ----------------------------------------------------------------------------
class UnitTestCompiler:
    """Renders the tested model with its inputs replaced by fixture CTEs."""

    def __init__(self, session: Session, test: UnitTestNode) -> None:
        self.session = session
        self.test = test
        self.model: Node = session.manifest.nodes[test.tested_node]
        self.adapter = session.adapter

    def _input_relation(self, key: tuple[str, ...]) -> tuple[Relation | None, Node | None]:
        resolver = self.session.renderer.resolver
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

    def _columns(self, key: tuple[str, ...], label: str) -> list[ColumnInfo]:
        relation, node = self._input_relation(key)
        if relation is not None and self.adapter.get_relation(relation.database, relation.schema, relation.identifier):
            return self.adapter.get_columns(relation)
        if node is not None and node.resource_type == "model" and not node.is_ephemeral:
            try:  # not built yet: the columns its query would produce
                sql = self.session.compiler.compile(node)
                return self.adapter.describe_query(f"select * from (\n{sql}\n) as t")
            except (CompilationError, DatabaseError):
                pass
        shown = relation.render() if relation is not None else label
        hint = "give its rows with `format: sql`" if node is not None and node.is_ephemeral else "build it first"
        raise CompilationError(
            f"Not able to get columns for unit test '{self.test.name}' from relation {shown} "
            f"because the relation doesn't exist ({hint})"
        )

    def fixture_sql(self, spec: Mapping[str, Any], key: tuple[str, ...], label: str) -> str:
        fmt = spec["format"]
        if spec.get("fixture") and spec.get("rows") in (None, [], ""):
            text = load_fixture(self.session.project, str(spec["fixture"]), fmt)
        else:
            text = spec.get("rows")
        if fmt == "sql":
            return str(text)
        rows = fixture_rows(text, fmt)
        columns = self._columns(key, label)
        by_lower = {c.name.lower(): c for c in columns}
        for row in rows:
            for col in row:
                if str(col).lower() not in by_lower:
                    raise CompilationError(
                        f"Invalid column name: '{col}' in unit test fixture for {label}.\n"
                        f"Accepted columns for {label} are: {[c.name for c in columns]}"
                    )
        return rows_sql(rows, [(c.name, c.data_type) for c in columns])

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
        sql = self._render(inputs)
        return inject_ctes(sql, ctes)

    def _render(self, inputs: Mapping[tuple[str, ...], str]) -> str:
        renderer = self.session.renderer
        test, model = self.test, self.model
        ctx = renderer.context(model, execute=True, path=model.original_file_path)
        overrides = test.overrides or {}

        def missing(what: str) -> CompilationError:
            return CompilationError(
                f"Unit test '{test.name}' gives no rows for {what}, which model '{model.name}' reads. "
                "Add it under `given:` (with `rows: []` for an empty input)."
            )

        def ref(*args: Any, **kwargs: Any) -> Relation:
            name = _ref_args(args, kwargs)[0]
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
            ctx[macro] = _constant(value)
        label = f"unit_test {test.name}"
        return renderer.render(model.raw_code, model.original_file_path, ctx, node_label=label)


def _constant(value: Any) -> Any:
    def macro(*args: Any, **kwargs: Any) -> Any:
        return value

    return macro


def rows_sql(rows: list[Mapping[str, Any]], columns: list[tuple[str, str]]) -> str:
    """Literal rows cast to ``columns`` (name, type), joined by ``union all``; NULL where unlisted."""
    if not rows:
        return "select " + ", ".join(f"cast(null as {t}) as {quote(n)}" for n, t in columns) + " where false"
    selects = []
    for row in rows:
        values = {str(k).lower(): v for k, v in row.items()}
        parts = [f"cast({literal(values.get(n.lower()))} as {t}) as {quote(n)}" for n, t in columns]
        selects.append("select " + ", ".join(parts))
    return "\nunion all\n".join(selects)


# -- running ------------------------------------------------------------------------------
def execute_unit_test(runner: Runner, node: Node, result: NodeResult) -> None:
    """Compile and run one unit test; fills ``result`` (pass, or fail with a diff)."""
    session = runner.session
    test: UnitTestNode = node  # type: ignore[assignment]
    adapter = session.adapter
    t0 = now()
    sql = UnitTestCompiler(session, test).compile()
    path = session.project.target_dir / "compiled" / test.package_name / (test.compiled_file_path or test.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sql, encoding="utf-8")
    result.compiled_code = sql
    result.compiled_path = display_path(path, session.project.root)
    t1 = now()
    result.timing.append(timing("compile", t0, t1))
    actual_columns = adapter.describe_query(f"select * from (\n{sql}\n) as t")
    types = {c.name.lower(): (c.name, c.data_type) for c in actual_columns}
    expect = test.expect
    if expect.get("format") == "sql":
        text = expect.get("rows") or load_fixture(session.project, str(expect.get("fixture")), "sql")
        expected_sql = str(text)
        names = [c.name for c in adapter.describe_query(f"select * from (\n{expected_sql}\n) as t")]
    else:
        text = expect.get("rows")
        if expect.get("fixture") and not text:
            text = load_fixture(session.project, str(expect["fixture"]), expect.get("format", "dict"))
        rows = fixture_rows(text, expect.get("format", "dict"))
        names = [str(k) for k in rows[0]] if rows else [c.name for c in actual_columns]
        unknown = [n for n in names if n.lower() not in types]
        if unknown:
            raise CompilationError(
                f"Unit test '{test.name}' expects column(s) {unknown}, but model '{test.model_name}' "
                f"returns only: {', '.join(c.name for c in actual_columns)}"
            )
        expected_sql = rows_sql(rows, [types[n.lower()] for n in names])
    columns = [types[n.lower()][0] if n.lower() in types else n for n in names]
    select = ", ".join(quote(c) for c in columns)
    actual = adapter.execute(f"select {select} from (\n{sql}\n) as actual", fetch=True).rows
    expected = adapter.execute(f"select {select} from (\n{expected_sql}\n) as expected", fetch=True).rows
    result.adapter_response = {"_message": "OK"}
    if multiset_equal(expected, actual):
        result.status, result.failures, result.message = "pass", 0, None
    else:
        result.status, result.failures = "fail", 1
        diff = diff_table(columns, expected, actual)
        result.message = "actual differs from expected:\n\n" + "\n".join("  " + line for line in diff.splitlines())
    result.timing.append(timing("execute", t1, now()))
