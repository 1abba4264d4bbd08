"""Materializations and incremental strategies written in Jinja by the project, as dbt runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import embedded_db, make_project, query, run_cli

SEED = {"seeds/people.csv": "id,name\n1,Ann\n2,Bob\n"}

# A materialization in dbt's style: hooks, a `main` statement, relations returned.
MY_TABLE = """
{% materialization my_table, adapter='duckdb' %}
  {%- set target = this.incorporate(type='table') -%}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {{ drop_relation_if_exists(load_cached_relation(target)) }}
  {% call statement('main') -%}
    {{ get_create_table_as_sql(False, target, sql) }}
  {%- endcall %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target]}) }}
{% endmaterialization %}
"""


def build(root: Path, *args: str) -> str:
    result = run_cli("build", *args, cwd=root)
    assert result.exit_code == 0, result.output
    return result.output


def test_project_materialization_builds_and_runs_hooks(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "demo",
        {
            **SEED,
            "macros/my_table.sql": MY_TABLE,
            "models/m.sql": """
                {{ config(materialized='my_table',
                          pre_hook="create table if not exists audit as select 0 as n",
                          post_hook="insert into audit select count(*) from {{ this }}") }}
                select * from {{ ref('people') }}
            """,
        },
    )
    output = build(root)
    build(root)  # again: the materialization replaces what it built
    db = embedded_db(root)
    assert query(db, "select id, name from m order by id") == [(1, "Ann"), (2, "Bob")]
    assert query(db, "select table_type from information_schema.tables where table_name = 'm'") == [("BASE TABLE",)]
    assert query(db, "select n from audit order by n") == [(0,), (2,), (2,)]
    assert "my_table model main.m" in output


def test_default_adapter_materialization_and_override_of_a_builtin(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "demo",
        {
            **SEED,
            "macros/table.sql": """
                {% materialization table, default %}
                  {%- set target = this.incorporate(type='table') -%}
                  {{ drop_relation_if_exists(load_cached_relation(target)) }}
                  {% call statement('main') -%}
                    {{ create_table_as(False, target, sql) }}
                  {%- endcall %}
                  {% call statement('marker') -%}
                    create or replace table table_marker as select '{{ this.name }}' as built
                  {%- endcall %}
                  {{ return({'relations': [target]}) }}
                {% endmaterialization %}
            """,
            "models/t.sql": "{{ config(materialized='table') }} select count(*) as n from {{ ref('people') }}",
        },
    )
    build(root)
    db = embedded_db(root)
    assert query(db, "select n from t") == [(2,)]
    assert query(db, "select built from table_marker") == [("t",)]


def test_materialization_must_return_relations(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "demo",
        {
            "macros/bad.sql": "{% materialization bad, default %}{% call statement('main') %}select 1{% endcall %}{% endmaterialization %}",
            "models/m.sql": "{{ config(materialized='bad') }} select 1 as x",
        },
    )
    result = run_cli("run", cwd=root)
    assert result.exit_code == 1
    assert "must return" in result.output and "macros/bad.sql" in result.output
    assert "Traceback" not in result.output


def test_unknown_materialization_is_a_node_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "demo", {"models/m.sql": "{{ config(materialized='nope') }} select 1 as x"})
    result = run_cli("run", cwd=root)
    assert result.exit_code == 1
    assert "No materialization 'nope' was found" in result.output


INSERT_ONLY = """
{% macro get_incremental_insert_only_sql(arg_dict) %}
  {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
  insert into {{ arg_dict['target_relation'] }} ({{ columns }})
  select {{ columns }} from {{ arg_dict['temp_relation'] }}
{% endmacro %}
"""


def incremental_project(tmp_path: Path, strategy: str) -> Path:
    return make_project(
        tmp_path / "demo",
        {
            **SEED,
            "macros/strategy.sql": INSERT_ONLY,
            "models/inc.sql": f"""
                {{{{ config(materialized='incremental', incremental_strategy='{strategy}', unique_key='id') }}}}
                select id, name from {{{{ ref('people') }}}}
            """,
        },
    )


def test_custom_incremental_strategy_from_a_project_macro(tmp_path: Path) -> None:
    root = incremental_project(tmp_path, "insert_only")
    build(root)
    build(root)  # the custom strategy appends every row again
    assert query(embedded_db(root), "select id, count(*) from inc group by id order by id") == [(1, 2), (2, 2)]


def test_a_project_macro_overrides_a_builtin_strategy(tmp_path: Path) -> None:
    root = incremental_project(tmp_path, "merge")
    (root / "macros" / "merge.sql").write_text(
        "{% macro get_incremental_merge_sql(arg_dict) %}"
        "insert into {{ arg_dict['target_relation'] }} select -1, 'overridden'"
        "{% endmacro %}"
    )
    build(root)
    build(root)
    assert query(embedded_db(root), "select count(*) from inc where name = 'overridden'") == [(1,)]


def test_unknown_strategy_fails_the_model_but_not_a_full_refresh(tmp_path: Path) -> None:
    root = incremental_project(tmp_path, "nope")
    build(root)  # first build: a plain table, the strategy is never consulted
    result = run_cli("run", cwd=root)
    assert result.exit_code == 1
    assert 'dbt could not find an incremental strategy macro with the name "get_incremental_nope_sql"' in result.output
    full = run_cli("run", "--full-refresh", cwd=root)
    assert full.exit_code == 0, full.output
    assert query(embedded_db(root), "select count(*) from inc") == [(2,)]


@pytest.mark.parametrize("materialized", ["my_table"])
def test_package_order_root_first(tmp_path: Path, materialized: str) -> None:
    """A materialization defined in the root project is found by its adapter-specific name first."""
    root = make_project(
        tmp_path / "demo",
        {
            **SEED,
            "macros/my_table.sql": MY_TABLE
            + MY_TABLE.replace("adapter='duckdb'", "default").replace("get_create_table_as_sql", "nope_not_called"),
            "models/m.sql": f"{{{{ config(materialized='{materialized}') }}}} select 1 as x",
        },
    )
    build(root)
    assert query(embedded_db(root), "select x from m") == [(1,)]
