"""`modelkit test` runs data tests in batches (one union-all statement each); results match unbatched runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import embedded_db, make_project, query, run_cli

from modelkit.adapters.duckdb import DuckDBAdapter
from modelkit.api.executors import make_runner
from modelkit.api.project import Project
from modelkit.execute.runplan import RunOptions
from modelkit.testing.batch import BATCH_SIZE, plan
from modelkit.testing.datatests import wrap_test_sql

SEEDS = {
    # id 3 twice, one null amount, customer 9 unknown, two statuses outside placed/shipped
    "seeds/raw_orders.csv": "id,customer_id,status,amount\n1,1,placed,10.5\n2,2,shipped,\n3,9,weird,5.25\n3,1,odd,7\n",
    "seeds/customers.csv": "id\n1\n2\n",
    "models/orders.sql": """
        select id, customer_id, status, amount,
               cast(amount as decimal(10, 2)) as amount_dec, cast(id as decimal(10, 2)) as id_dec
        from {{ ref('raw_orders') }}
    """,
}

SCHEMA = """
models:
  - name: orders
    columns:
      - name: id
        data_tests: [not_null, unique]
      - name: amount
        data_tests:
          - not_null
          - not_null:
              name: amount_filled_when_placed
              config: {where: "status = 'placed'"}
      - name: customer_id
        data_tests:
          - relationships:
              arguments: {to: ref('customers'), field: id}
      - name: status
        data_tests:
          - accepted_values:
              arguments: {values: [placed, shipped]}
          - accepted_values:
              name: statuses_warn_over_one
              arguments: {values: [placed, shipped]}
              config: {warn_if: ">1", error_if: ">5"}
          - accepted_values:
              name: statuses_fail_from_two
              arguments: {values: [placed, shipped]}
              config: {error_if: ">=2"}
          - accepted_values:
              name: statuses_pass_under_five
              arguments: {values: [placed, shipped]}
              config: {warn_if: ">5", error_if: ">5"}
          - accepted_values:
              name: statuses_limited
              arguments: {values: [placed]}
              config: {limit: 1}
          - accepted_values:
              name: statuses_severity_warn
              arguments: {values: [placed, shipped]}
              config: {severity: warn}
          - accepted_values:
              name: statuses_sum_records
              arguments: {values: [placed, shipped]}
              config: {fail_calc: "sum(n_records)"}
          - accepted_values:
              name: statuses_not_aggregated
              arguments: {values: [placed, shipped]}
              config: {fail_calc: "1"}
          - accepted_values:
              name: statuses_stored
              arguments: {values: [placed, shipped]}
              config: {store_failures: true}
