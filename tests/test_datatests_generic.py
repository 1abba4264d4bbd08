"""Generic data tests from YAML: names and ids as dbt makes them, built-in tests failing where they should."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import embedded_db, query, run_cli

from modelkit.parse.testspecs import generic_test_unique_id, parse_entry, synthesize_names

ORDERS_SEED = """\
id,customer_id,status,amount
1,1,placed,10
2,1,shipped,
3,2,weird,5
3,9,placed,7
"""
CUSTOMERS_SEED = "id,name\n1,a\n2,b\n"


def shop(project_factory, schema_yml: str, extra: dict[str, str] | None = None) -> Path:
    files = {
        "seeds/raw_orders.csv": ORDERS_SEED,
        "seeds/raw_customers.csv": CUSTOMERS_SEED,
        "models/orders.sql": "select * from {{ ref('raw_orders') }}\n",
        "models/customers.sql": "select * from {{ ref('raw_customers') }}\n",
        "models/schema.yml": schema_yml,
    }
    files.update(extra or {})
    return project_factory(files)


def lines_with(output: str, needle: str) -> list[str]:
    return [line for line in output.splitlines() if needle in line]


# -- naming, as verified against dbt-core 1.11 -------------------------------------------------
@pytest.mark.parametrize(
    ("test_type", "target", "args", "name"),
    [
        ("not_null", "orders", {"column_name": "id", "model": "x"}, "not_null_orders_id"),
        (
            "accepted_values",
            "orders",
            {"column_name": "status", "values": ["placed", "shipped"], "model": "x"},
            "accepted_values_orders_status__placed__shipped",
        ),
        (
            "relationships",
            "orders",
            {"column_name": "customer_id", "to": "ref('customers')", "field": "id"},
            "relationships_orders_customer_id__id__ref_customers_",
        ),
        ("source_not_null", "raw_orders", {"column_name": "id"}, "source_not_null_raw_orders_id"),
    ],
)
def test_synthesized_names(test_type: str, target: str, args: dict, name: str) -> None:
    assert synthesize_names(test_type, target, args) == (name, name)


def test_long_names_get_a_hashed_alias() -> None:
    values = ["placed", "shipped", "completed", "return_pending", "returned", "something_very_long"]
    short, full = synthesize_names("accepted_values", "orders", {"column_name": "status", "values": values})
    assert (
        full
        == "accepted_values_orders_status__placed__shipped__completed__return_pending__returned__something_very_long"
    )
    assert short == "accepted_values_orders_9477a4a3f37b331b064df73a78a00e4e"


def test_unique_id_hash_matches_dbt() -> None:
    kwargs = {"column_name": "id", "model": "{{ get_where_subquery(ref('orders')) }}"}
    meta = {"name": "unique", "kwargs": kwargs, "namespace": None}
    assert generic_test_unique_id("demo", "unique_orders_id", meta) == "test.demo.unique_orders_id.1360ecc70e"


@pytest.mark.parametrize(
    ("raw", "name", "args", "config"),
    [
        ("unique", "unique", {}, {}),
        ({"not_null": None}, "not_null", {}, {}),
        (
            {"accepted_values": {"values": [1], "severity": "warn"}},
            "accepted_values",
            {"values": [1]},
            {"severity": "warn"},
        ),
        (
            {"accepted_values": {"arguments": {"values": [1]}, "config": {"where": "x > 1"}}},
            "accepted_values",
            {"values": [1]},
            {"where": "x > 1"},
        ),
        ({"test_name": "unique", "name": "my_unique", "tags": ["t"]}, "unique", {}, {"tags": ["t"]}),
    ],
)
def test_entry_forms(raw: object, name: str, args: dict, config: dict) -> None:
    spec = parse_entry(raw, "here")
    assert (spec.name, spec.args, spec.config) == (name, args, config)


def test_namespaced_entry() -> None:
    spec = parse_entry({"dbt_utils.expression_is_true": {"expression": "a > 0"}}, "here")
    assert (spec.namespace, spec.name, spec.args) == ("dbt_utils", "expression_is_true", {"expression": "a > 0"})


# -- failing fixture projects -------------------------------------------------------------------
FAILING = """
models:
  - name: orders
    columns:
      - name: id
        data_tests: [unique, not_null]
      - name: amount
        data_tests: [not_null]
      - name: status
        data_tests:
          - accepted_values:
              arguments:
                values: ['placed', 'shipped']
      - name: customer_id
        data_tests:
          - relationships:
              arguments:
                to: ref('customers')
                field: id
