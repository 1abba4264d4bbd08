"""The Jinja context: each function compiled on a real project, input -> expected SQL."""

from __future__ import annotations

import pytest

from modelkit import Project
from modelkit.core.errors import CompilationError, ProjectError

BASE = {
    "models/upstream.sql": "select 1 as id",
    "models/sources.yml": """
        version: 2
        sources:
          - name: raw
            schema: landing
            tables:
              - name: events
              - name: users
                identifier: users_v2
                database: other
    """,
    "macros/helpers.sql": """
        {% macro double(x) %}({{ x }} * 2){% endmacro %}
        {% macro quadruple(x) %}{{ double(double(x)) }}{% endmacro %}
        {% macro answer() %}{{ return(42) }}{% endmacro %}
        {% macro pick(items) %}{{ return(items | first) }}{% endmacro %}
    """,
}

CASES = [
    ("ref", "select * from {{ ref('upstream') }}", 'select * from "demo"."main"."upstream"'),
    ("ref_two_args", "select * from {{ ref('demo', 'upstream') }}", 'select * from "demo"."main"."upstream"'),
    ("source", "select * from {{ source('raw', 'events') }}", 'select * from "demo"."landing"."events"'),
    ("source_identifier", "select * from {{ source('raw', 'users') }}", 'select * from "other"."landing"."users_v2"'),
    ("this", "select '{{ this }}' as t", 'select \'"demo"."main"."probe"\' as t'),
    ("this_parts", "select '{{ this.schema }}.{{ this.identifier }}'", "select 'main.probe'"),
    ("target", "select '{{ target.name }}/{{ target.schema }}/{{ target.type }}'", "select 'dev/main/duckdb'"),
    ("var_project", "select {{ var('threshold') }}", "select 10"),
    ("var_default", "select {{ var('missing_one', 7) }}", "select 7"),
    ("var_scoped", "select '{{ var('scoped') }}'", "select 'project'"),
    ("macro", "select {{ double(3) }}", "select (3 * 2)"),
    ("macro_calls_macro", "select {{ quadruple(1) }}", "select ((1 * 2) * 2)"),
    ("macro_return", "select {{ answer() + 1 }}", "select 43"),
    ("macro_return_value", "select '{{ pick(['a', 'b']) }}'", "select 'a'"),
    ("namespace", "select {{ demo.double(5) }}", "select (5 * 2)"),
    ("is_incremental", "select {{ is_incremental() }}", "select False"),
    ("execute", "select {{ execute }}", "select True"),
    ("run_query", "{% set r = run_query('select 40 + 2 as n') %}select {{ r.columns[0].values()[0] }}", "select 42"),
    ("run_query_rows", "{% set r = run_query('select 1 as a, 2 as b') %}select {{ r.rows[0]['b'] }}", "select 2"),
    (
        "statement",
        "{% call statement('s', fetch_result=True) %}select 5 as v{% endcall %}select {{ load_result('s')['data'][0][0] }}",
        "select 5",
    ),
    ("config_get", "{{ config(materialized='table', my_key='x') }}select '{{ config.get('my_key') }}'", "select 'x'"),
    ("dispatch", "select {{ adapter.dispatch('current_timestamp', 'dbt')() }}", "select now()"),
    ("builtin_crossdb", "select {{ dbt.type_string() }}", "select TEXT"),
    ("undefined_renders_empty", "select 1{{ not_defined }}", "select 1"),
    ("fromjson", "select {{ fromjson('{\"a\": 3}')['a'] }}", "select 3"),
    ("modules", "select '{{ modules.datetime.date(2024, 1, 2).isoformat() }}'", "select '2024-01-02'"),
    ("log", "{{ log('hello', info=True) }}select 1", "select 1"),
]


@pytest.mark.parametrize(("case", "template", "expected"), CASES, ids=[c[0] for c in CASES])
def test_context(project_factory, case: str, template: str, expected: str) -> None:
    files = {**BASE, "models/probe.sql": template}
    root = project_factory(files)
    (root / "modelkit.yml").write_text(
        "name: demo\nvars:\n  threshold: 10\n  scoped: global\n  demo:\n    scoped: project\n"
    )
    compiled = Project(root).compile(select=["probe"])
    assert compiled["model.demo.probe"].strip() == expected


def test_cli_vars_override_project_vars(project_factory) -> None:
    root = project_factory({"models/probe.sql": "select {{ var('threshold') }} as t"})
    (root / "modelkit.yml").write_text("name: demo\nvars:\n  threshold: 10\n")
    for text in ('{"threshold": 99}', "{threshold: 99}", "threshold: 99"):
        compiled = Project(root, vars=text).compile(select=["probe"])
        assert compiled["model.demo.probe"] == "select 99 as t", text


def test_missing_var_is_a_compilation_error_naming_the_model(project_factory) -> None:
    root = project_factory({"models/probe.sql": "select {{ var('nope') }}"})
    with pytest.raises(CompilationError) as err:
        Project(root).compile(select=["probe"])
    assert "Required var 'nope' not found" in str(err.value)
    assert "models/probe.sql" in str(err.value)