"""

BAD_ROWS = "select * from {{ ref('orders') }} where status not in ('placed', 'shipped')"
SINGULAR = {
    "tests/no_negative_amounts.sql": "select * from {{ ref('orders') }} where amount < 0\n",
    "tests/sum_double.sql": "{{ config(fail_calc='sum(amount)') }}\n" + BAD_ROWS,
    "tests/sum_decimal.sql": "{{ config(fail_calc='sum(amount_dec)') }}\n" + BAD_ROWS,
    "tests/sum_float.sql": "{{ config(fail_calc='sum(amount)::real') }}\n" + BAD_ROWS,  # read back alone
    "tests/sum_decimal_whole.sql": "{{ config(fail_calc='sum(id_dec)') }}\n" + BAD_ROWS,
    "tests/sum_of_nothing.sql": "{{ config(fail_calc='sum(amount)') }}\nselect * from {{ ref('orders') }} where false\n",
    "tests/missing_column.sql": "select * from {{ ref('orders') }} where no_such_column > 0\n",
    "tests/compile_error.sql": "select * from {{ ref('orders') }} where {{ no_such_macro() }}\n",
}

# test name -> (status, failures, start of the message)
EXPECTED: dict[str, tuple[str, Any, str | None]] = {
    "not_null_orders_id": ("pass", 0, None),
    "unique_orders_id": ("fail", 1, "Got 1 result, configured to fail if != 0"),
    "not_null_orders_amount": ("fail", 1, "Got 1 result"),
    "amount_filled_when_placed": ("pass", 0, None),
    "relationships_orders_customer_id__id__ref_customers_": ("fail", 1, "Got 1 result"),
    "accepted_values_orders_status__placed__shipped": ("fail", 2, "Got 2 results"),
    "statuses_warn_over_one": ("warn", 2, "Got 2 results, configured to warn if >1"),
    "statuses_fail_from_two": ("fail", 2, "Got 2 results, configured to fail if >=2"),
    "statuses_pass_under_five": ("pass", 0, None),
    "statuses_limited": ("fail", 1, "Got 1 result"),
    "statuses_severity_warn": ("warn", 2, "Got 2 results, configured to warn if != 0"),
    "statuses_sum_records": ("fail", 2, "Got 2 results"),
    "statuses_not_aggregated": ("fail", 1, "Got 1 result"),
    "statuses_stored": ("fail", 2, "Got 2 results"),
    "no_negative_amounts": ("pass", 0, None),
    "sum_double": ("fail", 12.25, "Got 12.25 results"),
    "sum_decimal": ("fail", 12.25, "Got 12.25 results"),
    "sum_float": ("fail", 12.25, "Got 12.25 results"),
    "sum_decimal_whole": ("fail", 6, "Got 6 results, configured to fail if != 0"),
    "sum_of_nothing": ("pass", 0, None),
    "missing_column": ("error", None, "Runtime Error in test missing_column (tests/missing_column.sql)"),
    "compile_error": ("error", None, "Compilation Error in test compile_error (tests/compile_error.sql"),
}
BROKEN = ("missing_column", "compile_error")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("batches") / "demo", {**SEEDS, **SINGULAR, "models/schema.yml": SCHEMA})
    assert run_cli("seed", cwd=root).exit_code == 0
    assert run_cli("run", cwd=root).exit_code == 0
    return root


def run_tests(root: Path, *, size: int | None = None, threads: int = 1, exclude: tuple[str, ...] = ()):
    """Results by test name, and the run's batches (None when nothing was batched)."""
    with Project(root).session("test") as session:
        runner = make_runner(session, RunOptions("test", exclude=exclude, threads=threads, test_batch_size=size))
        run = runner.execute()
    return {r.unique_id.split(".")[2]: r for r in run.results}, runner.executors["test"].batches


def shape(result: Any) -> tuple[Any, ...]:
    return (result.status, result.failures, result.message, result.compiled_path, result.compiled_code)


@pytest.mark.parametrize("threads", [1, 4])
def test_batched_results_match_unbatched_and_expected(shop: Path, threads: int) -> None:
    alone, none = run_tests(shop, size=1, threads=threads)
    batched, batches = run_tests(shop, threads=threads)
    assert none is None and batches is not None
    assert set(batched) == set(alone) == set(EXPECTED)
    for name, (status, failures, message) in EXPECTED.items():
        result = batched[name]
        assert shape(result) == shape(alone[name]), name
        assert (result.status, result.failures) == (status, failures), name
        assert type(result.failures) is type(failures), name  # 6, not 6.0 or Decimal('6.00')
        if message is None:
            assert result.message is None, name
        else:
            assert result.message is not None and result.message.startswith(message), (name, result.message)
    assert 'Referenced column "no_such_column" not found' in batched["missing_column"].message
    assert "'no_such_macro' is undefined" in batched["compile_error"].message
    assert batched["missing_column"].compiled_path == "target/compiled/demo/tests/missing_column.sql"
    assert not batches.covers(next(r.unique_id for n, r in batched.items() if n == "statuses_stored"))
    assert query(embedded_db(shop), "select count(*) from main_dbt_test__audit.statuses_stored") == [(2,)]


def test_one_statement_runs_the_whole_batch(shop: Path) -> None:
    results, batches = run_tests(shop, exclude=BROKEN)
    assert batches is not None
    # everything but the stored-failures test, in one batch run as one statement
    assert [len(b.uids) for b in batches.batches] == [len(EXPECTED) - len(BROKEN) - 1]
    assert batches.statements == 1
    for name, result in results.items():
        assert (result.status, result.failures) == EXPECTED[name][:2], name
        assert result.adapter_response == {"_message": "OK"}
        assert [t["name"] for t in result.timing] == ["compile", "execute"], name
        assert result.execution_time > 0


