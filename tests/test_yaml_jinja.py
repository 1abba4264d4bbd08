"""Jinja in dbt_project.yml and property files, rendered as dbt renders it; YAML entries naming no node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import query, run_cli, write_files

from modelkit.api.project import Project
from modelkit.core.errors import CompilationError
from modelkit.project.rendering import render_native

PROFILES = """
    demo:
      target: dev
      outputs:
        dev: {type: duckdb, path: dev.duckdb, schema: main}
        prod: {type: duckdb, path: prod.duckdb, schema: analytics}
"""


def dbt_project(tmp_path: Path, files: dict[str, str], project_yml: str) -> Path:
    root = tmp_path / "demo"
    write_files(root, {"dbt_project.yml": "name: demo\nprofile: demo\n" + project_yml, "profiles.yml": PROFILES})
    return write_files(root, files)


def manifest(root: Path) -> dict:
    return json.loads((root / "target" / "manifest.json").read_text())


def relations(db: Path) -> set[tuple[str, str, str]]:
    rows = query(db, "select table_schema, table_name, table_type from information_schema.tables")
    return {(s, t, "view" if kind == "VIEW" else "table") for s, t, kind in rows}


# -- native rendering --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ target.type != 'bigquery' }}", True),
        ("{{ target.type == 'bigquery' }}", False),
        ("{{ 'warn' if target.type == 'spark' else 'error' }}", "error"),
        ("main_{{ target.type }}", "main_duckdb"),
        ("plain text", "plain text"),
        ("{{ '5' | as_number }}", 5),
        ("{{ (target.type == 'duckdb') | as_bool }}", True),
        ("{{ [1, 2] | join(',') | as_text }}", "1,2"),
        ("{{ target.threads }}", 4),
    ],
)
def test_values_render_natively(text: str, expected: object) -> None:
    assert render_native(text, {"target": {"type": "duckdb", "threads": 4}}) == expected


def test_a_bad_template_names_the_value() -> None:
    with pytest.raises(CompilationError, match=r"Could not render \{\{ nope.x \}\}: 'nope' is undefined"):
        render_native("{{ nope.x }}", {})


# -- dbt_project.yml ---------------------------------------------------------------------------
PROJECT_CONFIGS = """
models:
  demo:
    +materialized: "{{ 'table' if target.name == 'prod' else 'view' }}"
    +tags: ["{{ target.type }}", "{{ var('extra_tag', 'none') }}"]
    gated:
      +enabled: "{{ target.name == 'prod' }}"
    marts:
      +schema: "{{ target.name }}_marts"
      +post-hook: "create or replace table {{ this.schema }}.hook_saw as select '{{ this.identifier }}' as seen"
seeds:
  demo:
    +enabled: "{{ env_var('MK_SEEDS_ON', 'yes') == 'yes' }}"