def test_env_var(project_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project_factory(
        {
            "models/probe.sql": "select '{{ env_var('MK_TEST_COLOR', 'blue') }}' as c, '{{ env_var('MK_TEST_SIZE') }}' as s"
        }
    )
    monkeypatch.setenv("MK_TEST_SIZE", "xl")
    assert Project(root).compile()["model.demo.probe"] == "select 'blue' as c, 'xl' as s"
    monkeypatch.delenv("MK_TEST_SIZE")
    with pytest.raises(ProjectError, match="Env var required but not provided: 'MK_TEST_SIZE'"):
        Project(root).compile()


def test_raise_compiler_error_names_file_and_line(project_factory) -> None:
    root = project_factory(
        {
            "models/probe.sql": "select 1\n{% if true %}\n{{ exceptions.raise_compiler_error('custom failure') }}\n{% endif %}"
        }
    )
    with pytest.raises(CompilationError) as err:
        Project(root).compile()
    assert err.value.message == "custom failure"
    assert err.value.path == "models/probe.sql" and err.value.line == 3


def test_error_inside_macro_points_at_macro_file(project_factory) -> None:
    root = project_factory(
        {
            "macros/bad.sql": "{% macro bad() %}\n{{ none_such.attr }}\n{% endmacro %}",
            "models/probe.sql": "select {{ bad() }}",
        }
    )
    with pytest.raises(CompilationError) as err:
        Project(root).compile()
    assert err.value.path == "macros/bad.sql" and err.value.line == 2
    assert "'none_such' is undefined" in err.value.message


def test_generate_schema_and_alias_overrides(project_factory) -> None:
    root = project_factory(
        {
            "macros/naming.sql": """
                {% macro generate_schema_name(custom_schema_name, node) -%}
                    {{ custom_schema_name or target.schema }}
                {%- endmacro %}
                {% macro generate_alias_name(custom_alias_name, node) -%}
                    {{ 'tbl_' ~ node.name }}
                {%- endmacro %}
            """,
            "models/probe.sql": "{{ config(schema='analytics') }}select 1 as id",
            "models/plain.sql": "select * from {{ ref('probe') }}",
        }
    )
    compiled = Project(root).compile()
    assert compiled["model.demo.plain"] == 'select * from "demo"."analytics"."tbl_probe"'
    project = Project(root)
    assert project.run().success


def test_default_custom_schema_is_prefixed_with_target_schema(project_factory) -> None:
    root = project_factory({"models/probe.sql": "{{ config(schema='marts', alias='renamed') }}select 1 as id"})
    result = Project(root).run()
    assert result.success
    assert result.results[0].relation_name == '"demo"."main_marts"."renamed"'


def test_versioned_models(project_factory) -> None:
    root = project_factory(
        {
            "models/dim_v1.sql": "select 1 as id",
            "models/dim_v2.sql": "select 2 as id, 'new' as extra",
            "models/dim.yml": "models:\n  - name: dim\n    latest_version: 2\n    versions:\n      - v: 1\n      - v: 2\n",
            "models/uses.sql": "select (select id from {{ ref('dim') }}) as latest, (select id from {{ ref('dim', v=1) }}) as old, (select id from {{ ref('dim', version=2) }}) as two",
        }
    )
    result = Project(root).run()
    assert result.success, [r.message for r in result.results]
    assert {r.unique_id for r in result.results} >= {"model.demo.dim.v1", "model.demo.dim.v2"}
    compiled = Project(root).compile(select=["uses"])["model.demo.uses"]
    assert '"demo"."main"."dim_v2") as latest' in compiled and '"demo"."main"."dim_v1") as old' in compiled
    from conftest import embedded_db, query

    assert query(embedded_db(root), "select latest, old, two from uses") == [(2, 1, 2)]


def test_macros_of_installed_packages(project_factory) -> None:
    root = project_factory(
        {
            "dbt_packages/my_utils/dbt_project.yml": "name: my_utils\nmacro-paths: ['macros']\n",
            "dbt_packages/my_utils/macros/utils.sql": """
                {% macro double(x) %}({{ x }} * 2){% endmacro %}
                {% macro greet() %}{{ return(adapter.dispatch('greet', 'my_utils')()) }}{% endmacro %}
                {% macro default__greet() %}'hello'{% endmacro %}
                {% macro twice(x) %}{{ my_utils.double(x) }} + {{ double(x) }}{% endmacro %}
            """,
            "dbt_packages/not_a_package/readme.txt": "nothing here",
            "models/probe.sql": "select {{ my_utils.double(3) }} as d, {{ my_utils.greet() }} as g, {{ my_utils.twice(1) }} as t",
        }
    )
    compiled = Project(root).compile(select=["probe"])["model.demo.probe"]
    assert compiled == "select (3 * 2) as d, 'hello' as g, (1 * 2) + (1 * 2) as t"
    manifest = Project(root).parse()
    assert "macro.my_utils.double" in manifest.macros
    assert manifest.macros["macro.my_utils.double"].original_file_path == "macros/utils.sql"  # in its package
    # the root project overrides a package's dispatched implementation
    (root / "macros").mkdir()
    (root / "macros" / "greet.sql").write_text("{% macro default__greet() %}'hi from the project'{% endmacro %}")
    compiled = Project(root).compile(select=["probe"])["model.demo.probe"]
    assert "'hi from the project' as g" in compiled