def test_a_failing_statement_runs_its_tests_alone(shop: Path) -> None:
    results, batches = run_tests(shop)  # missing_column breaks the statement of its batch
    assert batches is not None and batches.statements == 0
    assert {n: (r.status, r.failures) for n, r in results.items()} == {n: e[:2] for n, e in EXPECTED.items()}


@pytest.mark.parametrize("threads", [1, 4])
def test_several_batches_per_thread_count(shop: Path, threads: int) -> None:
    results, batches = run_tests(shop, size=3, threads=threads, exclude=BROKEN)
    assert batches is not None
    count = len(EXPECTED) - len(BROKEN) - 1
    sizes = [len(b.uids) for b in batches.batches]
    assert sum(sizes) == count and max(sizes) <= 3
    assert batches.statements == sum(1 for s in sizes if s > 1)  # a batch of one runs as usual
    assert {n: (r.status, r.failures) for n, r in results.items()} == {
        n: e[:2] for n, e in EXPECTED.items() if n not in BROKEN
    }


def test_cli_many_tests_same_statuses_with_one_and_four_threads(project_factory) -> None:
    tests = "\n".join(
        f"          - not_null: {{name: amount_above_{k}, config: {{where: 'id > {k}'}}}}" for k in range(60)
    )
    schema = f"models:\n  - name: orders\n    columns:\n      - name: amount\n        data_tests:\n{tests}\n"
    root = project_factory({**SEEDS, "models/schema.yml": schema})
    assert run_cli("seed", cwd=root).exit_code == 0
    assert run_cli("run", cwd=root).exit_code == 0
    statuses = {}
    for threads in ("1", "4"):
        result = run_cli("test", "--threads", threads, cwd=root)
        assert result.exit_code == 1, result.output  # amount is null for id 2
        assert "Done. PASS=58 WARN=0 ERROR=2 SKIP=0 NO-OP=0 TOTAL=60" in result.output
        data = json.loads((root / "target/run_results.json").read_text())
        statuses[threads] = {r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in data["results"]}
    expected = {f"amount_above_{k}": ("fail", 1) if k < 2 else ("pass", 0) for k in range(60)}
    assert statuses["1"] == statuses["4"] == expected
    assert 60 > BATCH_SIZE  # more tests than one batch


def test_cli_exit_code_zero_when_every_batched_test_passes(shop: Path) -> None:
    result = run_cli("test", "-s", "not_null_orders_id", "amount_filled_when_placed", "no_negative_amounts", cwd=shop)
    assert result.exit_code == 0, result.output
    assert "Done. PASS=3 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=3" in result.output


@pytest.mark.parametrize(
    ("count", "size", "threads", "expected"),
    [
        (5, 25, 1, [[0, 1, 2, 3, 4]]),
        (7, 3, 1, [[0, 1, 2], [3, 4, 5], [6]]),
        (6, 25, 2, [[0, 2, 4], [1, 3, 5]]),  # consecutive tests start different batches
        (10, 2, 2, [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]),
        (2, 25, 4, [[0], [1]]),
    ],
)
def test_plan_deals_tests_into_batches(count: int, size: int, threads: int, expected: list[list[int]]) -> None:
    assert plan(list(range(count)), size, threads) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "expression",
    [
        "count(*)",
        "sum(x)",  # hugeint
        "sum(x::double) / 3",
        "sum(x::decimal(12, 3)) / 4",
        "sum(x::decimal(12, 3))",
        "1e300 * 7",
        "9223372036854775807::bigint",
        "0.1::double + 0.2",
        "count(*) > 1",
        "null::double",
    ],
)
def test_values_survive_the_batch_unchanged(expression: str) -> None:
    con = duckdb.connect()
    try:
        sql = DuckDBAdapter.sql
        wrapped = wrap_test_sql(sql, f"select {expression} as v from range(5) t(x)", {"fail_calc": "max(v)"})
        direct = con.execute(wrapped).fetchall()[0]
        row = con.execute(sql.test_batch_branch(0, wrapped)).fetchall()[0]
    finally:
        con.close()
    carried = tuple(sql.decode_text(row[1 + 2 * i], row[2 + 2 * i]) for i in range(3))
    assert carried == direct
    assert [type(v) for v in carried] == [type(v) for v in direct]
