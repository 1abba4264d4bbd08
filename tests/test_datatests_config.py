"""Test configs (severity, where, thresholds, limit, enabled, tags, name/alias, store_failures) and custom tests."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import embedded_db, query, run_cli

# four rows; ids 3 and 3 collide, amount has one null
SEED = "id,status,amount\n1,placed,10\n2,shipped,\n3,weird,5\n3,odd,7\n"


def project(project_factory, schema_yml: str, extra: dict[str, str] | None = None, project_yml: str = "") -> Path:
    files = {
        "seeds/raw_orders.csv": SEED,
        "models/orders.sql": "select * from {{ ref('raw_orders') }}\n",
        "models/schema.yml": schema_yml,
    }
    if project_yml:
        files["modelkit.yml"] = "name: demo\n" + project_yml
    files.update(extra or {})
    root = project_factory(files)
    assert run_cli("seed", cwd=root).exit_code == 0
    assert run_cli("run", cwd=root).exit_code == 0
    return root


def results(root: Path) -> dict[str, dict]:
    data = json.loads((root / "target/run_results.json").read_text())
    return {r["unique_id"].split(".")[2]: r for r in data["results"]}


def test_severity_warn_warns_and_exits_zero(project_factory) -> None:
    schema = """
    models:
      - name: orders
        columns:
          - name: amount
            data_tests:
              - not_null:
                  config:
                    severity: warn
    """
    root = project(project_factory, schema)
    result = run_cli("test", cwd=root)
    assert result.exit_code == 0, result.output
    assert "WARN 1 not_null_orders_amount " in result.output
    assert "[WARN 1 in " in result.output
    assert "Completed with 1 warning:" in result.output
    assert "Warning in test not_null_orders_amount (models/schema.yml)" in result.output
    assert "Got 1 result, configured to warn if != 0" in result.output
    assert "Done. PASS=0 WARN=1 ERROR=0 SKIP=0" in result.output
    assert results(root)["not_null_orders_amount"]["status"] == "warn"


def test_where_thresholds_and_limit(project_factory) -> None:
    schema = """
    models:
      - name: orders
        columns:
          - name: amount
            data_tests:
              - not_null:
                  name: amount_filled_when_placed
                  config: {where: "status = 'placed'"}
          - name: status
            data_tests:
              - accepted_values:
                  name: two_bad_statuses_warn
                  arguments: {values: [placed, shipped]}
                  config: {warn_if: ">1", error_if: ">5"}
              - accepted_values:
                  name: two_bad_statuses_fail
                  arguments: {values: [placed, shipped]}
                  config: {error_if: ">=2"}
              - accepted_values:
                  name: limited_to_one
                  values: [placed]
                  limit: 1
    """
    root = project(project_factory, schema)
    out = run_cli("test", cwd=root).output
    assert "PASS amount_filled_when_placed " in out
    assert "WARN 2 two_bad_statuses_warn " in out
    assert "FAIL 2 two_bad_statuses_fail " in out
    assert "Got 2 results, configured to fail if >=2" in out
    assert "FAIL 1 limited_to_one " in out  # three bad statuses, counted up to the limit
    compiled = (root / "target/compiled/demo/models/schema.yml/amount_filled_when_placed.sql").read_text()
    assert '(select * from "demo"."main"."orders" where status = \'placed\') dbt_subquery' in compiled


def test_enabled_tags_and_selection(project_factory) -> None:
    schema = """
    models:
      - name: orders
        columns:
          - name: id
            tags: [keys]
            data_tests:
              - unique
              - not_null: {config: {enabled: false}}
          - name: amount
            data_tests:
              - not_null: {config: {tags: [money]}}
    """
    root = project(project_factory, schema)
    everything = run_cli("test", cwd=root).output
    assert "not_null_orders_id" not in everything  # disabled
    assert "Found 1 model, 2 data tests, 1 seed" in everything
    money = run_cli("test", "-s", "tag:money", cwd=root).output
    assert "FAIL 1 not_null_orders_amount " in money and "unique_orders_id" not in money
    keys = run_cli("test", "-s", "tag:keys", cwd=root).output  # column tags reach the column's tests
    assert "FAIL 1 unique_orders_id " in keys and "not_null_orders_amount" not in keys
    by_name = run_cli("test", "-s", "unique_orders_id", cwd=root)
    assert "1 of 1 FAIL 1 unique_orders_id " in by_name.output
    assert by_name.exit_code == 1
    excluded = run_cli("test", "--exclude", "orders", cwd=root)
    assert "Nothing to do" in excluded.output and excluded.exit_code == 0


def test_project_config_tree_for_tests(project_factory) -> None:
    schema = """
    models:
      - name: orders
        columns:
          - name: id
            data_tests: [unique]
    """
    root = project(project_factory, schema, project_yml="data_tests:\n  demo:\n    +severity: warn\n")
    result = run_cli("test", cwd=root)
    assert "WARN 1 unique_orders_id " in result.output
    assert result.exit_code == 0


def test_name_and_alias_overrides_and_store_failures(project_factory) -> None:
    schema = """
    models:
      - name: orders
        columns:
          - name: id
            data_tests:
              - unique:
                  name: order_ids_are_unique
                  config:
                    alias: dup_orders
                    store_failures: true
          - name: status
            data_tests:
              - accepted_values:
                  values: [placed, shipped, weird, odd]
                  config: {store_failures: true}
    """
    root = project(project_factory, schema)
    result = run_cli("test", cwd=root)
    out = result.output
    assert "FAIL 1 order_ids_are_unique " in out
    assert "  See test failures:" in out
    assert '  select * from "demo"."main_dbt_test__audit"."dup_orders"' in out
    rows = query(embedded_db(root), 'select unique_field, n_records from "main_dbt_test__audit"."dup_orders"')
    assert rows == [(3, 2)]
    passing = "accepted_values_orders_status__placed__shipped__weird__odd"
    assert query(embedded_db(root), f'select count(*) from "main_dbt_test__audit"."{passing}"') == [(0,)]
    assert results(root)["order_ids_are_unique"]["relation_name"] == '"demo"."main_dbt_test__audit"."dup_orders"'


def test_custom_generic_tests_and_overriding_a_builtin(project_factory) -> None:
    schema = """
    models:
      - name: orders
        columns:
          - name: id
            data_tests:
              - is_even
              - at_most: {arguments: {value: 2}}
              - unique
    """
    extra = {
        "tests/generic/is_even.sql": """
            {% test is_even(model, column_name) %}
            {{ config(severity='warn') }}
            select * from {{ model }} where {{ column_name }} % 2 = 1
            {% endtest %}
        """,
        "macros/at_most.sql": """
            {% test at_most(model, column_name, value) %}
            select * from {{ model }} where {{ column_name }} > {{ value }}
            {% endtest %}
        """,
        # the project's own `unique` wins over the built-in one: here, nothing ever fails
        "macros/my_unique.sql": """
            {% test unique(model, column_name) %}
            select 1 as never where false
            {% endtest %}
        """,
    }
    root = project(project_factory, schema, extra)
    result = run_cli("test", cwd=root)
    out = result.output
    assert "WARN 3 is_even_orders_id " in out  # config() inside the test block sets severity
    assert "FAIL 2 at_most_orders_id__2 " in out
    assert "PASS unique_orders_id " in out
    assert result.exit_code == 1
