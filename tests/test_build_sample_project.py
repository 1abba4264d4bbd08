"""`modelkit build` on the bundled sample project: every kind of test, exit 0."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import SAMPLE_PROJECT, query, run_cli


def test_sample_project_builds_with_every_kind_of_test(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target"))
    result = run_cli("build", "--threads", "1", cwd=root)
    out = result.output
    assert result.exit_code == 0, out
    assert "Found 7 models, 1 analysis, 21 data tests, 3 seeds, 1 snapshot, 2 sources," in out
    assert (
        "Finished running 1 incremental model, 3 seeds, 1 snapshot, 2 table models, 21 data tests, 2 unit tests, 3 view models"
        in out
    )
    assert "Done. PASS=32 WARN=1 ERROR=0 SKIP=0 NO-OP=0 TOTAL=33" in out
    for line in (
        "PASS unique_raw_customers_id",  # seed test
        "PASS source_unique_shop_raw_orders_id",  # source test
        "PASS accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned",
        "WARN 1 positive_stg_payments_amount",  # custom generic test, severity warn
        "PASS relationships_orders_customer_id__customer_id__ref_customers_",
        "PASS assert_order_amounts_add_up",  # singular test
        "PASS customers::lifetime_value_sums_all_orders",  # unit tests
        "PASS orders::orders_without_payments_have_zero_amount",
        "OK created sql table model main.customers",  # contracted model
    ):
        assert line in out, line
    # seeds, then models, with tests interleaved: the model's unit test before it, its data tests after it
    lines = out.splitlines()

    def at(needle: str) -> int:
        return next(i for i, line in enumerate(lines) if needle in line and "START" not in line)

    assert at("OK loaded seed file main.raw_orders") < at("PASS source_unique_shop_raw_orders_id")
    assert at("PASS source_unique_shop_raw_orders_id") < at("OK created sql view model main.stg_orders")
    assert at("PASS customers::lifetime_value_sums_all_orders") < at("OK created sql table model main.customers")
    assert at("OK created sql table model main.customers") < at("PASS unique_customers_customer_id")
    db = root / "target" / "shop.duckdb"
    columns = query(db, "select column_name from information_schema.columns where table_name = 'customers'")
    assert [c[0] for c in columns][:3] == ["customer_id", "first_name", "last_name"]
    audit = "relationships_orders_customer_id__customer_id__ref_customers_"
    assert query(db, f'select count(*) from "main_dbt_test__audit"."{audit}"') == [(0,)]
    statuses = [r["status"] for r in json.loads((root / "target/run_results.json").read_text())["results"]]
    assert sorted(set(statuses)) == ["pass", "success", "warn"]