"""

PROJECT_FILES = {
    "models/a.sql": "select 1 as id",
    "models/gated/g.sql": "select 2 as id",
    "models/marts/m.sql": "select * from {{ ref('a') }}",
    "seeds/s.csv": "id\n1\n",
}


def test_project_configs_see_target_var_and_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MK_SEEDS_ON", raising=False)
    root = dbt_project(tmp_path, PROJECT_FILES, PROJECT_CONFIGS)
    result = run_cli("build", "--profiles-dir", str(root), "--vars", "{extra_tag: nightly}", cwd=root)
    assert result.exit_code == 0, result.output
    assert relations(root / "dev.duckdb") == {
        ("main", "a", "view"),
        ("main_dev_marts", "m", "view"),
        ("main_dev_marts", "hook_saw", "table"),
        ("main", "s", "table"),
    }
    assert query(root / "dev.duckdb", "select seen from main_dev_marts.hook_saw") == [("m",)]
    nodes = manifest(root)["nodes"]
    assert nodes["model.demo.a"]["config"]["tags"] == ["duckdb", "nightly"]
    assert nodes["model.demo.a"]["config"]["materialized"] == "view"
    # hooks stay unrendered until run time
    assert "{{ this.schema }}" in json.dumps(nodes["model.demo.m"]["config"]["post-hook"])
    assert "model.demo.g" in manifest(root)["disabled"]

    result = run_cli("run", "--profiles-dir", str(root), "-t", "prod", cwd=root)
    assert result.exit_code == 0, result.output
    assert relations(root / "prod.duckdb") >= {
        ("analytics", "a", "table"),
        ("analytics", "g", "table"),
        ("analytics_prod_marts", "m", "table"),
    }


def test_project_configs_env_var_turns_seeds_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MK_SEEDS_ON", "no")
    root = dbt_project(tmp_path, PROJECT_FILES, PROJECT_CONFIGS)
    assert Project(root, profiles_dir=root).parse().disabled.keys() >= {"seed.demo.s", "model.demo.g"}


def test_project_vars_may_use_target(tmp_path: Path) -> None:
    root = dbt_project(
        tmp_path,
        {"models/a.sql": "select '{{ var('where') }}' as w, {{ var('n') }} as n"},
        'vars:\n  where: "{{ target.name }}-{{ target.schema }}"\n  n: 3\n',
    )
    compiled = Project(root, profiles_dir=root, target="prod").compile(select=["a"])["model.demo.a"]
    assert compiled == "select 'prod-analytics' as w, 3 as n"


def test_a_bad_project_value_is_a_clear_error(tmp_path: Path) -> None:
    root = dbt_project(tmp_path, {"models/a.sql": "select 1 as id"}, 'models:\n  +schema: "{{ nope.x }}"\n')
    result = run_cli("parse", "--profiles-dir", str(root), cwd=root)
    assert result.exit_code == 2
    assert "Could not render {{ nope.x }}: 'nope' is undefined" in result.output
    assert "dbt_project.yml" in result.output


# -- property files ----------------------------------------------------------------------------
SCHEMA = """
sources:
  - name: raw
    schema: "{{ target.schema }}"
    meta: {owner: "{{ target.name }}"}
    tags: ["{{ target.type }}"]
    tables:
      - name: events
        identifier: "{{ var('events_table', 'ev') }}"
        loaded_at_field: "{{ 'at' }}"
        description: "Events from {{ target.name }}"
models:
  - name: orders
    config:
      materialized: "{{ 'table' if target.name == 'dev' else 'view' }}"
      meta: {env: "{{ env_var('MK_YAML_ENV', 'local') }}"}
    columns:
      - name: id
        data_tests:
          - not_null:
              config:
                severity: "{{ 'warn' if target.type == 'duckdb' else 'error' }}"
          - unique:
              config:
                where: "id > {{ var('min_id', 0) }}"
                enabled: "{{ target.name != 'ci' }}"
          - relationships:
              arguments:
                to: "{{ ref('customers') }}"
                field: id
              config:
                severity: "{{ 'warn' }}"
  - name: customers
    columns:
      - name: id
        data_tests:
          - accepted_values:
              arguments:
                values: "{{ var('ids', [1, 2]) }}"
              config:
                limit: "{{ var('lim', 20) }}"
