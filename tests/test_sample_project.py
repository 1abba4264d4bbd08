"""The bundled sample project builds end to end, through the CLI and through the Python API."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import SAMPLE_PROJECT, query, run_cli

from modelkit import Project


def copy_sample(tmp_path: Path) -> Path:
    dest = tmp_path / "sample"
    shutil.copytree(SAMPLE_PROJECT, dest, ignore=shutil.ignore_patterns("target"))
    return dest


def test_seed_and_run_through_cli(tmp_path: Path) -> None:
    root = copy_sample(tmp_path)
    seeded = run_cli("seed", cwd=root)
    assert seeded.exit_code == 0, seeded.output
    assert "OK loaded seed file main.raw_orders" in seeded.output
    ran = run_cli("run", cwd=root)
    assert ran.exit_code == 0, ran.output
    assert "OK created sql table model main.customers" in ran.output
    assert "Done. PASS=6 WARN=0 ERROR=0 SKIP=0" in ran.output
    db = root / "target" / "shop.duckdb"
    assert query(db, "select count(*) from main.customers") == [(8,)]
    # lifetime value of customer 1: orders 1, 4 and 11 -> (1000 + 2500 + 500 + 300) cents
    assert query(db, "select lifetime_value from main.customers where customer_id = 1") == [(43.0,)]
    kinds = dict(query(db, "select table_name, table_type from information_schema.tables where table_schema = 'main'"))
    assert kinds["stg_orders"] == "VIEW" and kinds["orders"] == "BASE TABLE"
    assert "int_order_payments" not in kinds  # ephemeral: never built


def test_python_api(tmp_path: Path) -> None:
    project = Project(copy_sample(tmp_path))
    assert project.seed().success
    result = project.run(select=["+orders"])
    assert result.success
    assert {r.unique_id for r in result.results} == {
        "model.shop.stg_orders",
        "model.shop.stg_payments",
        "model.shop.orders",
    }
    columns, rows = project.show("select count(*) as n from {{ ref('orders') }}")
    assert columns == ["n"] and rows == [(12,)]
