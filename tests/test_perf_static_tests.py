"""Built-in generic tests compiled without Jinja give exactly the SQL Jinja renders, and step aside otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLE_PROJECT

from modelkit.api.session import Session
from modelkit.render.compiler import Compiler

MODELS = {
    "models/a.sql": "select 1 as id, 'x' as status, 2 as \"Odd Col\"",
    "models/b.sql": "select 1 as id",
    "models/eph.sql": "{{ config(materialized='ephemeral') }}select 1 as id",
    "models/sources.yml": "sources:\n  - name: raw\n    tables: [{name: events}]\n",
}

# (case, YAML test list under column `id` of model a (or `columns:` / model-level), compiled statically?)
CASES = [
    ("not_null", "[not_null]", True),
    ("unique", "[unique]", True),
    ("unique_where", "[{unique: {config: {where: 'id > 0'}}}]", True),
    ("accepted_values", """[{accepted_values: {values: ['x', "o'k", 3, 1.5, true]}}]""", True),
    ("accepted_values_unquoted", "[{accepted_values: {values: [1, 2], quote: false}}]", True),
    ("accepted_values_arguments", "[{accepted_values: {arguments: {values: ['a']}, config: {severity: warn}}}]", True),
    ("relationships_ref", "[{relationships: {to: ref('b'), field: id}}]", True),
    ("relationships_jinja_ref", "[{relationships: {to: \"{{ ref('b') }}\", field: id}}]", True),
    ("relationships_source", """[{relationships: {to: "source('raw', 'events')", field: id}}]""", True),
    ("relationships_where", "[{relationships: {to: ref('b'), field: id, config: {where: 'id < 9'}}}]", True),
    ("values_from_var", "[{accepted_values: {values: \"{{ var('ok', [1]) }}\"}}]", False),
    ("value_is_a_call", "[{accepted_values: {values: [\"env_var('HOME', 'h')\"]}}]", False),
    ("where_with_jinja", '[{unique: {config: {where: "id > {{ 1 }}"}}}]', True),  # configs render at parse
    ("to_ephemeral", "[{relationships: {to: ref('eph'), field: id}}]", False),
]


def _project(project_factory, tests: str, extra: dict[str, str] | None = None, column: str = "id") -> Path:
    files = dict(MODELS)
    files["models/schema.yml"] = (
        f"models:\n  - name: a\n    columns:\n      - name: {column}\n"
        + ("        quote: true\n" if " " in column else "")
        + f"        data_tests: {tests}\n"
    )
    files.update(extra or {})
    return project_factory(files)


def _compiled_tests(root: Path, static: bool) -> tuple[dict[str, str], int]:
    """(compiled SQL of every data test, how many were built without Jinja)."""
    with Session(root) as session:
        compiler = Compiler(session.renderer, session.manifest, static=static)
        tests = [n for n in session.manifest.nodes.values() if n.resource_type == "test"]
        from modelkit.render.testsql import static_test_sql

        usable: dict[str, bool] = {}
        fast = sum(static_test_sql(n, session.renderer, usable) is not None for n in tests) if static else 0
        return {n.unique_id: compiler.compile(n) for n in tests}, fast


@pytest.mark.parametrize(("case", "tests", "static"), CASES, ids=[c[0] for c in CASES])
def test_static_sql_equals_jinja(project_factory, case, tests, static) -> None:
    root = _project(project_factory, tests)
    fast, used = _compiled_tests(root, static=True)
    slow, _ = _compiled_tests(root, static=False)
    assert fast and fast == slow
    assert used == (len(fast) if static else 0)


def test_quoted_column(project_factory) -> None:
    root = _project(project_factory, "[not_null, unique, {accepted_values: {values: [2]}}]", column="Odd Col")
    fast, used = _compiled_tests(root, static=True)
    slow, _ = _compiled_tests(root, static=False)
    assert fast == slow and used == 3
    assert all('"Odd Col"' in sql for sql in fast.values())


OVERRIDES = [
    ("test_block", {"tests/generic/nn.sql": "{% test not_null(model, column_name) %}select 1 as mine{% endtest %}"}),
    (
        "default_macro",
        {"macros/t.sql": "{% macro default__test_not_null(model, column_name) %}select 2 as mine{% endmacro %}"},
    ),
    (
        "adapter_macro",
        {"macros/t.sql": "{% macro duckdb__test_not_null(model, column_name) %}select 3 as mine{% endmacro %}"},
    ),
    (
        "where_subquery",
        {"macros/w.sql": "{% macro get_where_subquery(relation) %}{{ return('(select 4 as mine) s') }}{% endmacro %}"},
    ),
    (
        "dispatch_config",
        {"modelkit.yml": "name: demo\ndispatch:\n  - macro_namespace: dbt\n    search_order: [demo, dbt]\n"},
    ),
]


@pytest.mark.parametrize(("case", "extra"), OVERRIDES, ids=[o[0] for o in OVERRIDES])
def test_overrides_are_rendered_with_jinja(project_factory, case, extra) -> None:
    root = _project(project_factory, "[not_null]", extra)
    fast, used = _compiled_tests(root, static=True)
    slow, _ = _compiled_tests(root, static=False)
    assert fast == slow and used == 0
    if case != "dispatch_config":
        assert "mine" in next(iter(fast.values()))


def test_sample_project_tests_compile_the_same() -> None:
    fast, used = _compiled_tests(SAMPLE_PROJECT, static=True)
    slow, _ = _compiled_tests(SAMPLE_PROJECT, static=False)
    assert fast == slow and used > 5