"""


def test_property_files_render_configs_sources_and_test_configs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MK_YAML_ENV", "ci-box")
    files = {
        "models/orders.sql": "select * from (values (1), (null), (5)) t(id)",
        "models/customers.sql": "select * from {{ source('raw', 'events') }}",
        "models/schema.yml": SCHEMA,
        "macros/setup.sql": "{% macro setup() %}create table if not exists ev as select 1 as id{% endmacro %}",
    }
    root = dbt_project(tmp_path, files, 'on-run-start: ["{{ setup() }}"]\n')
    result = run_cli("build", "--profiles-dir", str(root), cwd=root)
    assert result.exit_code == 0, result.output
    assert "WARN 1 not_null_orders_id" in result.output
    assert "PASS unique_orders_id" in result.output
    assert "WARN 1 relationships_orders_id__id___ref_customers_" in result.output
    assert "PASS accepted_values_customers_id___var_ids_1_2_" in result.output
    data = manifest(root)
    source = data["sources"]["source.demo.raw.events"]
    assert (source["schema"], source["identifier"], source["loaded_at_field"]) == ("main", "ev", "at")
    assert source["meta"] == {"owner": "dev"} and source["tags"] == ["duckdb"]
    assert source["description"] == "Events from dev"  # rendered after parsing, with doc() in context
    orders = data["nodes"]["model.demo.orders"]
    assert orders["config"]["materialized"] == "table"
    assert orders["config"]["meta"] == {"env": "ci-box"}
    tests = {n["name"]: n for n in data["nodes"].values() if n["resource_type"] == "test"}
    assert tests["not_null_orders_id"]["config"]["severity"] == "warn"
    assert tests["unique_orders_id"]["config"]["where"] == "id > 0"
    assert tests["unique_orders_id"]["config"]["enabled"] is True
    assert tests["accepted_values_customers_id___var_ids_1_2_"]["config"]["limit"] == 20
    relationships = tests["relationships_orders_id__id___ref_customers_"]
    assert relationships["config"]["severity"] == "warn"
    # test arguments stay as written: they render at execution
    assert relationships["test_metadata"]["kwargs"]["to"] == "{{ ref('customers') }}"
    assert relationships["depends_on"]["nodes"] == ["model.demo.customers", "model.demo.orders"]


def test_unique_with_a_rendered_where_fails_on_the_duplicate(tmp_path: Path) -> None:
    files = {
        "models/orders.sql": "select * from (values (1), (1), (5)) t(id)",
        "models/schema.yml": """
            models:
              - name: orders
                columns:
                  - name: id
                    data_tests:
                      - unique:
                          config:
                            where: "id < {{ var('max_id') }}"
        """,
    }
    root = dbt_project(tmp_path, files, "")
    result = run_cli("build", "--profiles-dir", str(root), "--vars", "{max_id: 3}", cwd=root)
    assert result.exit_code == 1
    assert "FAIL 1 unique_orders_id" in result.output
    result = run_cli("build", "--profiles-dir", str(root), "--vars", "{max_id: 1}", cwd=root)
    assert result.exit_code == 0, result.output


def test_a_test_can_be_disabled_by_target(tmp_path: Path) -> None:
    files = {
        "models/orders.sql": "select null as id",
        "models/schema.yml": """
            models:
              - name: orders
                columns:
                  - name: id
                    data_tests:
                      - not_null:
                          config:
                            enabled: "{{ target.name == 'prod' }}"
        """,
    }
    root = dbt_project(tmp_path, files, "")
    assert run_cli("build", "--profiles-dir", str(root), cwd=root).exit_code == 0
    assert run_cli("build", "--profiles-dir", str(root), "-t", "prod", cwd=root).exit_code == 1


def test_a_missing_env_var_in_yaml_is_a_parsing_error(tmp_path: Path) -> None:
    files = {
        "models/a.sql": "select 1 as id",
        "models/schema.yml": "models:\n  - name: a\n    config:\n      schema: \"{{ env_var('MK_NOT_SET_ANYWHERE') }}\"\n",
    }
    root = dbt_project(tmp_path, files, "")
    result = run_cli("parse", "--profiles-dir", str(root), cwd=root)
    assert result.exit_code == 2
    assert "Env var required but not provided: 'MK_NOT_SET_ANYWHERE'" in result.output
    assert "models/schema.yml" in result.output


def test_a_bad_yaml_value_names_file_and_line(tmp_path: Path) -> None:
    files = {
        "models/a.sql": "select 1 as id",
        "models/schema.yml": 'models:\n  - name: a\n    config:\n      alias: "{{ nope.x }}"\n',
    }
    root = dbt_project(tmp_path, files, "")
    result = run_cli("parse", "--profiles-dir", str(root), cwd=root)
    assert result.exit_code == 2
    assert "models/schema.yml:4" in result.output
    assert "Could not render {{ nope.x }}: 'nope' is undefined" in result.output


def test_descriptions_and_hooks_are_left_for_later(tmp_path: Path) -> None:
    files = {
        "models/a.sql": "select 1 as id",
        "models/docs.md": "{% docs a_doc %}The A model.{% enddocs %}",
        "models/schema.yml": """
            models:
              - name: a
                description: "{{ doc('a_doc') }}"
                config:
                  post_hook: "create or replace table hooked as select '{{ this.identifier }}' as x"
                columns:
                  - name: id
                    description: "{{ doc('a_doc') }} Its id."
        """,
    }
    root = dbt_project(tmp_path, files, "")
    result = run_cli("run", "--profiles-dir", str(root), cwd=root)
    assert result.exit_code == 0, result.output
    node = manifest(root)["nodes"]["model.demo.a"]
    assert node["description"] == "The A model."
    assert node["columns"]["id"]["description"] == "The A model. Its id."
    assert query(root / "dev.duckdb", "select x from hooked") == [("a",)]


# -- entries naming no node ----------------------------------------------------------------------
def test_entries_naming_no_node_are_warnings(tmp_path: Path) -> None:
    files = {
        "models/a.sql": "select 1 as id",
        "seeds/s.csv": "id\n1\n2\n",
        "models/schema.yml": """
            models:
              - name: a
              - name: misspelled
                columns:
                  - name: id
                    data_tests: [not_null]
              - name: s
                columns:
                  - name: id
                    data_tests: [unique]
            seeds:
              - name: a
        """,
    }
    root = dbt_project(tmp_path, files, "")
    result = run_cli("build", "--profiles-dir", str(root), cwd=root)
    assert result.exit_code == 0, result.output
    out = result.output
    assert (
        "[WARNING]: Did not find matching node for patch with name 'misspelled' in the 'models' section of "
        "file 'models/schema.yml'"
    ) in out
    assert (
        "[WARNING]: 's' is a seed node, but it is specified in the models section of\n"
        "models/schema.yml. To fix this error, place the `s` specification under the\nseeds key instead."
    ) in out
    assert "[WARNING]: 'a' is a model node, but it is specified in the seeds section of" in out
    assert (
        "[WARNING]: Test 'test.demo.not_null_misspelled_id.d57939bd04' (models/schema.yml) depends on a node "
        "named 'misspelled' in package '' which was not found"
    ) in out
    # the tests of an entry naming a seed under models: test the seed
    assert "PASS unique_s_id" in out
    data = manifest(root)
    unique = data["nodes"]["test.demo.unique_s_id.e73c5b8c04"]
    assert unique["attached_node"] == "seed.demo.s"
    assert unique["file_key_name"] == "models.s"
    assert "test.demo.not_null_misspelled_id.d57939bd04" in data["disabled"]
    found = next(line for line in out.splitlines() if "Found " in line)
    assert "1 model" in found and "1 seed" in found and "test" in found  # the orphan test is not counted


def test_tests_of_a_disabled_model_are_disabled_quietly(tmp_path: Path) -> None:
    files = {
        "models/a.sql": "{{ config(enabled=false) }}select 1 as id",
        "models/schema.yml": "models:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [not_null]\n",
    }
    root = dbt_project(tmp_path, files, "")
    logged: list[str] = []
    parsed = Project(root, profiles_dir=root, log=logged.append).parse()
    assert logged == []
    assert not [n for n in parsed.nodes.values() if n.resource_type == "test"]
    assert any(uid.startswith("test.demo.not_null_a_id.") for uid in parsed.disabled)