"""


def test_each_builtin_test_fails_on_its_bad_row(project_factory) -> None:
    root = shop(project_factory, FAILING)
    assert run_cli("seed", cwd=root).exit_code == 0
    assert run_cli("run", cwd=root).exit_code == 0
    result = run_cli("test", "--threads", "1", cwd=root)
    assert result.exit_code == 1, result.output
    out = result.output
    assert " [FAIL 1 in " in lines_with(out, "FAIL 1 unique_orders_id ")[0]
    assert "PASS not_null_orders_id " in out
    assert "FAIL 1 not_null_orders_amount " in out
    assert "FAIL 1 accepted_values_orders_status__placed__shipped " in out
    assert "FAIL 1 relationships_orders_customer_id__id__ref_customers_ " in out
    assert "Completed with 4 errors, 0 partial successes, and 0 warnings:" in out
    assert "Failure in test unique_orders_id (models/schema.yml)" in out
    assert "  Got 1 result, configured to fail if != 0" in out
    assert "  compiled code at target/compiled/demo/models/schema.yml/unique_orders_id.sql" in out
    assert "Done. PASS=1 WARN=0 ERROR=4 SKIP=0 NO-OP=0 TOTAL=5" in out
    compiled = (root / "target/compiled/demo/models/schema.yml/unique_orders_id.sql").read_text()
    assert 'from "demo"."main"."orders"' in compiled and "having count(*) > 1" in compiled


def test_run_results_and_manifest_for_tests(project_factory) -> None:
    root = shop(project_factory, FAILING)
    run_cli("seed", cwd=root)
    run_cli("run", cwd=root)
    run_cli("test", cwd=root)
    results = {r["unique_id"]: r for r in json.loads((root / "target/run_results.json").read_text())["results"]}
    unique = results["test.demo.unique_orders_id.1360ecc70e"]
    assert (unique["status"], unique["failures"]) == ("fail", 1)
    assert unique["message"] == "Got 1 result, configured to fail if != 0"
    assert "compiled_path" not in unique  # not in dbt's run_results schema; the file is where dbt puts it
    assert (root / "target/compiled/demo/models/schema.yml/unique_orders_id.sql").is_file()
    not_null_id = next(r for uid, r in results.items() if uid.startswith("test.demo.not_null_orders_id."))
    assert (not_null_id["status"], not_null_id["failures"], not_null_id["message"]) == ("pass", 0, None)
    nodes = json.loads((root / "target/manifest.json").read_text())["nodes"]
    node = nodes["test.demo.relationships_orders_customer_id__id__ref_customers_.4282b0c525"]
    assert node["test_metadata"]["kwargs"]["to"] == "ref('customers')"
    assert node["attached_node"] == "model.demo.orders"
    assert node["column_name"] == "customer_id"
    assert node["schema"] == "main_dbt_test__audit"
    assert node["depends_on"]["nodes"] == ["model.demo.customers", "model.demo.orders"] or sorted(
        node["depends_on"]["nodes"]
    ) == ["model.demo.customers", "model.demo.orders"]


def test_legacy_tests_key_source_and_seed_tests(project_factory) -> None:
    schema = """
    seeds:
      - name: raw_customers
        columns:
          - name: id
            tests: [unique]
    sources:
      - name: raw
        schema: main
        tables:
          - name: raw_orders
            columns:
              - name: id
                tests: [unique, not_null]
    """
    root = shop(project_factory, schema)
    run_cli("seed", cwd=root)
    result = run_cli("test", cwd=root)
    assert "PASS unique_raw_customers_id " in result.output
    assert "FAIL 1 source_unique_raw_raw_orders_id " in result.output
    assert "PASS source_not_null_raw_raw_orders_id " in result.output
    assert result.exit_code == 1


def test_quote_false_accepted_values_on_numbers(project_factory) -> None:
    schema = """
    models:
      - name: customers
        columns:
          - name: id
            data_tests:
              - accepted_values:
                  values: [1, 2]
                  quote: false
              - accepted_values:
                  name: only_one
                  values: [1]
                  quote: false
    """
    root = shop(project_factory, schema)
    run_cli("seed", cwd=root)
    run_cli("run", cwd=root)
    out = run_cli("test", cwd=root).output
    assert "PASS accepted_values_customers_id__False__1__2 " in out
    assert "FAIL 1 only_one " in out
    compiled = (root / "target/compiled/demo/models/schema.yml/only_one.sql").read_text()
    assert "not in (\n    1\n)" in compiled


def test_unknown_test_is_a_project_error(project_factory) -> None:
    schema = """
    models:
      - name: orders
        columns:
          - name: id
            data_tests: [uniqe]
    """
    root = shop(project_factory, schema)
    result = run_cli("test", cwd=root)
    assert result.exit_code == 2
    assert "Test 'uniqe' is not defined" in result.output
    assert "Did you mean 'unique'?" in result.output
    assert "models/schema.yml:5" in result.output
    assert "Traceback" not in result.output


def test_bad_severity_is_a_project_error(project_factory) -> None:
    schema = """
    models:
      - name: orders
        columns:
          - name: id
            data_tests:
              - unique: {config: {severity: loud}}
    """
    result = run_cli("test", cwd=shop(project_factory, schema))
    assert result.exit_code == 2
    assert "severity 'loud'; it must be 'error' or 'warn'" in result.output


def test_a_failing_test_query_is_an_error(project_factory) -> None:
    schema = """
    models:
      - name: orders
        columns:
          - name: no_such_column
            data_tests: [not_null]
    """
    root = shop(project_factory, schema)
    run_cli("seed", cwd=root)
    run_cli("run", cwd=root)
    result = run_cli("test", cwd=root)
    assert result.exit_code == 1
    assert "ERROR not_null_orders_no_such_column " in result.output
    assert "Runtime Error in test not_null_orders_no_such_column (models/schema.yml)" in result.output
    db = embedded_db(root)
    assert query(db, "select count(*) from main.orders") == [(4,)]
